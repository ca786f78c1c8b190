"""Web's publisher of Slack deliveries to the `deliveries` queue (app/queueing/layout.py).

What goes to the broker is the delivery itself — the JSON exactly as Slack sent it (and as its signature
covers), a persistent message — not a Celery task: the worker's DeliveryConsumer (app/queueing/deliveries.py)
turns each into a `process_event` task. A plain message keeps web's acknowledgement path short
(bench/README.md). What to do when the broker does not take it is the inbox's business (app/bot/ingress.py).

On RabbitMQ every delivery waits for its publisher confirm. Confirms are batched: one connection per process;
the request thread that finds nobody publishing publishes every delivery that is waiting, its own among them,
then waits for the broker's confirms of the whole batch (RabbitMQ confirms many with one `multiple` ack, and
writes them to disk together). The request threads of a gthread worker wait side by side instead of each
paying for a round trip and a disk sync of its own; a sync worker publishes its one delivery itself, with no
hand-over between threads (bench/README.md measured both).
"""
from __future__ import annotations

import os
import select
import threading
import time
from collections import deque
from urllib.parse import urlsplit

import amqp
from amqp.exceptions import MessageNacked

from app.queueing import layout

# Bounds on a publish attempt: app/bot/ingress.py fits two of them, and parking, inside Slack's 3 seconds.
CONNECT_TIMEOUT = 0.8
CONFIRM_TIMEOUT = 0.8


class DeliveryPublisher:
    """Publishes delivery bodies to the `deliveries` queue and returns once the broker has them (confirmed on
    RabbitMQ; committed on the embedded broker); raises otherwise.

    Fork-safe: gunicorn imports the app in the master (preload_app) and forks the workers; a connection
    belongs to the process that opened it and a forked child never uses (or closes) its parent's — it opens
    its own at its first delivery.
    """

    def __init__(self, app=None):
        self._app = app  # None: the project's Celery app (a test passes its own)
        self._pid = None
        self._lane = None
        self._lock = threading.Lock()
        self._abandoned: list = []  # inherited across a fork: kept referenced, never closed from the child

    def publish(self, body: bytes) -> None:
        self.lane().publish(body)

    def lane(self):
        """This process's lane to the broker (made at its first delivery)."""
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    if self._lane is not None:
                        self._abandoned.append(self._lane)
                    self._lane = self._new_lane()
                    self._pid = os.getpid()
        return self._lane

    def _new_lane(self):
        from app.queueing.celery_app import celery_app

        app = self._app or celery_app
        # kombu's name for py-amqp's transport; only it speaks publisher confirms here.
        connection = app.connection_for_write()  # not connected: only its transport is looked at
        try:
            confirms = connection.transport.driver_type == "amqp"
        finally:
            connection.release()
        return ConfirmingLane(app) if confirms else DirectLane(app)


class NotConfirmed(ConnectionError):
    """The broker did not confirm the delivery (refused it, or the connection failed under it)."""


class DirectLane:
    """For brokers without publisher confirms (the embedded SQLite broker, kombu's in-memory transport in
    unit tests): a publish returns once the transport has stored the message. One producer per thread."""

    def __init__(self, app):
        self._app = app
        self._local = threading.local()

    def publish(self, body: bytes) -> None:
        state = self._local
        try:
            if getattr(state, "producer", None) is None:
                state.connection = self._app.connection_for_write(connect_timeout=CONNECT_TIMEOUT)
                producer = self._app.amqp.Producer(state.connection, exchange=layout.EXCHANGE, auto_declare=False)
                # Declared once per connection, and used only once declared: a message sent to the exchange
                # before the queue is bound to it would be dropped, without an error.
                producer.maybe_declare(layout.DELIVERIES_QUEUE)
                state.producer = producer
            state.producer.publish(
                body, routing_key=layout.DELIVERIES_ROUTING_KEY, content_type="application/json",
                content_encoding="utf-8", delivery_mode=2, retry=False, declare=[])
        except BaseException:
            connection, state.connection, state.producer = getattr(state, "connection", None), None, None
            _forget(connection)
            raise


class _Job:
    __slots__ = ("body", "turn", "error", "settled", "taken", "cancelled", "promoted")

    def __init__(self, body: bytes):
        self.body = body
        self.turn = threading.Event()  # set when the job is settled, or when its thread is to lead
        self.error: BaseException | None = None
        self.settled = False
        self.taken = False      # a leader has it (it will be settled, one way or another)
        self.cancelled = False  # its waiter gave up before it was taken: never publish it
        self.promoted = False   # its thread is to publish the next batch

    def resolve(self, error: BaseException | None = None) -> None:
        if not self.settled:
            self.error = error
            self.settled = True
            self.turn.set()


class ConfirmingLane:
    """RabbitMQ: one connection per process; deliveries are published in batches, each batch confirmed as a
    whole (see the module's docstring).

    No thread of its own: the thread that finds nobody publishing publishes, on its own request thread, every
    delivery waiting (its own among them) and waits for their confirms — so a sync worker's request costs no
    hand-over between threads at all. Threads that arrive meanwhile queue; when the batch is confirmed, the
    first of them is woken to publish the next batch, theirs."""

    def __init__(self, app):
        self._app = app
        self._mutex = threading.Lock()  # guards _waiting, _leading and the jobs' taken/cancelled/promoted
        self._waiting: deque[_Job] = deque()
        self._leading = False  # a thread is publishing: only it touches the connection
        self.connection = None
        self._channel = None
        self._sequence = 0  # the broker numbers a confirm channel's publishes 1, 2, 3, ...
        self._unconfirmed: dict[int, _Job] = {}
        # A broker URL may list the nodes of a cluster (kombu's failover list, amqp://a;amqp://b;...). A new
        # connection starts at this node of the list, and moves on past a node whose connection failed: once a
        # node is gone, each new connection does not first wait on it.
        self._first_node = 0

    def publish(self, body: bytes) -> None:
        job = _Job(body)
        with self._mutex:
            self._waiting.append(job)
            lead = job.promoted = not self._leading
            self._leading = True
        if not lead:
            # The leader bounds its connect and confirm waits; this bound only matters if the leader is itself
            # stuck (a write into a full socket buffer).
            job.turn.wait(CONNECT_TIMEOUT + CONFIRM_TIMEOUT + 0.2)
            with self._mutex:
                if not job.settled and not job.promoted:
                    if not job.taken:
                        job.cancelled = True
                    raise TimeoutError("the broker did not confirm the delivery in time")
        if job.promoted:
            self._lead()
        if job.error is not None:
            # a fresh exception for each waiter: the batch's error is shared by every delivery in it
            raise NotConfirmed(f"{type(job.error).__name__}: {job.error}") from job.error

    def _lead(self) -> None:
        """Publish what is waiting, then pass the lead to the first thread still waiting (or let it go)."""
        try:
            with self._mutex:
                batch = [job for job in self._waiting if not job.cancelled]
                self._waiting.clear()
                for job in batch:
                    job.taken = True
            self._publish(batch)
        finally:
            with self._mutex:
                while self._waiting and self._waiting[0].cancelled:
                    self._waiting.popleft()
                if self._waiting:
                    successor = self._waiting[0]
                    successor.promoted = True
                    successor.turn.set()
                else:
                    self._leading = False

    def _publish(self, batch: list[_Job]) -> None:
        try:
            channel = self._ready_channel()
            for job in batch:
                # delivery mode 2: persistent, so the confirm means "on disk"
                channel.basic_publish(
                    amqp.Message(job.body, content_type="application/json", content_encoding="utf-8",
                                 delivery_mode=2),
                    exchange=layout.EXCHANGE.name, routing_key=layout.DELIVERIES_ROUTING_KEY)
                self._sequence += 1
                self._unconfirmed[self._sequence] = job
            deadline = time.monotonic() + CONFIRM_TIMEOUT
            while self._unconfirmed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("the broker did not confirm the delivery in time")
                self.connection.connection.drain_events(timeout=remaining)  # runs _on_ack / _on_nack
        except Exception as exc:  # kombu/py-amqp errors, a timeout, socket errors: none of the batch is taken
            for job in batch:
                job.resolve(exc)
            self._unconfirmed.clear()
            self._move_past()
            self._drop()

    def _ready_channel(self):
        if self.connection is not None and _broker_spoke(self.connection):
            self._move_past()
            self._drop()
        if self._channel is None:
            # Confirms are read here, batch by batch, not by py-amqp after every publish (which is what the
            # confirm_publish transport option in settings asks for).
            nodes = _nodes(self._app)
            first = self._first_node % len(nodes) if nodes else 0
            url = ";".join(nodes[first:] + nodes[:first]) if len(nodes) > 1 else None
            # kombu tries the next node of the list when one refuses (transport options: max_retries).
            connection = self._app.connection_for_write(url=url, connect_timeout=CONNECT_TIMEOUT,
                                                        transport_options={"confirm_publish": False})
            self.connection = connection
            channel = connection.default_channel
            # Declared once per connection (exchange, queue, binding): a message sent before the queue exists
            # would be dropped by the exchange.
            layout.DELIVERIES_QUEUE(channel).declare()
            channel.confirm_select()
            channel.events["basic_ack"].add(self._on_ack)
            channel.events["basic_nack"].add(self._on_nack)
            self._sequence = 0
            self._channel = channel
        return self._channel

    def _settle(self, tag: int, multiple: bool, error: BaseException | None) -> None:
        tags = [t for t in self._unconfirmed if t <= tag] if multiple else [tag]
        for t in tags:
            job = self._unconfirmed.pop(t, None)
            if job is not None:
                job.resolve(error)

    def _on_ack(self, tag: int, multiple: bool) -> None:
        self._settle(tag, multiple, None)

    def _on_nack(self, tag: int, multiple: bool) -> None:
        self._settle(tag, multiple, MessageNacked("the broker refused the delivery (nack)"))

    def _move_past(self) -> None:
        """This connection failed: the next one starts at the node after the one it was on."""
        if self.connection is None:
            return
        current = (self.connection.hostname, self.connection.port or 5672)
        for index, node in enumerate(_nodes(self._app)):
            parts = urlsplit(node)
            if (parts.hostname, parts.port or 5672) == current:
                self._first_node = index + 1
                return

    def _drop(self) -> None:
        """Forget the connection without talking to the broker (it may be gone, or not reading)."""
        connection, self.connection, self._channel = self.connection, None, None
        _forget(connection)


def _nodes(app) -> list[str]:
    """The broker's nodes as the configuration lists them (one, or a cluster's failover list)."""
    url = app.conf.broker_write_url or app.conf.broker_url
    return [part.strip() for part in url.split(";") if part.strip()] if isinstance(url, str) else []


def _broker_spoke(connection) -> bool:
    """True when this connection must be replaced before use. Between batches a publishing connection has
    nothing to read (each batch reads its own confirms); anything there means the broker closed it (EOF,
    connection.close) or is throttling it (connection.blocked). Checked so a delivery is never written into a
    socket the broker has already left."""
    if not connection.connected:
        return True
    # Private API: kombu's Connection.connection is py-amqp's Connection, whose .transport.sock is the
    # socket; checked against kombu 5.7.0 and amqp 5.4.2.
    sock = getattr(getattr(connection.connection, "transport", None), "sock", None)
    if sock is None:
        return True
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):  # closed socket
        return True


def _forget(connection) -> None:
    if connection is not None:
        try:
            connection.collect()
        except Exception:  # already broken; nothing more to do with it
            pass
