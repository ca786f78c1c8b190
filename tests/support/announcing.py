"""Announcements as producers send them (docs/announcements.md), for the tests: straight to the broker the test
run uses, as any client of it could, bypassing web."""
from __future__ import annotations

import json
import time

from app.queueing import layout


def publish(body: bytes | str | dict | list, routing_key: str = "announce.tests", *, broker_url: str | None = None,
            content_type: str = "application/json", headers: dict | None = None) -> None:
    """Publish one message to `charla` (persistent, confirmed on RabbitMQ), as a producer does."""
    from kombu import Connection

    from app.queueing.celery_app import celery_app

    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode("utf-8")
    conn = Connection(broker_url) if broker_url else celery_app.connection_for_write()
    with conn:
        # On RabbitMQ a producer needs only the exchange. kombu's virtual transports (the embedded broker)
        # route by the bindings the publishing process knows, so there it declares the queue it routes to.
        declare = [] if conn.transport.driver_type == "amqp" else [layout.ANNOUNCEMENTS_QUEUE]
        conn.Producer(auto_declare=False).publish(
            body, exchange=layout.EXCHANGE.name, routing_key=routing_key, content_type=content_type,
            content_encoding="utf-8", delivery_mode=2, headers=headers or {}, retry=False, declare=declare)


def announcement(channel: str, key: str, text: str | None = None, **extra) -> dict:
    return {"id": key, "channel": channel, "text": text or f"announcement {key}", **extra}


def schema() -> dict:
    """The contract's JSON Schema, the file the consumer validates with."""
    from app.bot.announcements import SCHEMA_PATH

    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def wait_for_dead_letters(count: int, source: str = "announcements", timeout: float = 30):
    from app.bot.models import DeadLetter

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        letters = list(DeadLetter.objects.filter(source=source).order_by("id"))
        if len(letters) >= count:
            return letters
        time.sleep(0.2)
    raise AssertionError(f"expected {count} dead letters from {source}, have "
                         f"{DeadLetter.objects.filter(source=source).count()}")
