"""Check on the real broker what app.bot.ingress.hand_off publishes: the delivery's bytes exactly as received,
persistent, JSON, to the `deliveries` queue with routing key `deliveries.slack`; and that it is fork-safe
(after a fork the child publishes on a connection of its own and the parent's keeps working). Exit 0 when
all holds. No worker may be consuming the deliveries queue.

    CELERY_BROKER_URL=amqp://.../charla_bench python -m bench.handoff_check
"""
from __future__ import annotations

import json
import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")
django.setup()


from app.bot import ingress  # noqa: E402
from app.celery import celery_app  # noqa: E402
from app.queueing import layout  # noqa: E402
from tests.support import slack_requests  # noqa: E402

QUEUE = "deliveries"


def read_all(channel, queue: str, expected: int) -> list:
    """Publishing is asynchronous (no confirms): wait up to 5 s for the expected number of messages."""
    messages, deadline = [], time.monotonic() + 5
    while len(messages) < expected and time.monotonic() < deadline:
        m = channel.basic_get(queue, no_ack=True)
        if m is None:
            time.sleep(0.05)
            continue
        messages.append(m)
    time.sleep(0.2)
    while (m := channel.basic_get(queue, no_ack=True)) is not None:  # and nothing more
        messages.append(m)
    return messages


def main() -> int:
    payload = slack_requests.mention("help", channel="CHANDOFFCHECK", event_id="EvHANDOFFCHECK")
    body = json.dumps(payload, separators=(", ", ": ")).encode()
    failures = []
    with celery_app.connection_for_write() as conn:
        channel = conn.default_channel
        layout.DELIVERIES_QUEUE(channel).declare()  # exchange, queue and binding on a fresh broker
        channel.queue_purge(QUEUE)
        if not ingress.hand_off(payload, body):
            failures.append("hand_off returned False")
        got = read_all(channel, QUEUE, 1)
        if len(got) != 1:
            failures.append(f"expected 1 message in {QUEUE}, found {len(got)}")
        else:
            m = got[0]
            raw = m.body if isinstance(m.body, bytes) else m.body.encode()  # py-amqp decodes utf-8 bodies
            seen = {"body": raw, "content_type": m.content_type, "content_encoding": m.content_encoding,
                    "delivery_mode": m.properties.get("delivery_mode"),
                    "exchange": m.delivery_info.get("exchange"), "routing_key": m.delivery_info.get("routing_key")}
            wanted = {"body": body, "content_type": "application/json", "content_encoding": "utf-8",
                      "delivery_mode": 2, "exchange": "charla", "routing_key": layout.DELIVERIES_ROUTING_KEY}
            for key in wanted:
                if seen[key] != wanted[key]:
                    failures.append(f"{key}: expected {wanted[key]!r}, got {seen[key]!r}")

        # fork safety: the child must not share the parent's connection
        parent_conn = ingress._publisher.lane().connection
        pid = os.fork()
        if pid == 0:
            ok = ingress.hand_off(payload, body) and ingress._publisher.lane().connection is not parent_conn
            os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        if status != 0:
            failures.append("the forked child could not publish on a connection of its own")
        if not ingress.hand_off(payload, body) or ingress._publisher.lane().connection is not parent_conn:
            failures.append("the parent's connection did not survive the child's publishing")
        n = len(read_all(channel, QUEUE, 2))
        if n != 2:
            failures.append(f"after the fork test expected 2 messages, found {n}")
    for f in failures:
        print("handoff_check: " + f, file=sys.stderr)
    print("handoff_check: " + ("FAILED" if failures else "hand_off publishes the delivery as received, "
                               "persistent, to deliveries; fork-safe"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
