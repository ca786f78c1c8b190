"""The books of a fault run: what was sent against what the bot stored, recorded and posted.

Everything is read from the outside — the private database's tables and the fake Slack's record of
posts — and matched item by item:
- every message (plain, mention, DM) stored exactly once, as a Message row keyed (team, channel, ts);
- every command recorded exactly once (CommandUse by its source key) and answered exactly once at the
  fake Slack, in its channel (or at its response_url), the reply found by the token it echoes;
- no reply left pending or failed.
Slack retries events until one attempt is acknowledged or it gives up: an event is expected whatever its
acknowledgements were. A slash command is never retried by Slack: one that got no 2xx within 3 s was
refused in front of the person, so it is only required not to be answered twice.
"""
from __future__ import annotations

import math
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import psycopg

from tests.faults.workload import ACK_DEADLINE, Attempt, Item
from tests.support.fake_slack import TEAM_ID

TOKEN = re.compile(r"[“«](tok\d{5})[”»]")
WORK_QUEUES = ("deliveries", "inbox", "commands", "outbox")  # `periodic` ticks every second by design


@dataclass
class ItemBooks:
    item: Item
    phase: str              # the fault it is charged to (see charged_to)
    required: bool          # False: a slash command Slack showed as failed (no 2xx in time)
    stored: int = 0
    commands: int = 0
    replies: int = 0
    misdirected: int = 0
    reply_status: str | None = None

    @property
    def lost(self) -> list[str]:
        if not self.required:
            return []
        missing = []
        if self.item.is_stored and self.stored == 0:
            missing.append("messages")
        if self.item.is_command and self.commands == 0:
            missing.append("commands")
        if self.item.is_command and self.replies == 0:
            missing.append("replies")
        return missing

    @property
    def duplicated(self) -> list[str]:
        extra = [part for part, n in (("messages", self.stored), ("commands", self.commands),
                                      ("replies", self.replies)) if n > 1]
        return extra + (["misdirected"] if self.misdirected else [])


@dataclass
class Books:
    items: list[ItemBooks]
    replies_unsettled: Counter      # Reply rows still pending / failed
    parked: int                     # deliveries web parked that nobody handed on yet
    unmatched_posts: int            # posts at the fake Slack with no token of ours

    @property
    def complete(self) -> bool:
        return not any(b.lost for b in self.items) and not self.replies_unsettled["pending"]

    def count(self, kind: str, phase: str | None = None) -> int:
        return sum(bool(getattr(b, kind)) for b in self.items if phase is None or b.phase == phase)


def read_books(database_url: str, posts: list[dict], items: list[Item], attempts: list[Attempt],
               item_phase: dict[int, str]) -> Books:
    """`item_phase`: seq -> the fault each item sent so far is charged to."""
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        messages = {(ch, ts): n for ch, ts, n in conn.execute(
            "SELECT channel, ts, count(*) FROM bot_message WHERE team = %s GROUP BY channel, ts", (TEAM_ID,))}
        commands = dict(conn.execute("SELECT source_key, count(*) FROM bot_commanduse GROUP BY source_key"))
        statuses = dict(conn.execute("SELECT cu.source_key, r.status FROM bot_reply r "
                                     "JOIN bot_commanduse cu ON cu.id = r.command_use_id"))
        parked = conn.execute("SELECT count(*) FROM bot_inboundevent WHERE parked AND processed_at IS NULL"
                              ).fetchone()[0]
    by_token = defaultdict(list)
    unmatched = 0
    for post in posts:
        found = TOKEN.search(str(post["body"].get("text", "")))
        if found:
            by_token[found.group(1)].append(post)
        else:
            unmatched += 1
    acked_keys = {a.key for a in attempts if a.acked}
    books = []
    for item in items:
        if item.seq not in item_phase:  # planned but never sent (the load stopped first)
            continue
        b = ItemBooks(item, item_phase[item.seq],
                      required=item.kind != "slash" or item.deliveries[0].key in acked_keys)
        if item.is_stored:
            b.stored = messages.get((item.channel, item.ts), 0)
        if item.is_command:
            b.commands = commands.get(item.command_key, 0)
            b.reply_status = statuses.get(item.command_key)
            for post in by_token.get(item.token, []):
                if _posted_where_asked(item, post):
                    b.replies += 1
                else:
                    b.misdirected += 1
        books.append(b)
    unsettled = Counter(status for status in statuses.values() if status != "sent")
    return Books(books, unsettled, parked, unmatched)


def _posted_where_asked(item: Item, post: dict) -> bool:
    if item.kind == "slash":
        return post["method"] == "response_url" and post["body"].get("response_path") == item.response_path
    return post["method"] == "chat.postMessage" and post["body"].get("channel") == item.channel


def drain(read, rabbit, deadline: float) -> str:
    """Wait until every expected outcome is there and the broker has nothing left to do (ready or
    unacknowledged, scheduled retries included), or until `deadline` (time.monotonic())."""
    started = time.monotonic()
    while not read().complete:
        if time.monotonic() > deadline:
            return f"not drained: outcomes still missing after {time.monotonic() - started:.0f} s"
        time.sleep(2)
    done = time.monotonic()
    quiet_deadline = min(deadline, done + 30)
    quiet_in_a_row, busy = 0, {}
    while quiet_in_a_row < 2:
        if time.monotonic() > quiet_deadline:
            state = ", ".join(f"{q} {r}+{u}" for q, (r, u) in busy.items()) or "parked deliveries"
            return (f"drained in {done - started:.0f} s; still busy ({state}) {time.monotonic() - done:.0f} s"
                    " later")
        counts = rabbit.queue_counts()
        busy = {q: counts[q] for q in WORK_QUEUES if counts.get(q, (0, 0)) != (0, 0)}
        quiet_in_a_row = quiet_in_a_row + 1 if counts and not busy and not read().parked else 0
        time.sleep(1)
    return f"drained in {done - started:.0f} s, broker quiet {time.monotonic() - done:.0f} s later"


def charged_to(sent_at: float, faults: list["FaultRecord"]) -> str:
    """The fault an item's fate is charged to: the last one to have begun by 3 s (Slack's ack deadline)
    after the item was sent. An item still on its way when a fault strikes is that fault's: a broker
    crash loses what was queued a moment before it, not only what arrived during it."""
    name = "steady"
    for fault in faults:
        if fault.at <= sent_at + ACK_DEADLINE:
            name = fault.name
    return name


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class FaultRecord:
    name: str
    at: float        # when it began, in seconds since the load started
    seconds: float   # how long the injection took
    note: str
    failed: bool = False


@dataclass
class Summary:
    books: Books
    attempts: list[Attempt]
    events_sent: int
    load_seconds: float
    faults: list[FaultRecord]
    drained: str
    exits: list = field(default_factory=list)
    errors: dict = field(default_factory=dict)

    @property
    def failures(self) -> list[str]:
        problems = []
        if self.books.count("lost"):
            problems.append(f"{self.books.count('lost')} item(s) lost")
        if self.books.count("duplicated"):
            problems.append(f"{self.books.count('duplicated')} item(s) duplicated")
        if self.books.replies_unsettled:
            problems.append("replies left unsettled: " + ", ".join(f"{n} {s}" for s, n in
                                                                     self.books.replies_unsettled.items()))
        problems += [f"fault {f.name} could not be injected: {f.note}" for f in self.faults if f.failed]
        return problems

    def lines(self) -> list[str]:
        b = self.books
        required = [x for x in b.items if x.required]
        expect_stored = [x for x in required if x.item.is_stored]
        expect_commands = [x for x in required if x.item.is_command]
        five_xx = sum(1 for a in self.attempts if a.status is not None and a.status >= 500)
        p99 = ", ".join(f"{phase} {self._ms(percentile(lat, 99))}" for phase, lat in self._latencies().items())
        lines = [
            f"faults: sent {self.events_sent} events ({len(b.items)} items, {sum(x.item.is_command for x in b.items)}"
            f" commands) in {self.load_seconds:.0f} s · stored {sum(x.stored > 0 for x in expect_stored)}"
            f"/{len(expect_stored)} · commands {sum(x.commands > 0 for x in expect_commands)}/{len(expect_commands)}"
            f" · replies {sum(x.replies > 0 for x in expect_commands)}/{len(expect_commands)}"
            f" · lost {b.count('lost')} · duplicated {b.count('duplicated')} · 5xx {five_xx}"
            f" · ack p99 by fault: {p99}",
        ]
        phases = ["steady"] + [f.name for f in self.faults] + ["after"]
        by_phase = defaultdict(list)
        for a in self.attempts:
            by_phase[a.phase].append(a)
        notes = {f.name: f for f in self.faults}
        for phase in phases:
            attempts = by_phase.get(phase, [])
            lat = [a.seconds for a in attempts]
            lost = Counter(part for x in b.items if x.phase == phase for part in x.lost)
            dup = Counter(part for x in b.items if x.phase == phase for part in x.duplicated)
            fault = notes.get(phase)
            when = f" at t+{fault.at:.0f} s ({fault.seconds:.1f} s)" if fault else ""
            lines.append(
                f"faults:   {phase}{when}: {sum(1 for a in attempts if a.number == 0)} events"
                f" + {sum(1 for a in attempts if a.number)} retries · answers {self._statuses(attempts)}"
                f" · ack p50 {self._ms(percentile(lat, 50))} p99 {self._ms(percentile(lat, 99))}"
                f" max {self._ms(max(lat, default=0))}"
                + self._charged(phase, lost, dup) + (f" — {fault.note}" if fault else ""))
        refused = [x for x in b.items if not x.required]
        gave_up = len({a.key for a in self.attempts} - {a.key for a in self.attempts if a.acked})
        lines.append(
            f"faults: drain: {self.drained} · replies pending {b.replies_unsettled['pending']}, failed "
            f"{b.replies_unsettled['failed']} · parked {b.parked} · deliveries never acknowledged {gave_up}"
            f" · slash commands refused {len(refused)} (answered anyway {sum(x.replies > 0 for x in refused)})"
            f" · posts without a token {b.unmatched_posts}")
        examples = list({x.phase: x for x in reversed(b.items) if x.lost or x.duplicated}.values())[::-1][:6]
        if examples:
            lines.append("faults: e.g. " + "; ".join(self._describe(x) for x in examples))
        exits = defaultdict(Counter)  # (process, exit code, last error) -> {phase: times}
        for e in self.exits:
            exits[(e.name, e.code, e.reason)][e.phase] += 1
        lines.append("faults: unplanned exits (restarted by the suite's supervisor): " + ("; ".join(
            f"{name} exit {code} ×{sum(phases.values())} ({', '.join(f'{p} ×{n}' for p, n in phases.items())}):"
            f" {reason}" for (name, code, reason), phases in exits.items()) or "none"))
        for process, counts in self.errors.items():
            lines.append(f"faults: logged by {process}: " + ", ".join(f"{k} ×{n}" for k, n in counts.most_common(8)))
        return lines

    def _latencies(self) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        for phase in ["steady"] + [f.name for f in self.faults] + ["after"]:
            values = [a.seconds for a in self.attempts if a.phase == phase]
            if values:
                out[phase] = values
        return out

    def _charged(self, phase: str, lost: Counter, dup: Counter) -> str:
        charged = sum(x.phase == phase for x in self.books.items)
        if not charged:
            return ""
        return (f" · of {charged} items charged to it: lost {self.books.count('lost', phase)}{self._parts(lost)},"
                f" duplicated {self.books.count('duplicated', phase)}{self._parts(dup)}")

    @staticmethod
    def _describe(x: ItemBooks) -> str:
        item = x.item
        what = f"#{item.seq} {item.kind} in {item.channel} ({x.phase})"
        if item.is_stored:
            what += f", stored ×{x.stored}"
        if item.is_command:
            what += (f", {item.token} recorded ×{x.commands}, reply {x.reply_status or 'never composed'},"
                     f" posted ×{x.replies}" + (f", misdirected ×{x.misdirected}" if x.misdirected else ""))
        return what

    @staticmethod
    def _statuses(attempts: list[Attempt]) -> str:
        """e.g. `200 ×210, late ×3, none ×1` (late: an answer after Slack's 3 s; none: no answer at all)."""
        seen = Counter("none" if a.status is None else "late" if a.seconds > ACK_DEADLINE else str(a.status)
                       for a in attempts)
        return ", ".join(f"{k} ×{n}" for k, n in sorted(seen.items())) or "none sent"

    @staticmethod
    def _ms(seconds: float) -> str:
        return f"{seconds * 1000:.0f} ms"

    @staticmethod
    def _parts(counter: Counter) -> str:
        order = ("messages", "commands", "replies", "misdirected")
        return f" ({', '.join(f'{k} {counter[k]}' for k in order if counter[k])})" if counter else ""
