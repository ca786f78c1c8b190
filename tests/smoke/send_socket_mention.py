"""Smoke check of Socket Mode, used by the deployment smoke tests: one mention over the fake Socket Mode
server, one ack and one reply out.

  python -m tests.smoke.send_socket_mention --fake http://127.0.0.1:8900 [--text help] [--expect help]
      [--timeout 60] [--settle SECONDS]

The fake Slack API must run with --socket-mode (python -m tests.support.fake_slack --socket-mode): the bot's
socket process opened its WebSocket through the fake's apps.connections.open. This sends an `events_api`
envelope carrying an app_mention (POST <fake>/_socket/events_api), waits for its ack and then for
chat.postMessage on the mention's channel. Exits 0 with the ack and reply times printed, or 1 with what was
seen. --settle S keeps watching S seconds more and fails unless there was exactly one reply.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
import uuid

from tests.smoke.send_mention import replies_by_channel
from tests.support.slack_requests import mention


def _json(url: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as resp:
        return json.load(resp)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="send a mention over the fake Socket Mode server; wait for ack and reply")
    p.add_argument("--fake", required=True, help="base URL of the fake Slack API (run with --socket-mode)")
    p.add_argument("--text", default="help")
    p.add_argument("--expect", default="", help="substring the reply must contain")
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--settle", type=float, default=0.0, help="seconds to wait for duplicate replies")
    args = p.parse_args(argv)
    fake = args.fake.rstrip("/")

    channel = "CSOCKSMOKE" + uuid.uuid4().hex[:6].upper()
    started = time.monotonic()
    envelope = _json(fake + "/_socket/events_api", mention(args.text, channel=channel))["envelope_id"]
    ack_seconds = None
    replies: list[str] = []
    while time.monotonic() - started < args.timeout:
        if ack_seconds is None and _json(f"{fake}/_socket/{envelope}")["acks"]:
            ack_seconds = time.monotonic() - started
        replies = replies_by_channel(fake, [channel])[channel]
        if ack_seconds is not None and replies:
            break
        time.sleep(0.1)
    if ack_seconds is None:
        print(f"smoke: envelope {envelope} not acknowledged within {args.timeout}s", file=sys.stderr)
        return 1
    if not replies:
        print(f"smoke: envelope acked after {ack_seconds:.2f} s, but no reply on {channel} within {args.timeout}s",
              file=sys.stderr)
        return 1
    elapsed = time.monotonic() - started
    if args.expect and args.expect not in replies[0]:
        print(f"smoke: reply on {channel} does not contain {args.expect!r}: {replies[0]!r}", file=sys.stderr)
        return 1
    if args.settle:
        time.sleep(args.settle)
        replies = replies_by_channel(fake, [channel])[channel]
        if len(replies) != 1:
            print(f"smoke: {len(replies)} replies on {channel}, want exactly 1", file=sys.stderr)
            return 1
    print(f"smoke: Socket Mode envelope acked in {ack_seconds * 1000:.0f} ms (poll included), reply in "
          f"{elapsed:.2f} s on {channel}: {replies[0].splitlines()[0]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
