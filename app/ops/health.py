"""Is the database answering? Is the broker? How deep are the queues?"""
from __future__ import annotations

import time
from dataclasses import dataclass

from django.db import connection

from app.queueing.layout import QUEUE_NAMES


@dataclass(frozen=True)
class Check:
    ok: bool
    millis: float
    detail: str = ""


def database_check() -> Check:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not ready"
        return Check(False, (time.perf_counter() - started) * 1000, f"{type(exc).__name__}: {exc}")
    return Check(True, (time.perf_counter() - started) * 1000)


def broker_check(timeout: float = 3.0) -> Check:
    from app.queueing.celery_app import celery_app

    started = time.perf_counter()
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
            conn.default_channel  # opens a channel: proves the broker accepts us, not just TCP
    except Exception as exc:
        return Check(False, (time.perf_counter() - started) * 1000, f"{type(exc).__name__}: {exc}")
    return Check(True, (time.perf_counter() - started) * 1000)


def queue_depths(timeout: float = 3.0) -> dict[str, int] | None:
    """Messages waiting in each named queue, or None if the broker does not answer."""
    from app.queueing.celery_app import celery_app

    depths = {}
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
            for name in QUEUE_NAMES:
                channel = conn.channel()
                try:
                    depths[name] = channel.queue_declare(queue=name, passive=True).message_count
                except Exception:  # the queue is declared by the first worker; before that it is empty
                    depths[name] = 0
                finally:
                    try:
                        channel.close()
                    except Exception:
                        pass
    except Exception:
        return None
    return depths
