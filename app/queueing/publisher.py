"""Web's publisher of Slack deliveries to the `deliveries` queue (app/queueing/layout.py).

What goes to the broker is the delivery itself — the JSON exactly as Slack sent it (and as its signature
covers), a persistent message — not a Celery task: the worker's DeliveryConsumer (app/queueing/deliveries.py)
turns each into a `process_event` task. A plain message keeps web's acknowledgement path short
(bench/README.md). What to do when the broker does not take it is the inbox's business (app/bot/ingress.py).
"""
from __future__ import annotations

import os
import select
import threading
from urllib.parse import urlsplit

from app.queueing import layout

# Bounds on a publish attempt: app/bot/ingress.py fits two of them, and parking, inside Slack's 3 seconds.
CONNECT_TIMEOUT = 0.8
CONFIRM_TIMEOUT = 0.8


class DeliveryPublisher:
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
        # A broker URL may list the nodes of a cluster (kombu's failover list, amqp://a;amqp://b;...). A new
        # connection starts at this node of the list, and it moves on past a node whose connection failed:
        # once a node is gone, each new connection does not first wait on it.
        self._first_node = 0

    def _state(self):
        state = self._local
        if getattr(state, "pid", None) != os.getpid():
            if getattr(state, "connection", None) is not None:
                self._abandoned.append(state.connection)
            state.pid, state.connection, state.producer = os.getpid(), None, None
        return state

    def _ready_producer(self, state):
        if state.connection is not None and self._broker_spoke(state.connection):
            self._move_past(state.connection)
            self._drop(state)
        if state.producer is None:
            from app.queueing.celery_app import celery_app

            app = self._app or celery_app
            queue = layout.DELIVERIES_QUEUE
            state.connection = self._connection(app)
            producer = app.amqp.Producer(state.connection, exchange=queue.exchange, auto_declare=False)
            # Declared once per connection (exchange, queue, binding): a message sent before the queue
            # exists would be dropped by the exchange.
            producer.maybe_declare(queue)
            state.producer = producer
        return state.producer

    def _connection(self, app):
        """A connection (not yet open) to the broker, its failover list starting at the preferred node. kombu
        tries the next node of the list when one refuses (transport options: max_retries)."""
        nodes = _nodes(app)
        first = self._first_node % len(nodes) if nodes else 0
        url = ";".join(nodes[first:] + nodes[:first]) if len(nodes) > 1 else None
        return app.connection_for_write(url=url, connect_timeout=CONNECT_TIMEOUT)

    def _move_past(self, connection) -> None:
        """This connection failed: the next one starts at the node after the one it was on."""
        from app.queueing.celery_app import celery_app

        current = (connection.hostname, connection.port or 5672)
        for index, node in enumerate(_nodes(self._app or celery_app)):
            parts = urlsplit(node)
            if (parts.hostname, parts.port or 5672) == current:
                self._first_node = index + 1
                return

    @staticmethod
    def _broker_spoke(connection) -> bool:
        """True when this connection must be replaced before use. Between publishes a producer connection
        has nothing to read (each publish reads its own confirm); anything there means the broker closed it
        (EOF, connection.close) or is throttling it (connection.blocked). Checked so a message is never
        written into a socket the broker has already left."""
        if not connection.connected:
            return True
        # Private API: kombu's Connection.connection is py-amqp's Connection, whose .transport.sock is the
        # socket; checked against kombu 5.7.0 and amqp 5.4.2.
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
                body, routing_key=layout.DELIVERIES_ROUTING_KEY, content_type="application/json",
                content_encoding="utf-8", delivery_mode=2, retry=False, declare=[], timeout=CONFIRM_TIMEOUT,
                confirm_timeout=CONFIRM_TIMEOUT)
        except BaseException:
            if state.connection is not None:
                self._move_past(state.connection)
            self._drop(state)  # the next delivery opens a fresh connection, on the next node of a cluster
            raise


def _nodes(app) -> list[str]:
    """The broker's nodes as the configuration lists them (one, or a cluster's failover list)."""
    url = app.conf.broker_write_url or app.conf.broker_url
    return [part.strip() for part in url.split(";") if part.strip()] if isinstance(url, str) else []
