"""Reading the agenda and the catalogue (no side effects)."""
from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from app.agenda.models import AgendaItem, CatalogueItem
from app.agenda.text import normalize

__all__ = ["next_item", "upcoming_items", "search_catalogue", "normalize"]


def next_item(now: datetime | None = None) -> AgendaItem | None:
    """The first event starting at or after `now` (default: the current time)."""
    items = upcoming_items(now=now, limit=1)
    return items[0] if items else None


def upcoming_items(now: datetime | None = None, limit: int = 5) -> list[AgendaItem]:
    """The next `limit` events starting at or after `now`, soonest first."""
    if limit <= 0:
        return []
    moment = now or timezone.now()
    return list(AgendaItem.objects.filter(starts_at__gte=moment).order_by("starts_at", "uid")[:limit])


def search_catalogue(text: str, limit: int = 5) -> list[CatalogueItem]:
    """Catalogue entries containing every word of `text`, ignoring case and accents. Empty text: []."""
    words = normalize(text).split()
    if not words or limit <= 0:
        return []
    matches = CatalogueItem.objects.all()
    for word in dict.fromkeys(words):  # each distinct word once, in order
        # Both sides are already normalised, so a plain (case-sensitive) contains behaves the same
        # on SQLite and PostgreSQL.
        matches = matches.filter(search_text__contains=word)
    return list(matches.order_by("title", "slug")[:limit])
