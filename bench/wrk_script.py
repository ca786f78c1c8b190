"""Write the wrk Lua script for the ingest runs: one pre-signed Slack event, sent again and again.

The signature covers `v0:<timestamp>:<body>` and Slack's window is 5 minutes, so the script is
written right before each wrk run with the current timestamp. One body (one event_id) is fine for
ingest: the web does not dedupe (the worker does, and no worker consumes during the ingest runs).

    python -m bench.wrk_script --secret S --out /tmp/x.lua
"""
from __future__ import annotations

import argparse
import json
import time

from tests.support import slack_requests

LUA = """\
wrk.method = "POST"
wrk.body = [==[{body}]==]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Slack-Request-Timestamp"] = "{ts}"
wrk.headers["X-Slack-Signature"] = "{sig}"

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {{"requests": %d, "duration_us": %d, "non2xx": %d, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "timeouts": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"mean_us": %.1f, "max_us": %d}}\\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--secret", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    payload = slack_requests.mention("help", channel="CBENCHINGEST", event_id="EvBENCHINGEST0001")
    body = json.dumps(payload, separators=(", ", ": ")).encode()
    ts = int(time.time())
    headers = slack_requests.sign(args.secret, body, ts)
    assert b"]==]" not in body
    with open(args.out, "w") as f:
        f.write(LUA.format(body=body.decode(), ts=headers["X-Slack-Request-Timestamp"],
                           sig=headers["X-Slack-Signature"]))
    print(f"{len(body)}")


if __name__ == "__main__":
    main()
