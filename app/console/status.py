"""What the console shows beside the conversation: command statistics, health, the next event."""
from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

from django.utils import timezone

from app.agenda.selectors import next_item
from app.bot.selectors import command_usage
from app.ops import health

QUEUE_CACHE_SECONDS = 2.0
QUEUE_TIMEOUT_SECONDS = 1.0

_queue_lock = threading.Lock()
_queue_cache: dict = {"at": None, "depths": None}


def queue_depths() -> dict[str, int] | None:
    """Queue depths, asked of the broker at most every 2 s per process: pages poll twice a second."""
    with _queue_lock:
        at = _queue_cache["at"]
        if at is None or time.monotonic() - at >= QUEUE_CACHE_SECONDS:
            _queue_cache["depths"] = health.queue_depths(timeout=QUEUE_TIMEOUT_SECONDS)
            _queue_cache["at"] = time.monotonic()
        return _queue_cache["depths"]


def stats(team: str) -> list[dict]:
    return [{"command": command, "uses": uses} for command, uses in command_usage(team)]


def health_summary() -> dict:
    database = health.database_check()
    return {
        "database": {"ok": database.ok, "ms": round(database.millis, 1)},
        "queues": queue_depths(),  # None: the broker did not answer
    }


def readable_date(moment, now=None) -> str:
    """`Thu 21 Jan, 18:00 UTC` this year, `Thu 21 Jan 2027, 18:00 UTC` any other year."""
    moment, now = timezone.localtime(moment), timezone.localtime(now)
    year = "" if moment.year == now.year else f" {moment.year}"
    return f"{moment:%a} {moment.day} {moment:%b}{year}, {moment:%H:%M %Z}"


def next_event() -> dict | None:
    item = next_item()
    if item is None:
        return None
    web = urlsplit(item.url or "").scheme in ("http", "https")  # a feed's other schemes are not links
    return {"title": item.title, "starts_at": item.starts_at.isoformat(), "starts": readable_date(item.starts_at),
            "location": item.location, "url": item.url if web else None}


def snapshot(team: str) -> dict:
    return {"stats": stats(team), "health": health_summary(), "next": next_event()}
