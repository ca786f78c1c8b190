"""Starts Celery's worker and beat as `celery --app app.celery:celery_app worker|beat` would, with the options
bin/process gives them, but without Celery's command line: importing it loads every subcommand, and the
`amqp` shell brings click_repl and prompt_toolkit — ~6 MB in the worker's parent that each pool child
inherits, ~19 MB of a three-process worker's RSS, for a shell these processes never open. The `celery`
command is still there for inspect, control and purge.

    python -m app.celery_main worker [--beat]     # --beat: run the scheduler inside the worker
    python -m app.celery_main beat
"""
from __future__ import annotations

import sys

from app.celery import celery_app

USAGE = "usage: python -m app.celery_main worker [--beat] | beat"


def _settings():
    from django.conf import settings  # the first read loads them: a configuration error stops here, in one line

    return settings


def run_worker(embedded_beat: bool) -> int:
    # Gossip, mingle and worker heartbeats are chatter between workers that nothing here uses; on
    # CloudAMQP they cost messages and connections (see deploy/heroku/README.md). Heartbeats come back with
    # CELERY_WORKER_EVENTS=1, for Flower: with them the worker has an event dispatcher Flower can turn on.
    # optimization="default" is the command line's default (the pool hands a task to the first child that
    # can take it); left unset here it would mean "fair", ~8 ms more per reply at 50 events/s (bench/).
    settings = _settings()
    worker = celery_app.Worker(queues=[queue.name for queue in settings.CELERY_TASK_QUEUES],
                               loglevel=settings.CONFIG.log_level, beat=embedded_beat, optimization="default",
                               without_gossip=True, without_mingle=True,
                               without_heartbeat=not settings.CONFIG.worker_events)
    worker.start()
    return worker.exitcode


def run_beat() -> int:
    celery_app.Beat(loglevel=_settings().CONFIG.log_level).run()
    return 0


def main(argv: list[str]) -> int:
    if argv == ["worker"] or argv == ["worker", "--beat"]:
        return run_worker(embedded_beat=len(argv) == 2)
    if argv == ["beat"]:
        return run_beat()
    print(USAGE, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
