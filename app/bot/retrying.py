"""Riding out a database that restarts: what counts as transient, and how long to wait before the next try.

A PostgreSQL restart (a deploy, a failover, `pg_ctl restart`) is down for well under a second; a task that
hit it raises OperationalError or InterfaceError. Those are retried — first in place, briefly, then by
rescheduling the task — and never dropped: Slack has already had its 200 and will not send again.
"""
from __future__ import annotations

import logging
import random
import time

from django.db import InterfaceError, OperationalError, connection

log = logging.getLogger(__name__)

TRANSIENT_DATABASE_ERRORS = (OperationalError, InterfaceError)
# Waits before each in-place retry (about 8 s in all, with jitter): enough for a restart, short enough to
# hand the slot back to the broker (a rescheduled task) when the database is really gone.
IN_PLACE_WAITS = (0.2, 0.5, 1.0, 2.0, 4.0)


def backoff(attempt: int, first: float = 1.0, cap: float = 60.0) -> float:
    """Exponential with jitter: attempt 0 → 0.5–1 × first, doubling up to `cap`."""
    return random.uniform(0.5, 1.0) * min(cap, first * 2 ** attempt)


def with_database_retries(fn, *args, waits=IN_PLACE_WAITS, **kwargs):
    """Call fn; on a transient database error drop the broken connection, wait and call it again.
    Re-raises the error when the waits are used up. fn must be safe to repeat (every service here is)."""
    for wait in (*waits, None):
        try:
            return fn(*args, **kwargs)
        except TRANSIENT_DATABASE_ERRORS as exc:
            if wait is None or connection.in_atomic_block:
                raise  # inside a caller's transaction only the caller can start over
            log.warning("database unavailable (%s: %s); trying again in %.1f s", type(exc).__name__,
                        str(exc).strip().splitlines()[0] if str(exc).strip() else "", wait)
            connection.close()  # a new connection at the next query
            time.sleep(wait * random.uniform(0.8, 1.2))
