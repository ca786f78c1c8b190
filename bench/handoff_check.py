"""Check that app.bot.ingress.hand_off publishes exactly what process_event.apply_async would.

Publishes one delivery each way to the configured broker (no worker may be consuming the inbox queue),
reads both back and compares body, headers, properties and routing, ignoring only the task ids.
Then checks fork safety: after a fork the child publishes on a connection of its own and the parent's
keeps working. Exit 0 when all is the same.

    CELERY_BROKER_URL=amqp://.../charla_bench python -m bench.handoff_check
"""
from __future__ import annotations

import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")
django.setup()

from app.bot import ingress  # noqa: E402
from app.bot.tasks import process_event  # noqa: E402
from app.celery import celery_app  # noqa: E402
from tests.support import slack_requests  # noqa: E402

IDS = ("id", "root_id", "correlation_id")


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


def shape(m) -> dict:
    headers = {k: v for k, v in m.headers.items() if k not in IDS}
    props = {k: v for k, v in m.properties.items() if k not in IDS and k != "application_headers"}
    return {"body": m.body, "headers": headers, "properties": props, "content_type": m.content_type,
            "content_encoding": m.content_encoding,
            "exchange": m.delivery_info.get("exchange"), "routing_key": m.delivery_info.get("routing_key")}


def main() -> int:
    payload = slack_requests.mention("help", channel="CHANDOFFCHECK", event_id="EvHANDOFFCHECK")
    failures = []
    with celery_app.connection_for_write() as conn:
        channel = conn.default_channel
        celery_app.amqp.queues["inbox"](channel).declare()  # exchange, queue and binding on a fresh broker
        channel.queue_purge("inbox")
        process_event.apply_async((payload,), retry=False)
        if not ingress.hand_off(payload):
            failures.append("hand_off returned False")
        got = read_all(channel, "inbox", 2)
        if len(got) != 2:
            failures.append(f"expected 2 messages in inbox, found {len(got)}")
        else:
            reference, ours = (shape(m) for m in got)
            for key in reference:
                if reference[key] != ours[key]:
                    failures.append(f"{key} differs:\n  apply_async: {reference[key]!r}\n  hand_off:    {ours[key]!r}")
            if got[1].headers["id"] == got[0].headers["id"] or got[1].headers["id"] != got[1].properties.get(
                    "correlation_id") or got[1].headers["root_id"] != got[1].headers["id"]:
                failures.append("hand_off's task id / root_id / correlation_id are not a fresh id used throughout")

        # fork safety: the child must not share the parent's connection
        parent_conn = ingress._publisher._connection
        pid = os.fork()
        if pid == 0:
            ok = ingress.hand_off(payload) and ingress._publisher._connection is not parent_conn
            os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        if status != 0:
            failures.append("the forked child could not publish on a connection of its own")
        if not ingress.hand_off(payload) or ingress._publisher._connection is not parent_conn:
            failures.append("the parent's connection did not survive the child's publishing")
        n = len(read_all(channel, "inbox", 2))
        if n != 2:
            failures.append(f"after the fork test expected 2 messages, found {n}")
    for f in failures:
        print("handoff_check: " + f, file=sys.stderr)
    print("handoff_check: " + ("FAILED" if failures else "hand_off publishes the same message as apply_async; "
                               "fork-safe"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
