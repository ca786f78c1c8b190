"""Applies message events to the store: new messages, edits and deletions, each keyed by (team, channel, ts)."""
from __future__ import annotations

from django.utils import timezone

from app.bot.models import Message
from app.bot.slack_payloads import Delivery, is_from_a_bot, ts_to_datetime


def apply_message_event(delivery: Delivery, assume_new: bool = False) -> str | None:
    """Store, edit or delete; returns what was done (for logs and tests), or None if not a message.

    assume_new: insert a new message without looking first (a conflict raises IntegrityError).
    """
    event = delivery.event
    if event.get("type") not in ("message", "app_mention"):
        return None
    team = delivery.team
    channel = event.get("channel", "")
    subtype = event.get("subtype") or ""

    if subtype == "message_changed":
        changed = event.get("message") or {}
        if not changed.get("ts"):
            return None
        _upsert(team, channel, changed, delivery.bot_user, edited=True)
        return "edited"
    if subtype == "message_deleted":
        deleted_ts = event.get("deleted_ts") or (event.get("previous_message") or {}).get("ts")
        if not deleted_ts:
            return None
        updated = Message.objects.filter(team=team, channel=channel, ts=deleted_ts).update(deleted_at=timezone.now())
        if not updated:  # deleted before we saw it: keep a tombstone so a late delivery stays deleted
            Message.objects.get_or_create(team=team, channel=channel, ts=deleted_ts, defaults={
                "posted_at": ts_to_datetime(deleted_ts), "deleted_at": timezone.now()})
        return "deleted"
    if not event.get("ts"):
        return None
    if assume_new:
        Message.objects.create(team=team, channel=channel, ts=event["ts"], **_values(event, delivery.bot_user))
        return "stored"
    _upsert(team, channel, event, delivery.bot_user, edited=False)
    return "stored"


def _values(message: dict, bot_user: str | None) -> dict:
    return {
        "user": message.get("user", "") or "",
        "is_bot": is_from_a_bot(message, bot_user),
        "text": message.get("text", "") or "",
        "subtype": message.get("subtype", "") or "",
        "thread_ts": message.get("thread_ts", "") or "",
        "posted_at": ts_to_datetime(message["ts"]),
    }


def _upsert(team: str, channel: str, message: dict, bot_user: str | None, edited: bool) -> None:
    values = _values(message, bot_user)
    if edited:
        values["edited_at"] = timezone.now()
    obj, created = Message.objects.get_or_create(team=team, channel=channel, ts=message["ts"], defaults=values)
    if created or obj.deleted_at is not None:
        return  # a deletion that arrived first wins
    if edited:
        Message.objects.filter(pk=obj.pk).update(**values)
