"""The web side of the inbox: accept a verified Slack delivery and hand it on without waiting on work.

Normally the delivery goes straight to the broker (durable queue, persistent message) and the worker
does dedupe and storage. If the broker cannot take it, the delivery is kept in the database (parked)
and beat's `retry_parked_events` hands it on later; only if neither can take it do we answer 503, so
Slack retries.

The message is the one `process_event.apply_async((payload,), retry=False)` sends — built by Celery
(protocol 2, JSON) and published by Celery's `send_task_message` to the `charla` exchange with routing
key `inbox.event`, persistent, declaring the durable `inbox` queue — but cheaper to send (see
bench/README.md): the routing options, which depend only on the task name and the settings, are worked
out once per process, and the message goes out through one producer per process on a long-lived
broker connection instead of one borrowed from Celery's pool and given back on every call, with no
result object built. That takes about a third off the CPU of the hand-off.
"""
from __future__ import annotations

import logging
import os
import select
import threading

from django.db import DatabaseError
from kombu.utils.uuid import uuid

from app.bot.models import InboundEvent
from app.bot.tasks import process_event

log = logging.getLogger(__name__)


class _Publisher:
    """Sends `task` messages exactly as task.apply_async(args, retry=False) does, on a connection of its own.

    Fork-safe: gunicorn imports the app in the master (preload_app) and forks the workers; a connection
    belongs to the process that opened it and a forked child never uses (or closes) its parent's — it
    opens its own at its first delivery. Thread-safe (GUNICORN_WORKER_CLASS=gthread): one publish at a
    time per process, on one connection per process.
    """

    def __init__(self, task):
        self.task = task
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._connection = None
        self._producer = None
        self._options: dict | None = None
        self._abandoned: list = []  # inherited across a fork: kept referenced, never closed from the child

    def _route(self) -> dict:
        """What apply_async + send_task work out before building the message; the same for every call."""
        task, app = self.task, self.task.app
        options = dict(task._get_exec_options())
        options["ignore_result"] = task.ignore_result
        if task.priority:
            options["priority"] = task.priority
        ignore_result = options.pop("ignore_result")
        time_limit = options.pop("time_limit", None)
        soft_time_limit = options.pop("soft_time_limit", None)
        routed = app.amqp.router.route(options, task.name, (), {}, task)
        return {"routed": routed, "ignore_result": ignore_result, "time_limit": time_limit,
                "soft_time_limit": soft_time_limit, "sent_event": app.conf.task_send_sent_event}

    def _ready_producer(self):
        pid = os.getpid()
        if self._pid != pid:
            if self._connection is not None:
                self._abandoned.append(self._connection)
            self._pid, self._connection, self._producer = pid, None, None
        if self._connection is not None and self._broker_spoke():
            self._drop()
        if self._producer is None:
            app = self.task.app
            self._connection = app.connection_for_write()
            self._producer = app.amqp.Producer(self._connection)
        return self._producer

    def _broker_spoke(self) -> bool:
        """True when this connection must be replaced before use. A producer-only AMQP connection hears
        nothing back from the broker (no heartbeats are negotiated for it); anything to read means the
        broker closed it (EOF, connection.close) or is throttling it (connection.blocked). Checked so a
        message is never written into a socket the broker has already left, where it would be lost."""
        connection = self._connection
        if not connection.connected:
            return True
        sock = getattr(getattr(connection.connection, "transport", None), "sock", None)
        if sock is None:  # not a socket transport (the embedded SQLite broker, ...)
            return False
        try:
            return bool(select.select([sock], [], [], 0)[0])
        except (OSError, ValueError):  # closed socket
            return True

    def _drop(self) -> None:
        """Forget the connection without talking to the broker (it may be gone, or not reading)."""
        connection, self._connection, self._producer = self._connection, None, None
        if connection is not None:
            try:
                connection.collect()
            except Exception:  # already broken; nothing more to do with it
                pass

    def publish(self, args: tuple) -> None:
        app = self.task.app
        amqp = app.amqp
        with self._lock:
            if self._options is None:
                self._options = self._route()
            o = self._options
            try:
                producer = self._ready_producer()
                task_id = uuid()
                message = amqp.create_task_message(
                    task_id, self.task.name, args, None,
                    reply_to=app.thread_oid, time_limit=o["time_limit"], soft_time_limit=o["soft_time_limit"],
                    create_sent_event=o["sent_event"], ignore_result=o["ignore_result"], **o["routed"])
                with producer.connection._reraise_as_library_errors():
                    amqp.send_task_message(producer, self.task.name, message, retry=False, **o["routed"])
            except BaseException:
                self._drop()  # the next delivery opens a fresh connection
                raise


_publisher = _Publisher(process_event)


def hand_off(payload: dict, publish=None) -> bool:
    """True when the delivery is safe (queued or kept); False when nothing could take it."""
    try:
        (publish or _publisher.publish)((payload,))
        return True
    except Exception as exc:  # kombu raises OperationalError, socket errors, SQLAlchemy errors, ...
        log.warning("broker unreachable (%s: %s); keeping delivery %s in the database",
                    type(exc).__name__, exc, payload.get("event_id"))
    return park(payload)


def park(payload: dict) -> bool:
    """Keep the delivery in the database for beat's retry_parked_events; False if the database fails too."""
    try:
        InboundEvent.objects.get_or_create(key=payload["event_id"], defaults={"payload": payload, "parked": True})
        return True
    except DatabaseError as exc:
        log.error("neither broker nor database can take delivery %s (%s); answering 503 so Slack retries",
                  payload.get("event_id"), exc)
        return False
