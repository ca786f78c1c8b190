"""The project's fake Slack Web API, plus a switch that makes the next call(s) of a method slow.

Used by the Heroku smoke test (deploy/heroku/smoke.sh) to have a real task of the app (posting a reply) in
the middle of an HTTP call when the worker dyno is stopped. Run from the repo root with the app's venv:

  python -m tests.support.slow_fake_slack --bind 127.0.0.1:18900

Besides the base fake's /_calls, /_script/<method>:
  POST /_slow      {"method": "chat.postMessage", "seconds": 8, "count": 1}
                   the next `count` calls of `method` are recorded when they arrive (that is when
                   Slack would post the message) and answered `seconds` later
  GET  /_inflight  the slow calls received and not yet answered: [{"method", "channel", "since"}]
"""
from __future__ import annotations

import json
import threading
import time

from tests.support import fake_slack
from tests.support.fake_slack import FakeSlack


class SlowFakeSlack(FakeSlack):
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self._slow: dict[str, list[float]] = {}
        self.inflight: list[dict] = []
        self._slow_lock = threading.Lock()
        super().__init__(host, port)

    def slow_down(self, method: str, seconds: float, count: int = 1) -> None:
        with self._slow_lock:
            self._slow.setdefault(method, []).extend([float(seconds)] * int(count))

    def _record_and_answer(self, method, headers, body):
        answer = super()._record_and_answer(method, headers, body)
        with self._slow_lock:
            queued = self._slow.get(method) or []
            delay = queued.pop(0) if queued else 0.0
            entry = {"method": method, "channel": body.get("channel"), "since": time.time()}
            if delay:
                self.inflight.append(entry)
        if delay:
            time.sleep(delay)
            with self._slow_lock:
                self.inflight.remove(entry)
        return answer

    def _handler_class(self):
        base = super()._handler_class()
        fake = self

        class Handler(base):
            def do_GET(self):
                if self.path == "/_inflight":
                    with fake._slow_lock:
                        return self._send(200, list(fake.inflight))
                return super().do_GET()

            def do_POST(self):
                if self.path == "/_slow":
                    raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                    spec = json.loads(raw or b"{}")
                    fake.slow_down(spec.get("method", "chat.postMessage"), spec.get("seconds", 8),
                                   spec.get("count", 1))
                    return self._send(200, {"ok": True})
                return super().do_POST()

        return Handler


if __name__ == "__main__":
    fake_slack.main(SlowFakeSlack, default_bind="127.0.0.1:18900")
