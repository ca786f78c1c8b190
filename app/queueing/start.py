"""Starts Celery's worker and beat as `celery --app app.celery:celery_app worker|beat` would, with the options
bin/process gives them, but without Celery's command line: importing it loads every subcommand and the
`amqp` shell's click_repl and prompt_toolkit, memory every pool child inherits for a shell these processes
never open (bench/README.md). The `celery` command is still there for inspect, control and purge.

    python -m app.queueing.start worker     # WORKER_EMBEDDED_BEAT=1 (app/environment.py): beat runs inside it
    python -m app.queueing.start beat
    python -m app.queueing.start socket     # Socket Mode (SLACK_APP_TOKEN): app/queueing/socket_mode.py
"""
from __future__ import annotations

import os
import socket
import sys

from app.queueing import layout
from app.queueing.celery_app import celery_app

USAGE = "usage: python -m app.queueing.start worker | beat | socket"


def _settings():
    from django.conf import settings  # the first read loads them: a configuration error stops here, in one line

    return settings


def run_worker() -> int:
    # Gossip, mingle and worker heartbeats are chatter between workers that nothing here uses; on
    # CloudAMQP they cost messages and connections (see deploy/heroku/README.md). Heartbeats come back with
    # CELERY_WORKER_EVENTS=1, for Flower: with them the worker has an event dispatcher Flower can turn on.
    # optimization="default" is the command line's default (the pool hands a task to the first child that
    # can take it); left unset here it would mean "fair", slower per reply (bench/README.md).
    # A node name of its own (pid@host): two workers on one host would otherwise both be celery@host and
    # the second would die on the first's exclusive control queue.
    settings = _settings()
    worker = celery_app.Worker(hostname=f"worker-{os.getpid()}@{socket.gethostname()}",
                               queues=[queue.name for queue in layout.TASK_QUEUES],
                               loglevel=settings.CONFIG.log_level, beat=settings.CONFIG.worker_embedded_beat,
                               optimization="default", without_gossip=True, without_mingle=True,
                               without_heartbeat=not settings.CONFIG.worker_events)
    worker.start()
    return worker.exitcode


def run_beat() -> int:
    celery_app.Beat(loglevel=_settings().CONFIG.log_level).run()
    return 0


def main(argv: list[str]) -> int:
    if argv == ["worker"]:
        return run_worker()
    if argv == ["beat"]:
        return run_beat()
    if argv == ["socket"]:
        from app.queueing import socket_mode

        return socket_mode.run()
    print(USAGE, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
