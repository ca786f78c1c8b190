"""The web side of the inbox: accept a verified Slack delivery and hand it on without waiting on work.

Web answers Slack's 200 only once the delivery is safe: confirmed by the broker (publisher confirms on
RabbitMQ: on disk, not just written to a socket) or, when the broker cannot take it, kept in the database
(parked) for beat's `retry_parked_events`. A nack, a timeout or a lost connection counts as "not taken":
one more try on a fresh connection, then park. Only if neither can take it do we answer 503, so Slack
retries. Every wait is bounded so the whole hand-off stays well inside Slack's 3 seconds.

What goes to the broker is the delivery itself — the JSON exactly as Slack sent it (and as its signature
covers; re-serialized only when it carried text the database cannot store: payload_checks), a persistent message on the durable `deliveries` queue (exchange `charla`, routing key
`deliveries.slack`) — not yet a Celery task: the worker's DeliveryConsumer (app/bot/delivery_consumer.py)
turns each into a `process_event` task on `inbox`. A plain message costs web a fraction of Celery's task
message (bench/README.md), which keeps the acknowledgement path short. One producer per process, on a
long-lived connection, opened after gunicorn's fork.
"""
from __future__ import annotations

import json
import logging
import os
import select
import threading
import time

from django.conf import settings
from django.db import DatabaseError

from app.bot.models import InboundEvent
from app.bot.payload_checks import sanitized

log = logging.getLogger(__name__)

# Bounds on a publish attempt. A second attempt is made only after a quick failure (typically a connection
# the broker dropped when it restarted); a slow one means a stalled broker, so the delivery is parked at
# once. Worst case about 2 s, leaving the rest of Slack's 3 s for parking and the network.
CONNECT_TIMEOUT = 0.8
CONFIRM_TIMEOUT = 0.8
RETRY_ONLY_WITHIN = 0.4


class _DeliveryPublisher:
    """Publishes delivery bodies to the `deliveries` queue, with publisher confirms, on one broker connection
    per process and thread.

    Fork-safe: gunicorn imports the app in the master (preload_app) and forks the workers; a connection
    belongs to the process that opened it and a forked child never uses (or closes) its parent's — it
    opens its own at its first delivery. Thread-safe: each thread of a gthread worker has its own connection,
    so the threads' waits for their confirms overlap instead of queueing behind one lock (sync workers, the
    default, have one thread: one connection per process).
    """

    def __init__(self, app=None):
        self._app = app  # None: the project's Celery app (a test passes its own)
        self._local = threading.local()
        self._abandoned: list = []  # inherited across a fork: kept referenced, never closed from the child

    def _state(self):
        state = self._local
        if getattr(state, "pid", None) != os.getpid():
            if getattr(state, "connection", None) is not None:
                self._abandoned.append(state.connection)
            state.pid, state.connection, state.producer = os.getpid(), None, None
        return state

    def _ready_producer(self, state):
        if state.connection is not None and self._broker_spoke(state.connection):
            self._drop(state)
        if state.producer is None:
            from app.celery import celery_app

            app = self._app or celery_app
            queue = settings.CHARLA_DELIVERIES_QUEUE
            state.connection = app.connection_for_write(connect_timeout=CONNECT_TIMEOUT)
            producer = app.amqp.Producer(state.connection, exchange=queue.exchange, auto_declare=False)
            # Declared once per connection (exchange, queue, binding): a message sent before the queue
            # exists would be dropped by the exchange.
            producer.maybe_declare(queue)
            state.producer = producer
        return state.producer

    @staticmethod
    def _broker_spoke(connection) -> bool:
        """True when this connection must be replaced before use. Between publishes a producer connection
        should have nothing to read (its confirms were read with each publish); anything there means the
        broker closed it (EOF, connection.close) or is throttling it (connection.blocked). Checked so a
        message is never written into a socket the broker has already left."""
        if not connection.connected:
            return True
        sock = getattr(getattr(connection.connection, "transport", None), "sock", None)
        if sock is None:  # not a socket transport (the embedded SQLite broker, ...)
            return False
        try:
            return bool(select.select([sock], [], [], 0)[0])
        except (OSError, ValueError):  # closed socket
            return True

    @staticmethod
    def _drop(state) -> None:
        """Forget the connection without talking to the broker (it may be gone, or not reading)."""
        connection, state.connection, state.producer = state.connection, None, None
        if connection is not None:
            try:
                connection.collect()
            except Exception:  # already broken; nothing more to do with it
                pass

    def publish(self, body: bytes) -> None:
        state = self._state()
        try:
            self._ready_producer(state).publish(
                body, routing_key=settings.CHARLA_DELIVERIES_ROUTING_KEY, content_type="application/json",
                content_encoding="utf-8", delivery_mode=2, retry=False, declare=[], timeout=CONFIRM_TIMEOUT,
                confirm_timeout=CONFIRM_TIMEOUT)
        except BaseException:
            self._drop(state)  # the next delivery opens a fresh connection
            raise


_publisher = _DeliveryPublisher()


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
