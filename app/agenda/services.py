"""Writing the agenda: refresh it from the feed, and seed the sample content on a fresh install."""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from app.agenda.feeds import AgendaEntry, FeedError, fetch_feed, parse_feed, redact_url, scrub
from app.agenda.models import AgendaItem, CatalogueItem, FeedStatus

logger = logging.getLogger(__name__)

SAMPLE_DIR = Path(__file__).resolve().parent / "sample"
SAMPLE_AGENDA = SAMPLE_DIR / "agenda.json"
SAMPLE_CATALOGUE = SAMPLE_DIR / "catalogue.json"
MAX_ERROR_LENGTH = 1000  # a database error can quote a whole statement; the reason is what matters
_AGENDA_FIELDS = ("title", "starts_at", "ends_at", "location", "url", "description")


@dataclass(frozen=True)
class RefreshResult:
    status: str                # "ok", "failed" or "skipped" (no feed configured)
    url: str = ""              # redacted: safe to log and show
    item_count: int = 0        # items in the agenda after an ok refresh
    created: int = 0
    updated: int = 0
    deleted: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def as_dict(self) -> dict:
        return asdict(self)


def refresh_agenda(url: str | None = None) -> RefreshResult:
    """Mirror the feed at `url` into AgendaItem. On any failure the stored agenda is left as it was."""
    if not url:
        return RefreshResult(status="skipped", error="no AGENDA_FEED_URL configured; keeping the current agenda")
    safe_url = redact_url(url)
    attempted_at = timezone.now()
    try:
        fetched = fetch_feed(url)
        entries = parse_feed(fetched.body, fetched.content_type)
        # Network and parsing happen above, outside the transaction, so no lock is held while waiting.
        with transaction.atomic():
            status = _locked_status(safe_url)
            created, updated, deleted = _replace_agenda(entries)
            status.last_attempt_at = attempted_at
            status.last_success_at = timezone.now()
            status.last_error = ""
            status.consecutive_failures = 0
            status.item_count = len(entries)
            status.save()
    except Exception as exc:  # whatever went wrong, the last good agenda stays
        reason = str(exc) if isinstance(exc, FeedError) else f"{type(exc).__name__}: {exc}"
        reason = scrub(reason, url)[:MAX_ERROR_LENGTH]
        logger.warning("agenda refresh from %s failed, keeping the current agenda: %s", safe_url, reason)
        _record_failure(safe_url, attempted_at, reason)
        return RefreshResult(status="failed", url=safe_url, error=reason)
    logger.info("agenda refreshed from %s: %d items (%d new, %d changed, %d removed)",
                safe_url, len(entries), created, updated, deleted)
    return RefreshResult(status="ok", url=safe_url, item_count=len(entries),
                         created=created, updated=updated, deleted=deleted)


def _locked_status(safe_url: str) -> FeedStatus:
    # The row lock (PostgreSQL) serialises two refreshes of the same feed; SQLite already
    # serialises writers with IMMEDIATE transactions.
    status, _ = FeedStatus.objects.select_for_update().get_or_create(url=safe_url)
    return status


def _record_failure(safe_url: str, attempted_at, reason: str) -> None:
    with transaction.atomic():
        status = _locked_status(safe_url)
        status.last_attempt_at = attempted_at
        status.last_error = reason
        status.consecutive_failures += 1
        status.save()


def _replace_agenda(entries: list[AgendaEntry]) -> tuple[int, int, int]:
    """Upsert by uid and delete what the feed no longer lists. Call inside a transaction."""
    existing = {item.uid: item for item in AgendaItem.objects.all()}
    wanted = {entry.uid for entry in entries}
    created = updated = 0
    for entry in entries:
        values = _model_values(entry)
        item = existing.get(entry.uid)
        if item is None:
            AgendaItem.objects.create(uid=entry.uid, **values)
            created += 1
        elif any(getattr(item, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(item, name, value)
            item.save()
            updated += 1
    stale = [uid for uid in existing if uid not in wanted]
    deleted, _ = AgendaItem.objects.filter(uid__in=stale).delete() if stale else (0, None)
    return created, updated, deleted


def _model_values(entry: AgendaEntry) -> dict:
    values = {name: getattr(entry, name) for name in _AGENDA_FIELDS}
    # Feeds don't know our column sizes; PostgreSQL would reject an over-long value (SQLite wouldn't).
    for name, value in values.items():
        max_length = AgendaItem._meta.get_field(name).max_length
        if max_length and isinstance(value, str) and len(value) > max_length:
            values[name] = "" if name == "url" else value[: max_length - 1] + "…"
    return values


def load_sample_if_empty(*, include_agenda: bool = True) -> dict:
    """Load the sample agenda and catalogue into whichever of the two tables is empty. Idempotent.

    Pass include_agenda=False when a real feed is configured, so a community never sees invented
    meetups just because its feed was down at the first deploy.
    """
    loaded = {"agenda": 0, "catalogue": 0}
    with transaction.atomic():
        if include_agenda and not AgendaItem.objects.exists():
            entries = parse_feed(SAMPLE_AGENDA.read_bytes(), "application/json")
            created, _, _ = _replace_agenda(entries)
            loaded["agenda"] = created
        if not CatalogueItem.objects.exists():
            for record in json.loads(SAMPLE_CATALOGUE.read_text(encoding="utf-8")):
                tags = record.get("tags", "")
                CatalogueItem.objects.create(
                    slug=record["slug"], title=record["title"], summary=record.get("summary", ""),
                    tags=",".join(tags) if isinstance(tags, list) else tags, url=record.get("url", ""))
                loaded["catalogue"] += 1
    if any(loaded.values()):
        logger.info("loaded sample content: %d agenda items, %d catalogue items",
                    loaded["agenda"], loaded["catalogue"])
    return loaded
