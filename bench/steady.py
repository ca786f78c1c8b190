"""End-to-end latency at a steady rate: signed mention sent -> the bot's reply recorded by the fake Slack.

Every event has its own event_id (the worker dedupes by it) and its own channel (the bot paces posts
to about one a second per channel, which would otherwise be measured instead of the pipeline).
Sends follow a fixed schedule (i / rate seconds after the start) from a few threads, so one slow
request does not delay the next ones (no coordinated omission). Latency = the time the fake Slack
recorded the chat.postMessage for the channel minus the wall-clock time just before the request was
sent; both clocks are this machine's.

    python -m bench.steady --web http://127.0.0.1:28000 --fake http://127.0.0.1:28001 --secret S
"""
from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid

from tests.support import slack_requests


def post_event(web: urllib.parse.SplitResult, secret: str, channel: str) -> tuple[float, float, int]:
    payload = slack_requests.mention("help", channel=channel, event_id="Ev" + uuid.uuid4().hex[:16].upper())
    body, headers = slack_requests.signed_json(secret, payload)
    conn = http.client.HTTPConnection(web.hostname, web.port, timeout=10)
    sent_at = time.time()
    started = time.perf_counter()
    try:
        conn.request("POST", "/slack/events", body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        status = resp.status
    except OSError:
        status = 0
    finally:
        conn.close()
    return sent_at, time.perf_counter() - started, status


def fake_posts(fake: str) -> dict[str, float]:
    """channel -> time of the first successful chat.postMessage to it."""
    with urllib.request.urlopen(fake + "/_calls", timeout=30) as resp:
        calls = json.load(resp)
    first: dict[str, float] = {}
    for c in calls:
        if c["method"] == "chat.postMessage" and c["answered"] == 200:
            ch = c["body"].get("channel")
            if ch and ch not in first:
                first[ch] = c["at"]
    return first


def run_schedule(web, secret: str, channels: list[str], rate: float, threads: int) -> dict[str, tuple]:
    results: dict[str, tuple] = {}
    lock = threading.Lock()
    counter = iter(range(len(channels)))
    start = time.perf_counter() + 0.2

    def sender():
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            outcome = post_event(web, secret, channels[i])
            with lock:
                results[channels[i]] = outcome

    workers = [threading.Thread(target=sender, daemon=True) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return results


def wait_for_replies(fake: str, channels: list[str], timeout: float) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    while True:
        posts = fake_posts(fake)
        if all(ch in posts for ch in channels) or time.monotonic() > deadline:
            return posts
        time.sleep(0.5)


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--web", required=True)
    parser.add_argument("--fake", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup-seconds", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--ready-timeout", type=float, default=90.0)
    parser.add_argument("--reply-timeout", type=float, default=60.0)
    parser.add_argument("--out")
    parser.add_argument("--allow-missing", action="store_true",
                        help="report events without a reply instead of failing (the saturation search)")
    args = parser.parse_args()
    web = urllib.parse.urlsplit(args.web)
    nonce = uuid.uuid4().hex[:6].upper()

    # 1. The worker is up when one reply comes back (LOG_LEVEL=WARNING hides Celery's "ready" line).
    probe = f"CBP{nonce}"
    _, _, status = post_event(web, args.secret, probe)
    if status != 200:
        sys.exit(f"steady: probe event answered {status}")
    if probe not in wait_for_replies(args.fake, [probe], args.ready_timeout):
        sys.exit(f"steady: no reply to the probe within {args.ready_timeout:.0f}s (is the worker running?)")

    # 2. Warm-up at the same rate (every pool child opens its DB connection, caches fill), not counted.
    warm = [f"CBW{nonce}{i:05d}" for i in range(int(args.rate * args.warmup_seconds))]
    run_schedule(web, args.secret, warm, args.rate, args.threads)
    wait_for_replies(args.fake, warm, 30)

    # 3. The measured run.
    channels = [f"CBM{nonce}{i:05d}" for i in range(int(args.rate * args.seconds))]
    began = time.perf_counter()
    sent = run_schedule(web, args.secret, channels, args.rate, args.threads)
    elapsed = time.perf_counter() - began
    posts = wait_for_replies(args.fake, channels, args.reply_timeout)

    accepted = [ch for ch in channels if sent[ch][2] == 200]
    e2e_ms = [(posts[ch] - sent[ch][0]) * 1000 for ch in accepted if ch in posts]
    ack_ms = [sent[ch][1] * 1000 for ch in channels]
    result = {
        "rate_target": args.rate,
        "rate_achieved": round(len(channels) / elapsed, 2),
        "events": len(channels),
        "accepted": len(accepted),
        "replied": len(e2e_ms),
        "missing": len(accepted) - len(e2e_ms),
        "e2e_p50_ms": round(pct(e2e_ms, 50), 1) if e2e_ms else None,
        "e2e_p90_ms": round(pct(e2e_ms, 90), 1) if e2e_ms else None,
        "e2e_p99_ms": round(pct(e2e_ms, 99), 1) if e2e_ms else None,
        "e2e_max_ms": round(max(e2e_ms), 1) if e2e_ms else None,
        "e2e_mean_ms": round(statistics.fmean(e2e_ms), 1) if e2e_ms else None,
        "ack_p50_ms": round(pct(ack_ms, 50), 1),
        "ack_p99_ms": round(pct(ack_ms, 99), 1),
    }
    print("BENCH_JSON " + json.dumps(result), flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
    if (result["missing"] or len(accepted) != len(channels)) and not args.allow_missing:
        sys.exit(f"steady: {len(channels) - len(accepted)} event(s) refused, {result['missing']} without a reply")


if __name__ == "__main__":
    main()
