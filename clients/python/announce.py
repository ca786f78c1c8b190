"""Publish one Charlandero announcement (docs/announcements.md) and wait for RabbitMQ's publisher confirm.

    CELERY_BROKER_URL=amqp://user:pass@host:5672/vhost python announce.py --channel C0123 --text "Deploy done" --id deploy-42

Exit status: 0 confirmed; 1 not confirmed (nacked, unroutable, timed out, connection lost); 2 bad arguments.
Needs only kombu (`pip install kombu`), which the bot already installs.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from kombu import Connection

EXCHANGE = "charla"
CONFIRM_TIMEOUT_SECONDS = 10


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Make the Charlandero bot post a message.")
    parser.add_argument("--channel", required=True, help="Slack channel id, e.g. C0123ABCD")
    parser.add_argument("--text", required=True)
    parser.add_argument("--id", required=True, help="unique per source: a republish with the same id posts once")
    parser.add_argument("--source", default="python", help="[a-z0-9-]{1,40}; routing key announce.<source>")
    parser.add_argument("--thread-ts", help="post in this thread")
    args = parser.parse_args(argv)
    url = os.environ.get("CELERY_BROKER_URL") or os.environ.get("CLOUDAMQP_URL")
    if not url:
        print("announce: set CELERY_BROKER_URL (or CLOUDAMQP_URL) to the broker, amqp://user:pass@host/vhost",
              file=sys.stderr)
        return 2
    message = {"id": args.id, "channel": args.channel, "text": args.text}
    if args.thread_ts:
        message["thread_ts"] = args.thread_ts
    try:
        # confirm_publish: each publish waits for the broker's ack; mandatory: a message no queue takes is
        # returned (an error here), not silently dropped.
        with Connection(url, transport_options={"confirm_publish": True}, connect_timeout=10) as conn:
            conn.Producer(auto_declare=False).publish(
                json.dumps(message, ensure_ascii=False).encode("utf-8"), exchange=EXCHANGE,
                routing_key=f"announce.{args.source}", content_type="application/json", content_encoding="utf-8",
                delivery_mode=2, mandatory=True, retry=False, confirm_timeout=CONFIRM_TIMEOUT_SECONDS)
    except Exception as exc:  # every failure means the same to the caller: not confirmed
        print(f"announce: not confirmed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"announce: confirmed announce.{args.source} {args.id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
