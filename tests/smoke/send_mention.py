"""Smoke check used by every deployment target: one signed mention in, one reply out.

  python -m tests.smoke.send_mention --web http://127.0.0.1:8000 --fake http://127.0.0.1:8900 \
      --secret "$SLACK_SIGNING_SECRET" [--text help] [--expect "Commands"] [--timeout 60]

Sends an app_mention signed as Slack signs it to <web>/slack/events, then polls the fake
Slack API (<fake>/_calls) until chat.postMessage reaches the same channel. Exits 0 with the
latency printed, or 1 with what was seen.
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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="send a signed mention and wait for the bot's reply")
    p.add_argument("--web", required=True, help="base URL of the web process (or nginx in front of it)")
    p.add_argument("--fake", required=True, help="base URL of the fake Slack API")
    p.add_argument("--secret", required=True, help="SLACK_SIGNING_SECRET the app was given")
    p.add_argument("--text", default="help")
    p.add_argument("--expect", default="", help="substring the reply must contain")
    p.add_argument("--host-header", default=None, help="Host header to send (when going through a proxy)")
    p.add_argument("--timeout", type=float, default=60.0)
    args = p.parse_args(argv)

    channel = "CSMOKE" + uuid.uuid4().hex[:6].upper()
    body, headers = signed_json(args.secret, mention(args.text, channel=channel))
    if args.host_header:
        headers["Host"] = args.host_header
    started = time.monotonic()
    req = urllib.request.Request(args.web.rstrip("/") + "/slack/events", data=body, headers=headers)
    with urllib.request.urlopen(req, timeout=10) as resp:
        status = resp.status
    ack_ms = (time.monotonic() - started) * 1000
    if status != 200:
        print(f"smoke: /slack/events answered {status}", file=sys.stderr)
        return 1
    while time.monotonic() - started < args.timeout:
        posts = [c for c in fetch_calls(args.fake)
                 if c["method"] == "chat.postMessage" and c["body"].get("channel") == channel
                 and c["answered"] == 200]
        if posts:
            text = posts[0]["body"].get("text", "")
            if args.expect and args.expect not in text:
                print(f"smoke: reply does not contain {args.expect!r}: {text!r}", file=sys.stderr)
                return 1
            print(f"smoke: ack {ack_ms:.0f} ms, reply in {time.monotonic() - started:.2f} s "
                  f"on {channel}: {text.splitlines()[0] if text else ''!r}")
            return 0
        time.sleep(0.25)
    print(f"smoke: no reply on {channel} within {args.timeout}s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
