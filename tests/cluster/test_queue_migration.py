"""A deployment on classic queues, with a backlog, moved to quorum queues while Slack keeps sending: the
backlog is answered, each command once (README.md: "Quorum queues", the migration).

A private PostgreSQL and RabbitMQ node, web, two workers and beat on classic queues (the default). Under a
steady stream of signed mentions, as an operator following the README would:
1. stop the workers and beat (web keeps answering Slack; deliveries pile up in the classic queues);
2. run `python manage.py migrate_queues --to quorum` while web is still publishing;
3. restart web and start the workers and beat with CHARLA_QUEUE_TYPE=quorum.
Then the books are read: every mention stored once, every command answered once, and every queue is a
quorum queue.
"""
from __future__ import annotations

import signal
import subprocess
import time

import pytest

from tests.faults.accounting import WORK_QUEUES
from tests.faults.system import FaultSystem
from tests.faults.harness import books_after_drain, load_through_faults, started_within
from tests.faults.test_faults import Injector
from tests.faults.workload import SlackSender
from tests.support.private_services import PrivateRabbitMQ
from tests.support.stack import REPO

RATE = 8.0
EVENTS = 250
BUDGET = 5 * 60
HOLD = 6.0   # how long the backlog builds up with no worker running
MENTIONS = (("mention", 0.75), ("mention-twice", 0.25))
STOPPED = ("worker-1", "worker-2", "beat")


class Migration:
    def __init__(self, system: FaultSystem):
        self.system = system
        self.output = ""
        self.backlog: dict = {}

    def stop_workers(self) -> str:
        with self.system.lock:
            for name in STOPPED:
                self.system.stack.stop(name, sig=signal.SIGTERM)
        time.sleep(HOLD)  # the deliberate window: web goes on, deliveries wait in the classic queues
        self.backlog = self.system.rabbit.queue_counts()
        waiting = ", ".join(f"{q} {r}+{u}" for q, (r, u) in sorted(self.backlog.items()) if r or u)
        return f"workers and beat stopped (SIGTERM); after {HOLD:g} s waiting: {waiting or 'nothing'}"

    def migrate(self) -> str:
        started = time.monotonic()
        result = subprocess.run(["python", "manage.py", "migrate_queues", "--to", "quorum"], cwd=REPO,
                                env=self.system.stack.env, capture_output=True, text=True, timeout=120)
        self.output = result.stdout + result.stderr
        if result.returncode != 0:
            raise RuntimeError(f"migrate_queues failed: {self.output[-1500:]}")
        return f"migrate_queues --to quorum took {time.monotonic() - started:.1f} s: {self.output.splitlines()[-2]}"

    def start_on_quorum(self) -> str:
        self.system.stack.env["CHARLA_QUEUE_TYPE"] = "quorum"
        self.system.restart("web", signal.SIGTERM)
        self.system.stack.wait_for_http()
        with self.system.lock:
            for name in STOPPED:
                self.system._start(name)
            for name in STOPPED:
                self.system.wait_ready(name)
        return "web restarted, workers and beat started, with CHARLA_QUEUE_TYPE=quorum"


def queue_types(rabbit: PrivateRabbitMQ) -> dict[str, str]:
    result = rabbit.ctl("-q", "list_queues", "name", "type", timeout=30)
    return dict(line.split()[:2] for line in result.stdout.splitlines() if len(line.split()) >= 2)


def test_a_classic_deployment_with_a_backlog_moves_to_quorum_queues_and_answers_it_once(capsys):
    suite_started = time.monotonic()
    system = FaultSystem(prefix="charla-migrate-")
    with started_within(system, BUDGET):
        assert queue_types(system.rabbit).get("deliveries") == "classic"
        steps = Migration(system)
        injector = Injector(system, faults=(("stop-workers", lambda s: steps.stop_workers()),
                                            ("migrate", lambda s: steps.migrate()),
                                            ("start-on-quorum", lambda s: steps.start_on_quorum())),
                            warmup=6.0, gap=2.0)
        system.phase = lambda: injector.current
        sender = SlackSender(system.stack.web_url, system.stack.env["SLACK_SIGNING_SECRET"], system.fake.url,
                             phase=lambda: injector.current, seed=41, rate=RATE, kinds=MENTIONS)
        charges, load_seconds = load_through_faults(injector, sender, EVENTS)
        summary = books_after_drain(system, injector, sender, charges, load_seconds,
                                    min(time.monotonic() + 150, suite_started + BUDGET - 20))
        lines = [line.replace("faults:", "migration:", 1) for line in summary.lines()]
        types = queue_types(system.rabbit)
        with capsys.disabled():
            print("\n" + "\n".join(lines) + "\nmigration: migrate_queues said: "
                  + " | ".join(steps.output.strip().splitlines())
                  + f"\nmigration: queue types after: {types}; the test took {time.monotonic() - suite_started:.0f} s",
                  flush=True)
        assert sum(r for q, (r, _) in steps.backlog.items() if q in WORK_QUEUES) > 0, "no backlog to migrate"
        assert all(types.get(q) == "quorum" for q in (*WORK_QUEUES, "periodic")), types
        assert not any(".moving-to-" in q for q in types), types
        if summary.failures:
            pytest.fail("; ".join(summary.failures) + "\n" + lines[0], pytrace=False)
