"""A RabbitMQ node dies under load and nothing is lost: the bot on quorum queues over a private 3-node cluster.

A private PostgreSQL, three RabbitMQ nodes joined into one cluster (tests/support/private_services.py),
web, two workers and beat, all with CHARLA_QUEUE_TYPE=quorum and the failover URL of the three nodes. Slack
sends a steady stream of signed mentions (retrying unanswered ones, as Slack does) while:
1. the node leading most of the work queues is killed (-9) and left down;
2. it is started again (same data: it rejoins and catches up);
3. a second node, the one leading most queues by then, is killed (-9) and started again at once.
Then the books are read: every mention stored once, every command answered once, or it fails. It prints
web's ack p99 and the reply p99 (from the mention sent to the reply at the fake Slack) for each phase.

Run it: ./charla cluster (README.md here).
"""
from __future__ import annotations

import os
import time
from collections import Counter, defaultdict

import pytest

from tests.faults.accounting import TOKEN, WORK_QUEUES, percentile
from tests.faults.system import FaultSystem
from tests.faults.harness import books_after_drain, load_through_faults, started_within
from tests.faults.test_faults import Injector
from tests.faults.workload import SlackSender
from tests.support.private_services import PrivateRabbitCluster

EVENTS = int(os.environ.get("CLUSTER_EVENTS", "500"))
RATE = float(os.environ.get("CLUSTER_RATE", "10"))
SEED = int(os.environ.get("CLUSTER_SEED", "14"))
BUDGET = 6 * 60           # the whole test, set-up included (clean-up has the reserve)
TEARDOWN_RESERVE = 45
DRAIN_SECONDS = 150.0     # above the reconciler's one minute: a command it must re-drive still counts
LEADER_DOWN = 10.0        # how long the first node stays dead under load
SECOND_DOWN = 2.0         # "a moment": the second node is started again right after
MENTIONS = (("mention", 0.75), ("mention-twice", 0.25))


class ClusterFaults:
    def __init__(self, system: FaultSystem):
        self.system = system
        self.cluster: PrivateRabbitCluster = system.rabbit
        self.first = None

    def _busiest_leader(self, exclude=()) -> tuple[str, list[str]]:
        leaders = self.cluster.leaders()
        missing = [q for q in WORK_QUEUES if q not in leaders]
        if missing:
            raise RuntimeError(f"not quorum queues (or no leader): {', '.join(missing)}; leaders: {leaders}")
        led = Counter(leaders[q] for q in WORK_QUEUES if leaders[q] not in exclude)
        node, _ = led.most_common(1)[0]
        return node, [q for q in WORK_QUEUES if leaders[q] == node]

    def kill_leader(self) -> str:
        name, queues = self._busiest_leader()
        self.first = self.cluster.node_named(name)
        self.first.crash()
        time.sleep(LEADER_DOWN)  # the deliberate window: the cluster works on with two nodes
        now = self.cluster.leaders()
        return (f"{name} killed (-9), leader of {', '.join(queues)}; down {LEADER_DOWN:g} s; leaders then: "
                + ", ".join(f"{q} {now.get(q, '?')}" for q in WORK_QUEUES))

    def restart_leader(self) -> str:
        started = time.monotonic()
        self.first.start()
        return f"{self.first.node} started again on its data, up in {time.monotonic() - started:.1f} s"

    def kill_second(self) -> str:
        name, queues = self._busiest_leader(exclude=(self.first.node,))
        node = self.cluster.node_named(name)
        node.crash()
        time.sleep(SECOND_DOWN)
        started = time.monotonic()
        node.start()
        return (f"{name} killed (-9), leader of {', '.join(queues) or 'no work queue'}; started again after "
                f"{SECOND_DOWN:g} s, up in {time.monotonic() - started:.1f} s")


def reply_latencies(posts, items, sent_at, charges, wall_started) -> dict[str, list[float]]:
    """Seconds from an item's first send to its reply's post at the fake Slack, by the phase it is charged to."""
    first_post = {}
    for post in posts:
        found = TOKEN.search(str(post["body"].get("text", "")))
        if found:
            first_post.setdefault(found.group(1), post["at"])
    by_phase = defaultdict(list)
    for item in items:
        if item.is_command and item.token in first_post and item.seq in sent_at:
            by_phase[charges[item.seq]].append(first_post[item.token] - (wall_started + sent_at[item.seq]))
    return by_phase


def test_a_node_dies_under_load_and_nothing_is_lost(capsys):
    suite_started = time.monotonic()
    system = FaultSystem(broker=PrivateRabbitCluster, extra_env={"CHARLA_QUEUE_TYPE": "quorum"},
                         prefix="charla-cluster-")
    with started_within(system, BUDGET):
        setup_seconds = time.monotonic() - suite_started
        faults = ClusterFaults(system)
        injector = Injector(system, faults=(("leader-kill", lambda s: faults.kill_leader()),
                                            ("leader-restart", lambda s: faults.restart_leader()),
                                            ("second-kill", lambda s: faults.kill_second())),
                            warmup=8.0, gap=6.0)
        system.phase = lambda: injector.current
        sender = SlackSender(system.stack.web_url, system.stack.env["SLACK_SIGNING_SECRET"], system.fake.url,
                             phase=lambda: injector.current, seed=SEED, rate=RATE, kinds=MENTIONS)
        wall_started = time.time()
        charges, load_seconds = load_through_faults(injector, sender, EVENTS)
        deadline = min(time.monotonic() + DRAIN_SECONDS, suite_started + BUDGET - 5)
        summary = books_after_drain(system, injector, sender, charges, load_seconds, deadline)
        lines = [line.replace("faults:", "cluster:", 1) for line in summary.lines()]
        replies = reply_latencies(system.fake.posts(), sender.items, sender.item_sent_at, charges, wall_started)
        phases = ["steady"] + [f.name for f in injector.records] + ["after"]
        lines.insert(1, "cluster: reply p50/p99 by phase: " + ", ".join(
            f"{p} {percentile(replies[p], 50) * 1000:.0f}/{percentile(replies[p], 99) * 1000:.0f} ms"
            f" ({len(replies[p])})" for p in phases if replies.get(p)))
        with capsys.disabled():
            print("\n" + "\n".join(lines) + f"\ncluster: set-up {setup_seconds:.0f} s; the test took "
                  f"{time.monotonic() - suite_started:.0f} s (clean-up not included)"
                  + (f"; kept {system.base}" if os.environ.get("FAULTS_KEEP") else ""), flush=True)
        if summary.failures:
            pytest.fail("; ".join(summary.failures) + " (the lines above say where)\n" + lines[0], pytrace=False)
