"""The web side of the inbox: accept a verified Slack delivery and hand it on without waiting on work.

Web answers Slack's 200 only once the delivery is safe: confirmed by the broker (publisher confirms on
RabbitMQ: on disk, not just written to a socket) or, when the broker cannot take it, kept in the database
(parked) for beat's `retry_parked_events`. A nack, a timeout or a lost connection counts as "not taken":
one more try on a fresh connection, then park. Only if neither can take it do we answer 503, so Slack
retries. Every wait is bounded so the whole hand-off stays well inside Slack's 3 seconds.

What goes to the broker is the delivery itself (Slack's bytes, re-serialized only when it carried text the
database cannot store: payload_checks), not yet a Celery task: the publisher and the queue layout are in
app/queueing/ (publisher.py, layout.py). One producer per process and thread, on a long-lived connection,
opened after gunicorn's fork.
"""
from __future__ import annotations

import json
import logging
import time

from django.db import DatabaseError

from app.bot.models import InboundEvent
from app.bot.payload_checks import sanitized
from app.queueing.publisher import DeliveryPublisher

log = logging.getLogger(__name__)

# A second publish attempt is made only after a quick failure (typically a connection the broker dropped
# when it restarted); a slow one means a stalled broker, so the delivery is parked at once. With the
# publisher's own bounds the worst case is about 2 s, leaving the rest of Slack's 3 s for parking.
RETRY_ONLY_WITHIN = 0.4


_publisher = DeliveryPublisher()


def hand_off(payload: dict, body: bytes | None = None) -> bool:
    """True when the delivery is safe (confirmed by the broker, or kept); False when nothing could take it.
    `body` is the payload as received (Slack's JSON bytes); without it the payload is serialized."""
    data = body if body is not None else json.dumps(payload).encode()
    started = time.monotonic()
    for attempt in (1, 2):
        try:
            _publisher.publish(data)
            return True
        except Exception as exc:  # kombu/py-amqp errors, a nack, a timeout, socket and SQLAlchemy errors, ...
            log.warning("broker did not take delivery %s (attempt %d: %s: %s)", payload.get("event_id"), attempt,
                        type(exc).__name__, exc)
        if time.monotonic() - started > RETRY_ONLY_WITHIN:
            break
    log.warning("keeping delivery %s in the database until the broker is back", payload.get("event_id"))
    return park(payload)


def park(payload: dict) -> bool:
    """Keep the delivery in the database for beat's retry_parked_events; False if the database fails too."""
    try:
        InboundEvent.objects.get_or_create(key=payload["event_id"],
                                           defaults={"payload": sanitized(payload), "parked": True})
        return True
    except DatabaseError as exc:
        log.error("neither broker nor database can take delivery %s (%s); answering 503 so Slack retries",
                  payload.get("event_id"), exc)
        return False
