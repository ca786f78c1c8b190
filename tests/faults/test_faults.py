"""Nothing lost, nothing twice, whatever crashes: the bot on a private PostgreSQL + RabbitMQ, two workers
and beat, under Slack's steady traffic while faults are injected one after another (README.md here).

Run it: ./charla faults
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field

import pytest

from tests.faults.accounting import FaultRecord
from tests.faults.harness import books_after_drain, load_through_faults, started_within
from tests.faults.system import FaultSystem
from tests.faults.workload import SlackSender

EVENTS = int(os.environ.get("FAULTS_EVENTS", "1500"))
RATE = float(os.environ.get("FAULTS_RATE", "15"))
SEED = int(os.environ.get("FAULTS_SEED", "9"))
BUDGET = 8 * 60            # the whole suite, set-up and clean-up included
TEARDOWN_RESERVE = 60      # kept for stopping everything at the end
DRAIN_SECONDS = float(os.environ.get("FAULTS_DRAIN_SECONDS", "150"))
WARMUP, GAP = 6.0, 6.0     # steady load before the first fault; between one fault's end and the next

# In order. Each is given the system and returns what it did, for the report.
FAULTS = (
    ("kill-worker", lambda s: s.kill_worker()),
    ("rabbit-crash", lambda s: s.rabbit_crash(stall=5.0)),
    ("pg-restart-fast", lambda s: s.postgres_restart("fast")),
    ("slack-429", lambda s: s.slack_outage(429, seconds=6.0)),
    ("pg-restart-immediate", lambda s: s.postgres_restart("immediate")),
    ("slack-500", lambda s: s.slack_outage(500, seconds=6.0)),
    ("worker-sigterm", lambda s: s.worker_sigterm()),
    ("web-stall", lambda s: s.web_stall(seconds=4.0)),
)


@dataclass
class Injector:
    system: FaultSystem
    faults: tuple = FAULTS
    warmup: float = WARMUP
    gap: float = GAP
    current: str = "steady"
    records: list[FaultRecord] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)

    def run(self, load_started: float) -> None:
        try:
            time.sleep(self.warmup)
            for name, inject in self.faults:
                self.current = name
                started = time.monotonic()
                try:
                    note, failed = inject(self.system), False
                except Exception as exc:  # reported and failed on, after the books are read
                    note, failed = f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:300]}", True
                self.records.append(FaultRecord(name, started - load_started, time.monotonic() - started, note,
                                                failed))
                time.sleep(self.gap)
            self.current = "after"
        finally:
            self.done.set()


def test_nothing_is_lost_or_doubled_under_crashes_restarts_and_stalls(capsys):
    suite_started = time.monotonic()
    system = FaultSystem()
    with started_within(system, BUDGET - TEARDOWN_RESERVE):
        injector = Injector(system)
        system.phase = lambda: injector.current
        sender = SlackSender(system.stack.web_url, system.stack.env["SLACK_SIGNING_SECRET"], system.fake.url,
                             phase=lambda: injector.current, seed=SEED, rate=RATE)
        charges, load_seconds = load_through_faults(injector, sender, EVENTS)
        deadline = min(time.monotonic() + DRAIN_SECONDS, suite_started + BUDGET - TEARDOWN_RESERVE)
        summary = books_after_drain(system, injector, sender, charges, load_seconds, deadline)
        lines = summary.lines()
        with capsys.disabled():
            print("\n" + "\n".join(lines) + f"\nfaults: suite took {time.monotonic() - suite_started:.0f} s "
                  "(clean-up not included)" + (f"; kept {system.base}" if os.environ.get("FAULTS_KEEP") else ""),
                  flush=True)
        if summary.failures:
            pytest.fail("; ".join(summary.failures) + " (the lines above say where)\n" + lines[0], pytrace=False)
