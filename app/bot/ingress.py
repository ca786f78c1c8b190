"""The web side of the inbox: accept a verified Slack delivery and hand it on without waiting on work.

Normally the delivery goes straight to the broker (durable queue, persistent message) and the worker
does dedupe and storage. If the broker cannot take it, the delivery is kept in the database (parked)
and beat's `retry_parked_events` hands it on later; only if neither can take it do we answer 503, so
Slack retries.
"""
from __future__ import annotations

import logging

from django.db import DatabaseError

from app.bot.models import InboundEvent
from app.bot.tasks import process_event

log = logging.getLogger(__name__)


def hand_off(payload: dict) -> bool:
    """True when the delivery is safe (queued or kept); False when nothing could take it."""
    try:
        process_event.apply_async((payload,), retry=False)
        return True
    except Exception as exc:  # kombu raises OperationalError, socket errors, SQLAlchemy errors, ...
        log.warning("broker unreachable (%s: %s); keeping delivery %s in the database",
                    type(exc).__name__, exc, payload.get("event_id"))
    try:
        InboundEvent.objects.get_or_create(key=payload["event_id"], defaults={"payload": payload, "parked": True})
        return True
    except DatabaseError as exc:
        log.error("neither broker nor database can take delivery %s (%s); answering 503 so Slack retries",
                  payload.get("event_id"), exc)
        return False
