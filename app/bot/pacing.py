"""Keeps posts to one channel about a second apart (Slack's chat.postMessage limit) without sleeping:
each post reserves the channel's next free slot and is scheduled for it."""
from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from app.bot.models import ChannelPace

POST_INTERVAL = timedelta(seconds=1)


def reserve_slot(team: str, channel: str, not_before=None) -> float:
    """Reserve the next slot on the channel; returns seconds to wait before posting (0 = now)."""
    now = timezone.now()
    earliest = max(now, not_before or now)
    try:  # a channel the bot has not posted to yet: its first slot is free
        with transaction.atomic():
            ChannelPace.objects.create(team=team, channel=channel, next_free_at=earliest + POST_INTERVAL)
        return max(0.0, (earliest - now).total_seconds())
    except IntegrityError:
        pass
    with transaction.atomic():
        pace = ChannelPace.objects.select_for_update().get(team=team, channel=channel)
        slot = max(earliest, pace.next_free_at)
        pace.next_free_at = slot + POST_INTERVAL
        pace.save(update_fields=["next_free_at"])
    return max(0.0, (slot - now).total_seconds())


def push_back(team: str, channel: str, seconds: float) -> None:
    """Slack said 429: nothing else goes to this channel before Retry-After has passed."""
    until = timezone.now() + timedelta(seconds=seconds)
    with transaction.atomic():
        pace, _ = ChannelPace.objects.select_for_update().get_or_create(
            team=team, channel=channel, defaults={"next_free_at": until})
        if pace.next_free_at < until:
            pace.next_free_at = until
            pace.save(update_fields=["next_free_at"])
