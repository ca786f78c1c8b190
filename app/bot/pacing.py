"""Keeps posts to one channel about a second apart (Slack's chat.postMessage limit) without sleeping:
each post reserves the channel's next free slot and is scheduled for it.

A slot is never a fraction of a second away on quorum queues, where a task cannot be delayed by less than
a second (layout.shortest_countdown): such a slot moves to a second from now, and the channel's next slot
after it, so the posts stay a second apart rather than bunching up behind a rounded countdown."""
from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from app.bot.models import ChannelPace
from app.queueing import layout

POST_INTERVAL = timedelta(seconds=1)


def reserve_slot(team: str, channel: str, not_before=None) -> float:
    """Reserve the next slot on the channel; returns seconds to wait before posting (0 = now)."""
    now = timezone.now()
    earliest = _schedulable(max(now, not_before or now), now)
    try:  # a channel the bot has not posted to yet: its first slot is free
        with transaction.atomic():
            ChannelPace.objects.create(team=team, channel=channel, next_free_at=earliest + POST_INTERVAL)
        return max(0.0, (earliest - now).total_seconds())
    except IntegrityError:
        pass
    with transaction.atomic():
        pace = ChannelPace.objects.select_for_update().get(team=team, channel=channel)
        slot = _schedulable(max(earliest, pace.next_free_at), now)
        pace.next_free_at = slot + POST_INTERVAL
        pace.save(update_fields=["next_free_at"])
    return max(0.0, (slot - now).total_seconds())


def _schedulable(slot, now):
    """`slot`, or the shortest delay the queues take if the slot is nearer than that (but not now)."""
    shortest = timedelta(seconds=layout.shortest_countdown())
    return now + shortest if now < slot < now + shortest else slot


def push_back(team: str, channel: str, seconds: float) -> None:
    """Slack said 429: nothing else goes to this channel before Retry-After has passed."""
    until = timezone.now() + timedelta(seconds=seconds)
    with transaction.atomic():
        pace, _ = ChannelPace.objects.select_for_update().get_or_create(
            team=team, channel=channel, defaults={"next_free_at": until})
        if pace.next_free_at < until:
            pace.next_free_at = until
            pace.save(update_fields=["next_free_at"])
