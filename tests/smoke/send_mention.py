"""Smoke check used by every deployment target: one signed mention in, one reply out.

  python -m tests.smoke.send_mention --web http://127.0.0.1:8000 --fake http://127.0.0.1:8900 \
      --secret "$SLACK_SIGNING_SECRET" [--text help] [--expect "Commands"] [--timeout 60] \
      [--count N] [--retry] [--settle SECONDS]

Sends an app_mention signed as Slack signs it to <web>/slack/events, then polls the fake
Slack API (<fake>/_calls) until chat.postMessage reaches the same channel. Exits 0 with the
latency printed, or 1 with what was seen.
--count N sends N mentions, each to a channel of its own, and waits for every reply.
--retry sends each mention a second time as Slack's retry of it (same event_id, X-Slack-Retry-Num).
--settle S then keeps watching S seconds more and fails unless every channel got exactly one reply.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
import uuid

from tests.support.slack_requests import mention, signed_json


def fetch_calls(fake: str) -> list[dict]:
    with urllib.request.urlopen(fake.rstrip("/") + "/_calls", timeout=5) as resp:
        return json.load(resp)


def replies_by_channel(fake: str, channels: list[str]) -> dict[str, list[str]]:
    replies: dict[str, list[str]] = {channel: [] for channel in channels}
    for call in fetch_calls(fake):
        channel = call["body"].get("channel")
        if call["method"] == "chat.postMessage" and call["answered"] == 200 and channel in replies:
            replies[channel].append(call["body"].get("text", ""))
    return replies


def post_event(web: str, body: bytes, headers: dict) -> int:
    req = urllib.request.Request(web.rstrip("/") + "/slack/events", data=body, headers=headers)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="send a signed mention and wait for the bot's reply")
    p.add_argument("--web", required=True, help="base URL of the web process (or nginx in front of it)")
    p.add_argument("--fake", required=True, help="base URL of the fake Slack API")
    p.add_argument("--secret", required=True, help="SLACK_SIGNING_SECRET the app was given")
    p.add_argument("--text", default="help")
    p.add_argument("--expect", default="", help="substring the reply must contain")
    p.add_argument("--host-header", default=None, help="Host header to send (when going through a proxy)")
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--count", type=int, default=1, help="mentions to send, one channel each")
    p.add_argument("--retry", action="store_true", help="also send each one again as Slack's retry")
    p.add_argument("--settle", type=float, default=0.0, help="seconds to wait for duplicate replies")
    args = p.parse_args(argv)

    channels = ["CSMOKE" + uuid.uuid4().hex[:6].upper() for _ in range(args.count)]
    started = time.monotonic()
    acks_ms = []
    for channel in channels:
        payload = mention(args.text, channel=channel)
        deliveries = [{}, {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}][:2 if args.retry else 1]
        for extra in deliveries:
            body, headers = signed_json(args.secret, payload)
            headers.update(extra)
            if args.host_header:
                headers["Host"] = args.host_header
            sent = time.monotonic()
            status = post_event(args.web, body, headers)
            acks_ms.append((time.monotonic() - sent) * 1000)
            if status != 200:
                print(f"smoke: /slack/events answered {status}", file=sys.stderr)
                return 1

    replies = replies_by_channel(args.fake, channels)
    while not all(replies.values()) and time.monotonic() - started < args.timeout:
        time.sleep(0.25)
        replies = replies_by_channel(args.fake, channels)
    missing = [channel for channel, texts in replies.items() if not texts]
    if missing:
        print(f"smoke: no reply on {', '.join(missing)} within {args.timeout}s", file=sys.stderr)
        return 1
    elapsed = time.monotonic() - started
    for channel, texts in replies.items():
        if args.expect and args.expect not in texts[0]:
            print(f"smoke: reply on {channel} does not contain {args.expect!r}: {texts[0]!r}", file=sys.stderr)
            return 1
    if args.settle:
        time.sleep(args.settle)
        replies = replies_by_channel(args.fake, channels)
        repeated = {channel: len(texts) for channel, texts in replies.items() if len(texts) != 1}
        if repeated:
            print(f"smoke: replies per channel should be exactly 1, got {repeated}", file=sys.stderr)
            return 1
    first = replies[channels[0]][0]
    what = f"{len(channels)} mentions{' (each also as a Slack retry)' if args.retry else ''}" \
        if len(channels) > 1 or args.retry else channels[0]
    once = f", exactly one reply each after {args.settle:.0f} s more" if args.settle else ""
    print(f"smoke: ack {max(acks_ms):.0f} ms, replies in {elapsed:.2f} s on {what}{once}: "
          f"{first.splitlines()[0] if first else ''!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
