from django.db import models

from app.agenda.text import normalize

# PostgreSQL refuses btree index entries over ~2700 bytes; 600 characters stay under it even at
# 4 bytes a character, and catalogue entries are short, so nothing useful is cut.
SEARCH_TEXT_MAX_LENGTH = 600


class AgendaItem(models.Model):
    """One upcoming (or past) community event, mirrored from the agenda feed."""

    uid = models.CharField(max_length=255, unique=True, help_text="The event's id in the feed.")
    title = models.CharField(max_length=300)
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    location = models.CharField(max_length=300, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    description = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "uid"]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} {self.title}"


class CatalogueItem(models.Model):
    """A resource or talk recording members can search for."""

    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=300)
    summary = models.TextField(blank=True)
    tags = models.CharField(max_length=500, blank=True, help_text="Comma-separated, e.g. celery,python")
    url = models.URLField(max_length=1000, blank=True)
    # Written by save() only: the portable, case- and accent-free text that search matches against.
    search_text = models.CharField(max_length=SEARCH_TEXT_MAX_LENGTH, db_index=True, editable=False, default="")

    class Meta:
        ordering = ["title", "slug"]

    def __str__(self) -> str:
        return self.title

    def build_search_text(self) -> str:
        # Title and tags first, so a cut only ever drops the end of a long summary.
        return normalize(" ".join([self.title, self.tags, self.summary]))[:SEARCH_TEXT_MAX_LENGTH]

    def save(self, *args, **kwargs):
        self.search_text = self.build_search_text()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "search_text" not in update_fields:
            kwargs["update_fields"] = [*update_fields, "search_text"]
        super().save(*args, **kwargs)


class FeedStatus(models.Model):
    """Health of one agenda feed, kept by refresh_agenda and shown in the admin.

    Keyed by the feed URL with its query string and credentials removed, so no token is stored.
    """

    url = models.CharField(max_length=500, unique=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    item_count = models.PositiveIntegerField(default=0, help_text="Items stored by the last successful refresh.")

    class Meta:
        verbose_name_plural = "feed statuses"
        ordering = ["-last_attempt_at"]

    def __str__(self) -> str:
        return self.url
