"""What the bot keeps: deliveries (for dedupe), messages, command use, replies, channel pacing."""
from django.db import models
from django.utils import timezone


class InboundEvent(models.Model):
    """One Slack delivery, recorded once by its key; Slack's retries of it find it here."""

    key = models.CharField(max_length=120, unique=True, help_text="Slack event_id, or slash:<trigger_id>")
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    parked = models.BooleanField(default=False, help_text="Kept by web while the broker was unreachable")

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return self.key


class Message(models.Model):
    team = models.CharField(max_length=32)
    channel = models.CharField(max_length=32)
    ts = models.CharField(max_length=32, help_text="Slack's message timestamp: the message id in its channel")
    user = models.CharField(max_length=32, blank=True, db_index=True)
    is_bot = models.BooleanField(default=False)
    text = models.TextField(blank=True)
    subtype = models.CharField(max_length=40, blank=True)
    thread_ts = models.CharField(max_length=32, blank=True)
    posted_at = models.DateTimeField(db_index=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["posted_at"]
        constraints = [models.UniqueConstraint(fields=["team", "channel", "ts"], name="message_once_per_ts")]
        indexes = [models.Index(fields=["team", "user"]), models.Index(fields=["team", "channel", "posted_at"])]

    def __str__(self):
        return f"{self.channel}/{self.ts}"


class CommandUse(models.Model):
    """One command asked of the bot; `source_key` makes a retried or doubled delivery count once."""

    source_key = models.CharField(max_length=160, unique=True)
    team = models.CharField(max_length=32)
    channel = models.CharField(max_length=32)
    user = models.CharField(max_length=32, blank=True)
    command = models.CharField(max_length=40, blank=True, db_index=True, help_text="canonical name; empty if unknown")
    name_used = models.CharField(max_length=80, blank=True)
    language = models.CharField(max_length=2, default="en")
    args = models.TextField(blank=True)
    via = models.CharField(max_length=12)  # mention, dm or slash
    thread_ts = models.CharField(max_length=32, blank=True)
    response_url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name_used or '?'} by {self.user}"


class Reply(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"

    # None for an announcement (app/bot/announcements.py): its Announcement points here instead.
    command_use = models.OneToOneField(CommandUse, on_delete=models.CASCADE, related_name="reply", null=True,
                                       blank=True)
    team = models.CharField(max_length=32)
    channel = models.CharField(max_length=32)
    thread_ts = models.CharField(max_length=32, blank=True)
    response_url = models.URLField(max_length=500, blank=True)
    text = models.TextField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    # A post in flight holds the reply until then, so a redelivered task cannot post it a second time.
    claimed_until = models.DateTimeField(null=True, blank=True)
    # When the post_reply task scheduled for it is due; the reconciler re-drives a pending reply that is
    # well past this and unclaimed (its task was lost with a crashed worker or broker).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)
    slack_ts = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "replies"

    def __str__(self):
        if self.command_use_id is None:
            return f"announcement to {self.channel} ({self.status})"
        return f"reply to {self.command_use_id} ({self.status})"


class Announcement(models.Model):
    """One announcement a service published (docs/announcements.md), recorded once per (source, id): a
    producer that republishes after a lost confirm finds it here, and its reply is posted once."""

    source = models.CharField(max_length=40, help_text="the producer: announce.<source>, or celery")
    key = models.CharField(max_length=100, help_text="the producer's id for it")
    reply = models.OneToOneField(Reply, on_delete=models.CASCADE, related_name="announcement")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["source", "key"], name="announcement_once_per_id")]

    def __str__(self):
        return f"{self.source}/{self.key}"


class ChannelPace(models.Model):
    """When the next post to a channel may go out (Slack allows about one per second per channel)."""

    team = models.CharField(max_length=32)
    channel = models.CharField(max_length=32)
    next_free_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "channel"], name="one_pace_per_channel")]


class DeadLetter(models.Model):
    """A message the bot could not process and will not retry: kept with its reason, for a person to look at.

    Whatever cannot be handled (it breaks the delivery contract, or its task failed again and again) ends
    here and is acknowledged, so no message can stop or loop a worker and none disappears without a trace.
    """

    source = models.CharField(max_length=80, help_text="queue or task it came from")
    key = models.CharField(max_length=160, blank=True, help_text="event_id or task id, when known")
    reason = models.CharField(max_length=200)
    detail = models.TextField(blank=True, help_text="the error, with its traceback when there was one")
    payload = models.TextField(blank=True, help_text="the message as received (text made storable)")
    attempts = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.source}: {self.reason}"


class JobLease(models.Model):
    """Makes a periodic job single-flight across workers: a run holds the lease until it ends (or it expires)."""

    name = models.CharField(max_length=40, unique=True)
    until = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.name} until {self.until:%H:%M:%S}"
