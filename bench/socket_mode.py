"""Socket Mode at a steady rate: envelope sent -> ack, and envelope sent -> the bot's reply at the fake Slack.

The fake Slack Web API and the fake Socket Mode server run in this process (tests/support/); the socket
process (`bin/process socket`, with SLACK_APP_TOKEN) and one worker (`bin/process worker`) are real processes
on the database and broker of the environment (bench/socket_mode.sh gives them their own). Each envelope is
an app_mention in a channel of its own (the bot paces posts per channel), sent on a fixed schedule (i / rate
seconds after the start) so a slow ack does not delay the next send. Ack latency: the fake's clock from the
write of the envelope to the read of its ack (one process, monotonic). Reply latency: wall clock from the send
to the fake Web API recording chat.postMessage for the channel.

    python -m bench.socket_mode --rate 50 --seconds 20 --rounds 2
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from tests.support import slack_requests
from tests.support.fake_slack import FakeSlack
from tests.support.fake_socket_mode import FakeSocketMode

REPO = Path(__file__).resolve().parents[1]


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def start(role: str, env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen([str(REPO / "bin" / "process"), role], cwd=REPO, env=env, stdout=log.open("ab"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def wait_for_log(log: Path, needle: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in log.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            sys.exit(f"bench: {log.name} exited:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
    sys.exit(f"bench: {needle!r} not in {log.name} after {timeout}s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)


def steady_round(socket_mode: FakeSocketMode, fake: FakeSlack, rate: float, seconds: float) -> dict:
    count = int(rate * seconds)
    run = uuid.uuid4().hex[:6].upper()
    sent: dict[str, tuple[str, float]] = {}  # envelope id -> (channel, wall-clock send time)
    started = time.monotonic()
    for i in range(count):
        time.sleep(max(0.0, started + i / rate - time.monotonic()))
        channel = f"CBSOCK{run}{i:05d}"
        wall = time.time()
        sent[socket_mode.send("events_api", slack_requests.mention("help", channel=channel))] = (channel, wall)
    achieved = count / (time.monotonic() - started)
    socket_mode.wait_for_acks(sent, timeout=60)
    channels = {channel: wall for channel, wall in sent.values()}
    deadline = time.monotonic() + 120
    replies: dict[str, float] = {}
    while time.monotonic() < deadline and len(replies) < len(channels):
        for call in list(fake.calls):
            channel = call["body"].get("channel")
            if call["method"] == "chat.postMessage" and channel in channels and channel not in replies:
                replies[channel] = call["at"]
        time.sleep(0.2)
    ack_ms = [1000 * (socket_mode.envelope(e).acks[0][0] - socket_mode.envelope(e).sent[0][0]) for e in sent]
    reply_ms = [1000 * (at - channels[ch]) for ch, at in replies.items()]
    return {"rate_target": rate, "rate_achieved": round(achieved, 1), "envelopes": count,
            "missing_replies": len(channels) - len(replies),
            "resent": sum(socket_mode.envelope(e).attempts > 1 for e in sent),
            "ack_p50_ms": round(pct(ack_ms, 50), 2), "ack_p99_ms": round(pct(ack_ms, 99), 2),
            "ack_max_ms": round(max(ack_ms), 2),
            "reply_p50_ms": round(pct(reply_ms, 50), 1), "reply_p90_ms": round(pct(reply_ms, 90), 1),
            "reply_p99_ms": round(pct(reply_ms, 99), 1),
            "reply_mean_ms": round(statistics.fmean(reply_ms), 1) if reply_ms else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--logs", default="/tmp")
    args = parser.parse_args()

    fake = FakeSlack().start()
    socket_mode = FakeSocketMode().start()
    fake.socket_mode = socket_mode
    env = {**os.environ, "SLACK_API_URL": fake.api_url, "SLACK_APP_TOKEN": "xapp-1-ABENCH-1-" + uuid.uuid4().hex}
    env.pop("SLACK_SIGNING_SECRET", None)
    logs = Path(args.logs)
    # The worker at WARNING, as bench/run.sh runs it; the warm-up round waits until it answers.
    worker = start("worker", {**env, "LOG_LEVEL": "WARNING"}, logs / "socket-bench-worker.log")
    socket = start("socket", {**env, "LOG_LEVEL": "INFO"}, logs / "socket-bench-socket.log")
    try:
        wait_for_log(logs / "socket-bench-socket.log", "connected to Slack", socket)
        socket_mode.wait_for_connection()
        warm = steady_round(socket_mode, fake, args.rate, 2)  # connections, first imports
        print(f"warm-up: {json.dumps(warm)}", file=sys.stderr)
        for _ in range(args.rounds):
            fake.reset()
            result = steady_round(socket_mode, fake, args.rate, args.seconds)
            print("BENCH_JSON " + json.dumps(result), flush=True)
            if result["missing_replies"]:
                return 1
    finally:
        stop(socket)
        stop(worker)
        socket_mode.stop()
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
