"""What the fault suite sends, and how: Slack's traffic to the bot, item by item, retried as Slack retries.

An *item* is one thing a person did: a plain message, a mention (sometimes delivered twice, as `message`
and as `app_mention` with the same ts), a direct message to the bot, or a slash command. Every item is
decided by its sequence number alone (seeded), so a run is reproducible: the same event_ids, channels and
kinds every time. Each command carries a token of its own (`search tok00042`), which the bot's reply
echoes: that is how a reply at the fake Slack is traced back to the command that asked for it.
"""
from __future__ import annotations

import heapq
import http.client
import itertools
import json
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

from tests.support import slack_requests
from tests.support.fake_slack import BOT_USER_ID, TEAM_ID
from tests.support.stack import http_request

CHANNELS = [f"CFAULT{n:02d}" for n in range(30)]
DM_CHANNELS = [f"DFAULT{n:02d}" for n in range(5)]
USERS = [f"UFAULT{n:02d}" for n in range(20)]
# Share of items of each kind. `mention-twice` is one mention delivered as two events.
KINDS = (("message", 0.50), ("mention", 0.22), ("mention-twice", 0.13), ("dm", 0.05), ("slash", 0.10))
COMMAND_KINDS = {"mention", "mention-twice", "dm", "slash"}
STORED_KINDS = {"message", "mention", "mention-twice", "dm"}  # slash commands are not messages

ACK_DEADLINE = 3.0  # Slack's: no 2xx within 3 s is a failed delivery
# Slack retries an event up to 3 times: at once, after 1 minute, after 5 minutes. The suite keeps the
# "at once" and compresses the other two to fit its time budget (a harder test, not an easier one).
RETRY_DELAYS = (0.0, 5.0, 15.0)


@dataclass(frozen=True)
class Delivery:
    key: str            # Slack's event_id, or slash:<trigger_id> (what the bot dedupes on)
    path: str           # /slack/events or /slack/commands
    body: bytes         # the same bytes on every attempt; only the signature's timestamp changes
    content_type: str
    slack_retries: bool  # events are retried by Slack; slash commands never are


@dataclass(frozen=True)
class Item:
    seq: int
    kind: str
    channel: str
    ts: str | None          # the message's ts (None for a slash command)
    token: str | None       # set for commands: the reply echoes it
    response_path: str | None
    deliveries: tuple[Delivery, ...]

    @property
    def is_command(self) -> bool:
        return self.kind in COMMAND_KINDS

    @property
    def is_stored(self) -> bool:
        return self.kind in STORED_KINDS

    @property
    def command_key(self) -> str | None:
        """The bot's CommandUse.source_key for this item."""
        if not self.is_command:
            return None
        if self.kind == "slash":
            return self.deliveries[0].key
        return f"msg:{TEAM_ID}:{self.channel}:{self.ts}"


def make_item(seq: int, seed: int, fake_url: str, kinds=KINDS) -> Item:
    """`kinds`: the share of each kind of item, e.g. (("mention", 1.0),) for mentions only."""
    rng = random.Random(f"{seed}:{seq}")
    kind = rng.choices([k for k, _ in kinds], weights=[w for _, w in kinds])[0]
    user = rng.choice(USERS)
    channel = rng.choice(DM_CHANNELS if kind == "dm" else CHANNELS)
    token = f"tok{seq:05d}"
    ask = f"{rng.choice(('search', 'busca'))} {token}"
    ts = f"{int(time.time())}.{seq:06d}"  # unique in the run by its fraction
    event_id = f"EvFAULT{seq:05d}"

    def event(payload: dict) -> Delivery:
        return Delivery(payload["event_id"], "/slack/events", json.dumps(payload).encode(), "application/json", True)

    if kind == "message":
        words = " ".join(rng.choice(("hola", "deploy", "café", "lunes", "rabbit", "ok")) for _ in range(5))
        return Item(seq, kind, channel, ts, None, None,
                    (event(slack_requests.message(f"{words} #{seq}", channel, user, ts, event_id=event_id + "M")),))
    if kind == "dm":
        return Item(seq, kind, channel, ts, token, None,
                    (event(slack_requests.message(ask, channel, user, ts, channel_type="im",
                                                  event_id=event_id + "D")),))
    if kind == "slash":
        response_path = f"/response/{seq:05d}"
        body = slack_requests.slash_command(ask, fake_url + response_path, channel, user,
                                            trigger_id=f"trigger{seq:05d}")
        delivery = Delivery(f"slash:trigger{seq:05d}", "/slack/commands", body, "application/x-www-form-urlencoded",
                            False)
        return Item(seq, kind, channel, None, token, response_path, (delivery,))
    mention = event(slack_requests.mention(ask, channel, user, ts, event_id=event_id + "A"))
    if kind == "mention":
        return Item(seq, kind, channel, ts, token, None, (mention,))
    twin = event(slack_requests.message(f"<@{BOT_USER_ID}> {ask}", channel, user, ts, event_id=event_id + "M"))
    pair = (twin, mention) if rng.random() < 0.5 else (mention, twin)  # Slack gives no order
    return Item(seq, kind, channel, ts, token, None, pair)


@dataclass(frozen=True)
class Attempt:
    key: str
    seq: int
    number: int           # 0 = first delivery, 1..3 = X-Slack-Retry-Num
    phase: str            # the fault under way when it was sent
    status: int | None    # None: no answer (timeout, refused, reset)
    seconds: float

    @property
    def acked(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and self.seconds <= ACK_DEADLINE


@dataclass
class SlackSender:
    """Sends items at a steady rate from a pool of connections, the way Slack's delivery service does:
    each delivery signed with a fresh timestamp, and an event that got no 2xx within 3 s sent again
    (same body, same event_id) with X-Slack-Retry-Num / X-Slack-Retry-Reason, up to 3 times."""

    web_url: str
    secret: str
    fake_url: str
    phase: Callable[[], str]   # the name of the fault under way
    seed: int = 9
    rate: float = 15.0         # events per second
    kinds: tuple = KINDS       # the mix of items (make_item)
    items: list[Item] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    item_sent_at: dict[int, float] = field(default_factory=dict)  # seq -> seconds after `started`, 1st attempt

    def __post_init__(self):
        self._heap: list = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._in_flight = 0
        self._last_reason: dict[str, str] = {}  # why a delivery's last attempt failed, for its retry's header
        self.events_sent = 0

    def run(self, at_least: int, keep_going: Callable[[], bool], started: float) -> None:
        """From `started` (time.monotonic()), send until `at_least` events went out and `keep_going()` is
        false; then wait for every retry to be sent. Blocks; run it in a thread."""
        self.started = started
        with ThreadPoolExecutor(max_workers=64, thread_name_prefix="slack") as pool:
            seq = 0
            while self.events_sent < at_least or keep_going():
                item = make_item(seq, self.seed, self.fake_url, self.kinds)
                self.items.append(item)
                due = started + self.events_sent / self.rate
                for delivery in item.deliveries:
                    self._schedule(due, delivery, item.seq, 0)
                self.events_sent += len(item.deliveries)
                seq += 1
                self._dispatch_until(due, pool)
            self._dispatch_until(None, pool)

    def _schedule(self, due: float, delivery: Delivery, seq: int, number: int) -> None:
        with self._cond:
            heapq.heappush(self._heap, (due, next(self._order), delivery, seq, number))
            self._cond.notify_all()

    def _dispatch_until(self, until: float | None, pool) -> None:
        """Hand due attempts to the pool until `until` (None: until nothing is due, in flight or scheduled)."""
        while True:
            with self._cond:
                now = time.monotonic()
                if until is not None and now >= until and not (self._heap and self._heap[0][0] <= now):
                    return
                if until is None and not self._heap and self._in_flight == 0:
                    return
                if not self._heap or self._heap[0][0] > now:
                    wake = self._heap[0][0] if self._heap else now + 0.5
                    if until is not None:
                        wake = min(wake, until)
                    self._cond.wait(max(0.0, wake - now))
                    continue
                _, _, delivery, seq, number = heapq.heappop(self._heap)
                self._in_flight += 1
            pool.submit(self._attempt, delivery, seq, number)

    def _attempt(self, delivery: Delivery, seq: int, number: int) -> None:
        try:
            phase = self.phase()
            self.item_sent_at.setdefault(seq, time.monotonic() - self.started)
            headers = {"Content-Type": delivery.content_type, **slack_requests.sign(self.secret, delivery.body)}
            if number:
                headers["X-Slack-Retry-Num"] = str(number)
                headers["X-Slack-Retry-Reason"] = self._last_reason.get(delivery.key, "http_error")
            started = time.monotonic()
            try:
                status = http_request(self.web_url + delivery.path, "POST", delivery.body, headers,
                                      timeout=ACK_DEADLINE).status
            except (OSError, http.client.HTTPException):
                status = None
            attempt = Attempt(delivery.key, seq, number, phase, status, time.monotonic() - started)
            self.attempts.append(attempt)
            if not attempt.acked and delivery.slack_retries and number < len(RETRY_DELAYS):
                self._last_reason[delivery.key] = (
                    "http_error" if status is not None and attempt.seconds <= ACK_DEADLINE
                    else "http_timeout" if attempt.seconds >= ACK_DEADLINE else "connection_failed")
                self._schedule(time.monotonic() + RETRY_DELAYS[number], delivery, seq, number + 1)
        finally:
            with self._cond:
                self._in_flight -= 1
                self._cond.notify_all()
