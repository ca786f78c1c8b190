"""A fake Slack Web API: a real HTTP server that records every call.

Tests (and the deployment smoke tests) point the bot at it with SLACK_API_URL=<url>/api/.
It can be told, per API method, to answer the next calls with a 429 + Retry-After, a 5xx,
or a Slack error body — or every call for a while (`outage`) — so retry behaviour is exercised
over a real socket.

Run it on its own:  python -m tests.support.fake_slack --bind 127.0.0.1:8900
  GET    /_calls           every recorded call, as JSON
  DELETE /_calls           forget them
  POST   /_script/<method> {"status": 429, "headers": {"Retry-After": "1"}} queues one answer
With --socket-mode it also runs a fake Socket Mode server (tests/support/fake_socket_mode.py), whose ws://
URL `apps.connections.open` answers to an app-level token (Bearer xapp-...):
  POST   /_socket/<type>       an envelope of that type (events_api, slash_commands) with the body as payload
  GET    /_socket/<envelope>   {"acks": [ack payload, ...], "attempts": N}
"""
from __future__ import annotations

import argparse
import itertools
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BOT_USER_ID = "UCHARLABOT"
TEAM_ID = "TFAKE0001"


class FakeSlack:
    """Owns the recorded calls and the scripted answers; serves them over HTTP."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.calls: list[dict] = []
        self._scripts: dict[str, list[dict]] = {}
        self._outage: tuple[float, frozenset, dict] | None = None  # (until, methods, answer)
        self._lock = threading.RLock()  # predicates passed to wait_for may read the calls again
        self._ts = itertools.count(1)
        self._cond = threading.Condition(self._lock)
        self.server = ThreadingHTTPServer((host, port), self._handler_class())
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None
        self.socket_mode = None  # a FakeSocketMode: apps.connections.open hands out its URL

    # -- lifecycle -------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def start(self) -> "FakeSlack":
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() would wait for ever for a loop that never started
            self.server.shutdown()
        self.server.server_close()

    # -- scripting and inspection -----------------------------------------
    def script(self, method: str, *answers: dict) -> None:
        """Queue answers for the next calls of `method` (then it answers normally)."""
        with self._lock:
            self._scripts.setdefault(method, []).extend(answers)

    def outage(self, seconds: float, methods: tuple[str, ...] = ("chat.postMessage", "response_url"),
               **answer) -> None:
        """For the next `seconds`, answer every call of `methods` with `answer` (the keys of a scripted
        answer: status, headers, error, body); queued scripts still come first."""
        with self._lock:
            self._outage = (time.monotonic() + seconds, frozenset(methods), answer)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self._scripts.clear()
            self._outage = None

    def posts(self, channel: str | None = None) -> list[dict]:
        """Messages the bot posted successfully (chat.postMessage and response_url)."""
        with self._lock:
            return [
                c for c in self.calls
                if c["answered"] == 200 and c["method"] in ("chat.postMessage", "response_url")
                and (channel is None or c["body"].get("channel") == channel)
            ]

    def wait_for(self, predicate, timeout: float = 20.0) -> list[dict]:
        """Block until predicate(calls) is truthy; return the calls. Raises on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                result = predicate(list(self.calls))
                if result:
                    return list(self.calls)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"fake Slack: condition not met in {timeout}s; calls: {self.calls!r}")
                self._cond.wait(min(left, 0.2))

    # -- HTTP --------------------------------------------------------------
    def _record_and_answer(self, method: str, headers, body: dict) -> tuple[int, dict, dict]:
        with self._cond:
            queued = self._scripts.get(method) or []
            scripted = queued.pop(0) if queued else self._outage_answer(method)
            if method == "apps.connections.open" and scripted is None:
                scripted = self._connections_open(headers.get("Authorization") or "")
            status, extra_headers, payload = self._answer(method, body, scripted)
            self.calls.append({
                "method": method,
                "body": body,
                "authorization": headers.get("Authorization"),
                "at": time.time(),
                "answered": status,
                "ts": payload.get("ts") if isinstance(payload, dict) else None,
            })
            self._cond.notify_all()
        return status, extra_headers, payload

    def _connections_open(self, authorization: str) -> dict:
        """Slack's answer: a WebSocket URL for an app-level token, an error for anything else."""
        if not authorization.startswith("Bearer xapp-"):
            return {"error": "not_allowed_token_type" if authorization.startswith("Bearer ") else "not_authed"}
        if self.socket_mode is None:
            return {"error": "socket_mode_not_enabled"}  # our own word: no fake Socket Mode server attached
        return {"body": {"ok": True, "url": self.socket_mode.url}}

    def _outage_answer(self, method: str) -> dict | None:
        if self._outage is None:
            return None
        until, methods, answer = self._outage
        return answer if method in methods and time.monotonic() < until else None

    def _answer(self, method: str, body: dict, scripted: dict | None):
        if scripted is not None:
            status = scripted.get("status", 200)
            payload = scripted.get("body") or ({"ok": False, "error": scripted["error"]} if "error" in scripted
                                               else {"ok": status == 200})
            return status, scripted.get("headers", {}), payload
        if method == "auth.test":
            return 200, {}, {"ok": True, "user_id": BOT_USER_ID, "team_id": TEAM_ID, "bot_id": "BFAKE"}
        if method == "chat.postMessage":
            ts = f"{int(time.time())}.{next(self._ts):06d}"
            return 200, {}, {"ok": True, "channel": body.get("channel"), "ts": ts,
                             "message": {"text": body.get("text"), "ts": ts}}
        if method == "response_url":
            return 200, {}, {"ok": True}
        if method in ("conversations.history", "conversations.replies"):
            return 200, {}, {"ok": True, "messages": self._channel_messages(method, body), "has_more": False}
        return 200, {}, {"ok": True}

    def _channel_messages(self, method: str, query: dict) -> list[dict]:
        """What the bot posted to a channel (history: top level; replies: one thread), newest first, as
        Slack lists them; metadata only when include_all_metadata is asked for."""
        oldest = float(query.get("oldest") or 0)
        with_metadata = str(query.get("include_all_metadata", "")).lower() in ("1", "true")
        messages = []
        for call in self.calls:
            body = call["body"]
            if (call["method"] != "chat.postMessage" or call["answered"] != 200
                    or body.get("channel") != query.get("channel") or float(call["ts"] or 0) <= oldest):
                continue
            thread = body.get("thread_ts") or ""
            if (method == "conversations.replies") != bool(thread) or (thread and thread != query.get("ts")):
                continue
            message = {"type": "message", "ts": call["ts"], "text": body.get("text"), "bot_id": "BFAKE"}
            if thread:
                message["thread_ts"] = thread
            if with_metadata and body.get("metadata"):
                message["metadata"] = body["metadata"]
            messages.append(message)
        return messages[::-1]

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def _read_body(self) -> dict:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
                if not raw:
                    return {}
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    return json.loads(raw)
                return {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}

            def _send(self, status: int, payload, headers: dict | None = None):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path == "/_calls":
                    with fake._lock:
                        return self._send(200, list(fake.calls))
                if self.path.startswith("/_socket/") and fake.socket_mode is not None:
                    try:
                        envelope = fake.socket_mode.envelope(self.path[len("/_socket/"):])
                    except KeyError:
                        return self._send(404, {"ok": False, "error": "unknown_envelope"})
                    return self._send(200, {"acks": [payload for _, payload in envelope.acks],
                                            "attempts": envelope.attempts})
                if self.path.startswith("/api/"):  # slack_sdk reads (conversations.history, ...) with GET
                    path, _, query = self.path[len("/api/"):].partition("?")
                    params = {k: v[0] for k, v in urllib.parse.parse_qs(query).items()}
                    status, headers, payload = fake._record_and_answer(path, self.headers, params)
                    return self._send(status, payload, headers)
                self._send(404, {"ok": False, "error": "unknown_path"})

            def do_DELETE(self):
                if self.path == "/_calls":
                    fake.reset()
                    return self._send(200, {"ok": True})
                self._send(404, {"ok": False})

            def do_POST(self):
                body = self._read_body()
                if self.path.startswith("/_script/"):
                    fake.script(self.path[len("/_script/"):], body)
                    return self._send(200, {"ok": True})
                if self.path.startswith("/_socket/") and fake.socket_mode is not None:
                    envelope_id = fake.socket_mode.send(self.path[len("/_socket/"):], body)
                    return self._send(200, {"ok": True, "envelope_id": envelope_id})
                if self.path.startswith("/api/"):
                    method = self.path[len("/api/"):].split("?")[0]
                elif self.path.startswith("/response/"):
                    method = "response_url"
                    body = dict(body, response_path=self.path)
                else:
                    return self._send(404, {"ok": False, "error": "unknown_path"})
                status, headers, payload = fake._record_and_answer(method, self.headers, body)
                self._send(status, payload, headers)

        return Handler


def main(fake_class: type[FakeSlack] = FakeSlack, default_bind: str = "127.0.0.1:8900") -> None:
    parser = argparse.ArgumentParser(description=(fake_class.__doc__ or __doc__).splitlines()[0])
    parser.add_argument("--bind", default=default_bind, help="host:port to listen on")
    parser.add_argument("--socket-mode", action="store_true",
                        help="also run a fake Socket Mode server, handed out by apps.connections.open")
    args = parser.parse_args()
    host, _, port = args.bind.rpartition(":")
    fake = fake_class(host, int(port))
    print(f"{fake_class.__name__} (fake Slack Web API) on {fake.api_url}", flush=True)
    if args.socket_mode:
        from tests.support.fake_socket_mode import FakeSocketMode

        fake.socket_mode = FakeSocketMode().start()
        print(f"fake Socket Mode server on ws://127.0.0.1:{fake.socket_mode.port}/", flush=True)
    try:
        fake.server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
