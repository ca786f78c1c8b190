"""A fake Slack Socket Mode server: a real WebSocket server on 127.0.0.1 (the `websockets` package's asyncio
server, in a thread of its own), behaving as Slack's does as far as the bot can tell.

The fake Web API (tests/support/fake_slack.py) answers `apps.connections.open` with `url` once a FakeSocketMode
is attached to it. On every connection it sends `hello`; `send()` sends an envelope to the newest connection
that Slack has not asked to go (or keeps it until one opens); acks are matched by envelope_id on any
connection, as Slack does. Like Slack it sends an envelope again (retry_attempt + 1, retry_reason "timeout")
when no ack came within `ack_timeout` seconds, and at once on the next connection when the connection it went
out on died. Faults on demand: `refresh()` sends `disconnect` (reason `refresh_requested`) and routes new
envelopes elsewhere; `drop()` ends the TCP connection without a close frame; `lose_acks` makes it ignore an
envelope's first acks (as if lost on the way), so the envelope is sent again; `resend()` sends one again now.

Every envelope keeps when the test sent it (`emitted`), each time it went out, and each ack (time, payload):
`ack_seconds()` is the time from the test's send to the first ack.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed


@dataclass
class Envelope:
    envelope_id: str
    kind: str
    payload: dict
    accepts_response_payload: bool
    emitted: float                                   # time.monotonic() when the test sent it
    lose_acks: int = 0
    attempts: int = 0                                # times it went out
    sent: list = field(default_factory=list)         # (monotonic time, connection number)
    acks: list = field(default_factory=list)         # (monotonic time, ack payload or None)
    lost_acks: int = 0
    connection: int | None = None                    # where it went out last

    @property
    def acked(self) -> bool:
        return bool(self.acks)

    def message(self) -> dict:
        return {"envelope_id": self.envelope_id, "type": self.kind, "payload": self.payload,
                "accepts_response_payload": self.accepts_response_payload,
                "retry_attempt": max(self.attempts - 1, 0),
                "retry_reason": "timeout" if self.attempts > 1 else ""}


class _Connection:
    def __init__(self, number: int, websocket):
        self.number, self.websocket = number, websocket
        self.leaving = False   # Slack sent `disconnect`: no new envelopes here
        self.dropped = False


class FakeSocketMode:
    def __init__(self, ack_timeout: float = 3.0, max_retries: int = 3):
        self.ack_timeout, self.max_retries = ack_timeout, max_retries
        self.envelopes: dict[str, Envelope] = {}
        self.connections_opened = 0
        self.unknown_messages: list = []
        self._live: list[_Connection] = []
        self._waiting: list[str] = []                # envelope ids with no connection to go to yet
        self._numbers = itertools.count(1)
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._loop = asyncio.new_event_loop()
        self._server = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="fake-socket-mode")
        self.port = 0

    # -- lifecycle --------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/link/?ticket={uuid.uuid4().hex}"

    def start(self) -> "FakeSocketMode":
        self._thread.start()
        self._server = self._call(self._serve())
        self.port = self._server.sockets[0].getsockname()[1]
        self._call(self._start_retrier())
        return self

    def stop(self) -> None:
        async def shut():
            self._server.close()
            for conn in list(self._live):
                conn.websocket.transport.abort()
            self._retrier.cancel()
        self._call(shut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _call(self, coroutine, timeout: float = 10):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    async def _serve(self):
        # Slack's server pings too; the websockets server answers the client's pings by itself.
        return await serve(self._handle, "127.0.0.1", 0, ping_interval=None, max_size=2 ** 20)

    async def _start_retrier(self):
        self._retrier = asyncio.ensure_future(self._retry_unacked())

    # -- what a test does ----------------------------------------------------------
    def send(self, kind: str, payload: dict, lose_acks: int = 0, accepts_response_payload: bool | None = None) -> str:
        """Send an envelope (events_api, slash_commands, interactive); its id."""
        accepts = kind != "events_api" if accepts_response_payload is None else accepts_response_payload
        envelope = Envelope(str(uuid.uuid4()), kind, payload, accepts, time.monotonic(), lose_acks=lose_acks)
        with self._lock:
            self.envelopes[envelope.envelope_id] = envelope
        self._loop.call_soon_threadsafe(self._route, envelope.envelope_id)
        return envelope.envelope_id

    def refresh(self) -> None:
        """Ask the client to move to a new connection (`disconnect`, reason `refresh_requested`)."""
        async def ask():
            for conn in self._live:
                if not conn.leaving:
                    conn.leaving = True
                    await conn.websocket.send(json.dumps({
                        "type": "disconnect", "reason": "refresh_requested",
                        "debug_info": {"host": "fake-applink"}}))
        self._call(ask())

    def drop(self) -> None:
        """End every connection's TCP connection at once, without a close frame."""
        async def cut():
            for conn in list(self._live):
                conn.dropped = True
                conn.websocket.transport.abort()
        self._call(cut())

    def forget(self) -> None:
        """Forget every envelope (a new test): none of them is sent again."""
        with self._lock:
            self.envelopes.clear()
            self._waiting.clear()

    def resend(self, envelope_id: str) -> None:
        self._loop.call_soon_threadsafe(self._route, envelope_id)

    # -- reading what happened ---------------------------------------------------------
    def envelope(self, envelope_id: str) -> Envelope:
        with self._lock:
            return self.envelopes[envelope_id]

    def ack_seconds(self, envelope_id: str) -> float | None:
        with self._lock:
            envelope = self.envelopes[envelope_id]
            return envelope.acks[0][0] - envelope.emitted if envelope.acks else None

    def live_connections(self) -> int:
        with self._lock:
            return len(self._live)

    def wait_for(self, predicate, timeout: float = 30.0, what: str = "condition"):
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"fake Socket Mode: {what} not met in {timeout}s")
                self._changed.wait(min(left, 0.2))

    def wait_for_acks(self, envelope_ids, timeout: float = 30.0) -> None:
        ids = list(envelope_ids)
        self.wait_for(lambda: all(self.envelopes[i].acked for i in ids), timeout,
                      f"acks for {sum(not self.envelopes[i].acked for i in ids)} of {len(ids)} envelopes")

    def wait_for_connection(self, count: int = 1, timeout: float = 60.0) -> None:
        self.wait_for(lambda: len(self._live) >= count, timeout, f"{count} live connection(s)")

    # -- the server (on its own loop) ------------------------------------------------------------
    async def _handle(self, websocket):
        conn = _Connection(next(self._numbers), websocket)
        await websocket.send(json.dumps({
            "type": "hello", "num_connections": len(self._live) + 1,
            "debug_info": {"host": "fake-applink", "approximate_connection_time": 18060},
            "connection_info": {"app_id": "AFAKE0001"}}))
        with self._changed:
            self._live.append(conn)
            self.connections_opened += 1
            waiting, self._waiting = self._waiting, []
            self._changed.notify_all()
        for envelope_id in waiting:
            self._route(envelope_id)
        try:
            async for raw in websocket:
                self._read(raw)
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                if conn in self._live:
                    self._live.remove(conn)
                # A connection that died (no close handshake): Slack knows, and sends what it had sent there
                # and saw no ack for on another connection. After a clean close, acks may still come on the
                # new connection: the timeout decides.
                lost = [e.envelope_id for e in self.envelopes.values()
                        if conn.dropped and e.connection == conn.number and not e.acked]
                self._changed.notify_all()
            for envelope_id in lost:
                self._route(envelope_id)

    def _read(self, raw) -> None:
        try:
            message = json.loads(raw)
            envelope_id = message["envelope_id"]
        except (ValueError, KeyError, TypeError):
            with self._lock:
                self.unknown_messages.append(raw)
            return
        with self._changed:
            envelope = self.envelopes.get(envelope_id)
            if envelope is None:
                self.unknown_messages.append(raw)
            elif envelope.lost_acks < envelope.lose_acks:
                envelope.lost_acks += 1
            else:
                envelope.acks.append((time.monotonic(), message.get("payload")))
            self._changed.notify_all()

    def _route(self, envelope_id: str) -> None:
        """Send (again) to the newest connection Slack has not asked to go; keep it until one opens."""
        with self._lock:
            envelope = self.envelopes.get(envelope_id)
            if envelope is None:  # forgotten meanwhile
                return
            targets = [c for c in self._live if not c.leaving and not c.dropped]
            if not targets:
                if envelope_id not in self._waiting:
                    self._waiting.append(envelope_id)
                return
            conn = targets[-1]
            envelope.attempts += 1
            envelope.connection = conn.number
            envelope.sent.append((time.monotonic(), conn.number))
            message = json.dumps(envelope.message())
        asyncio.ensure_future(self._write(conn, envelope_id, message))

    async def _write(self, conn: _Connection, envelope_id: str, message: str) -> None:
        try:
            await conn.websocket.send(message)
        except ConnectionClosed:
            pass  # the connection's end re-routes what it had not had acked

    async def _retry_unacked(self) -> None:
        while True:
            await asyncio.sleep(0.05)
            now = time.monotonic()
            with self._lock:
                due = [e.envelope_id for e in self.envelopes.values()
                       if not e.acked and e.sent and e.attempts <= self.max_retries
                       and now - e.sent[-1][0] >= self.ack_timeout and e.envelope_id not in self._waiting]
            for envelope_id in due:
                self._route(envelope_id)
