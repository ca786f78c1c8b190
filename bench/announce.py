"""Announcements (docs/announcements.md) through a real worker, PostgreSQL and RabbitMQ, posted to the fake Slack.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/charla_announce \\
    CELERY_BROKER_URL=amqp://guest:guest@127.0.0.1:5672/charla_announce  python -m bench.announce

It migrates that database, purges the vhost's queues, starts the fake Slack and `bin/process worker`
(CELERY_WORKER_CONCURRENCY=2, LOG_LEVEL=WARNING), then:
1. Accepted/s: publishes BACKLOG announcements (confirmed, each to its own channel so no pacing is measured)
   while the worker is stopped, starts it, and times the drain: announcements recorded (the `announce` task
   done) per second, and posts per second at the fake Slack.
2. Latency at a steady RATE/s for SECONDS: each announcement to its own channel, publish (just before the
   confirmed publish) → chat.postMessage recorded by the fake Slack; p50 / p99 / max.
Stops what it started on exit. Figures go to bench/README.md by hand.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backlog", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    for name in ("DATABASE_URL", "CELERY_BROKER_URL"):
        if not os.environ.get(name):
            print(f"bench.announce: set {name} (PostgreSQL and RabbitMQ of your own)", file=sys.stderr)
            return 2
    os.environ.update({"SECRET_KEY": secrets.token_urlsafe(48), "SLACK_BOT_TOKEN": "xoxb-bench-" + secrets.token_hex(8),
                       "SLACK_SIGNING_SECRET": secrets.token_hex(16), "DEBUG": "0", "LOG_LEVEL": "WARNING",
                       "DATA_DIR": tempfile.mkdtemp(prefix="charla-bench-announce-")})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")
    subprocess.run([str(REPO / "bin" / "process"), "release"], check=True, cwd=REPO, capture_output=True)

    import django

    django.setup()
    from tests.support.fake_slack import FakeSlack
    from tests.support.stack import start_stack

    _purge()
    fake = FakeSlack().start()
    stack = None
    try:
        run = uuid.uuid4().hex[:6].upper()
        # 1. drain a backlog
        with _publisher() as publish:
            for i in range(args.backlog):
                publish({"id": f"b{run}{i}", "channel": f"CB{run}{i}", "text": "backlog"})
        started = time.time()
        stack = start_stack(database_url=os.environ["DATABASE_URL"], broker_url=os.environ["CELERY_BROKER_URL"],
                            data_dir=Path(os.environ["DATA_DIR"]), logs=Path(os.environ["DATA_DIR"]) / "logs",
                            fake=fake, roles=(), broker_proxy=False,
                            extra_env={"LOG_LEVEL": "WARNING", "CELERY_WORKER_CONCURRENCY": "2"})
        worker = stack.start("worker")  # at WARNING it does not log " ready.": the drain's own clock starts now
        first_recorded, recorded_at = _wait_recorded(f"b{run}", args.backlog)
        fake.wait_for(lambda calls: _posted(calls) >= args.backlog, timeout=600)
        # CPU the worker (parent and pool children) spent on start-up plus the whole backlog, recorded and posted:
        # on a machine shared with other work this says more than the rates do.
        worker_cpu = _cpu_seconds(worker.pid)
        posted_at = max(c["at"] for c in fake.calls if c["body"].get("channel", "").startswith(f"CB{run}"))
        first = min(c["at"] for c in fake.calls if c["body"].get("channel", "").startswith(f"CB{run}"))
        # from the first announcement recorded: the worker's start-up is not the contract's cost
        accepted_rate = (args.backlog - 1) / (recorded_at - first_recorded)
        startup = first_recorded - started
        posted_rate = args.backlog / (posted_at - first)

        # 2. steady rate
        fake.reset()
        sent: dict[str, float] = {}
        count = int(args.rate * args.seconds)
        with _publisher() as publish:
            begin = time.time()
            for i in range(count):
                due = begin + i / args.rate
                time.sleep(max(0.0, due - time.time()))
                channel = f"CS{run}{i}"
                sent[channel] = time.time()
                publish({"id": f"s{run}{i}", "channel": channel, "text": "steady"})
        fake.wait_for(lambda calls: len([c for c in calls if c["method"] == "chat.postMessage"]) >= count, timeout=300)
        latency = sorted((c["at"] - sent[c["body"]["channel"]]) * 1000 for c in fake.calls
                         if c["method"] == "chat.postMessage" and c["body"].get("channel") in sent)
        result = {
            "backlog": args.backlog, "accepted_per_s": round(accepted_rate, 1), "posted_per_s": round(posted_rate, 1),
            "rate": args.rate, "seconds": args.seconds, "posts": len(latency),
            "worker_start_s": round(startup, 1), "worker_cpu_s": round(worker_cpu, 1),
            "worker_cpu_ms_per_announcement": round(worker_cpu * 1000 / args.backlog, 2),
            "load_average": os.getloadavg()[0], "p50_ms": round(statistics.median(latency), 1),
            "p90_ms": round(latency[int(len(latency) * 0.9)], 1),
            "p99_ms": round(latency[min(len(latency) - 1, int(len(latency) * 0.99))], 1),
            "max_ms": round(latency[-1], 1),
        }
        print(json.dumps(result))
        return 0
    finally:
        if stack is not None:
            stack.stop_all()
        fake.stop()


class _publisher:
    """Publishes as the reference producers do: confirmed, persistent, to `charla` with announce.bench."""

    def __enter__(self):
        from kombu import Connection

        self.conn = Connection(os.environ["CELERY_BROKER_URL"], transport_options={"confirm_publish": True})
        producer = self.conn.Producer(auto_declare=False)

        def publish(message: dict) -> None:
            producer.publish(json.dumps(message).encode(), exchange="charla", routing_key="announce.bench",
                             content_type="application/json", content_encoding="utf-8", delivery_mode=2,
                             mandatory=True, retry=False)
        return publish

    def __exit__(self, *exc):
        self.conn.release()


def _purge() -> None:
    """Declare the layout (as a worker would, so the backlog has a queue) and empty it."""
    from kombu import Connection

    from app.queueing import layout

    with Connection(os.environ["CELERY_BROKER_URL"]) as conn:
        for queue in (layout.ANNOUNCEMENTS_QUEUE, layout.DELIVERIES_QUEUE, *layout.TASK_QUEUES):
            bound = queue(conn.default_channel)
            bound.declare()
            bound.purge()


def _wait_recorded(prefix: str, count: int) -> tuple[float, float]:
    """(when the first of them was recorded, when the last was), by the rows' own times."""
    from django.db.models import Max, Min

    from app.bot.models import Announcement

    rows = Announcement.objects.filter(key__startswith=prefix)
    while rows.count() < count:
        time.sleep(0.2)
    span = rows.aggregate(first=Min("created_at"), last=Max("created_at"))
    return span["first"].timestamp(), span["last"].timestamp()


def _cpu_seconds(session: int) -> float:
    """User + system CPU of every process in the session (the worker runs in a session of its own)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session:  # field 6 of stat: the session id
            total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
    return total / ticks


def _posted(calls) -> int:
    return sum(1 for c in calls if c["method"] == "chat.postMessage")


if __name__ == "__main__":
    sys.exit(main())
