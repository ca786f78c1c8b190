"""The bot as its users run it: web (gunicorn), worker and beat as real processes, for the tests.

They share the test database (created by pytest-django) and the broker the test run is configured
with; Slack is the fake Web API. For RabbitMQ the processes go through a TcpProxy so a test can cut
the broker off; for the embedded broker an outage is an exclusive lock on its SQLite file.
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from tests.support.fake_slack import FakeSlack
from tests.support.tcp_proxy import TcpProxy

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url(settings_dict: dict) -> str:
    engine = settings_dict["ENGINE"]
    if engine.endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    auth = quote(settings_dict.get("USER") or "")
    if settings_dict.get("PASSWORD"):
        auth += ":" + quote(settings_dict["PASSWORD"])
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{settings_dict['NAME']}"


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict

    def json(self):
        return json.loads(self.body)


def http_request(url: str, method: str, body: bytes | None = None, headers: dict | None = None,
                 opener=None, timeout: float = 15) -> Response:
    """One HTTP request; an error status is a Response too, not an exception."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with (opener.open if opener else urllib.request.urlopen)(req, timeout=timeout) as resp:
            return Response(resp.status, resp.read(), dict(resp.headers))
    except urllib.error.HTTPError as err:
        return Response(err.code, err.read(), dict(err.headers))


@dataclass
class AppStack:
    env: dict
    web_url: str
    fake: FakeSlack
    broker_url: str
    logs: Path
    proxy: TcpProxy | None = None
    procs: dict = field(default_factory=dict)

    # -- processes ----------------------------------------------------------
    # A process is known by its name: the role by default; two of one role need names of their own
    # (start("worker", name="worker-2")). Each runs in a session of its own: a signal reaches its children.
    def start(self, role: str, extra_env: dict | None = None, name: str | None = None) -> subprocess.Popen:
        name = name or role
        log = open(self.logs / f"{name}.log", "ab")
        proc = subprocess.Popen([str(REPO / "bin" / "process"), role], cwd=REPO, env={**self.env, **(extra_env or {})},
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def signal(self, name: str, sig: int) -> None:
        """Send `sig` to the named process and its children (its process group), e.g. SIGSTOP/SIGCONT."""
        os.killpg(self.procs[name].pid, sig)

    def stop(self, name: str, sig: int = 15, timeout: float = 30) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_for_log(self, name: str, needle: str, timeout: float = 60, after: int = 0) -> None:
        """Wait for `needle` in the process's log, past its first `after` characters (logs are appended to)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.log(name)[after:]:
                return
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log(name)[-3000:]}")
            time.sleep(0.1)
        raise TimeoutError(f"{name}: {needle!r} not seen in {timeout}s:\n{self.log(name)[-3000:]}")

    def wait_for_http(self, path: str = "/healthz", timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.get(path).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"web did not answer {path} in {timeout}s:\n{self.log('web')[-3000:]}")

    # -- HTTP ---------------------------------------------------------------
    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> Response:
        return http_request(self.web_url + path, method, body, headers)

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, body: bytes, headers: dict) -> Response:
        return self.request("POST", path, body, headers)

    # -- broker outage --------------------------------------------------------
    @contextlib.contextmanager
    def broker_outage(self):
        """The broker is unreachable inside the block and back after it."""
        if self.proxy is not None:
            self.proxy.cut()
            try:
                yield
            finally:
                self.proxy.restore()
            return
        path = urlsplit(self.broker_url).path
        db = sqlite3.connect(path[1:] if path.startswith("//") else path, timeout=30, isolation_level=None)
        db.execute("BEGIN EXCLUSIVE")  # every reader and writer of the embedded broker now times out
        try:
            yield
        finally:
            db.execute("ROLLBACK")
            db.close()


def start_stack(*, database_url: str, broker_url: str, data_dir: Path, logs: Path, fake: FakeSlack,
                extra_env: dict | None = None, roles=("worker", "beat", "web"),
                unset: tuple[str, ...] = (), broker_proxy: bool = True) -> AppStack:
    """`unset` names variables the processes must not inherit, e.g. the Slack secrets for console mode.
    `broker_proxy=False`: the processes talk to RabbitMQ directly (a test that crashes the broker itself)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_SETTINGS"))}
    proxy = None
    parts = urlsplit(broker_url)
    process_broker = broker_url
    if broker_proxy and parts.scheme in ("amqp", "amqps", "pyamqp"):
        proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5672)
        netloc = parts.netloc.rsplit("@", 1)
        host = f"127.0.0.1:{proxy.port}"
        process_broker = urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))
    port = free_port()
    env.update({
        # bin/process runs gunicorn and celery from PATH: the ones installed next to this Python.
        "PATH": os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")]),
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": process_broker,
        "DATA_DIR": str(data_dir),
        "SLACK_API_URL": fake.api_url,
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "CELERY_WORKER_CONCURRENCY": "2",
        "INBOX_RETRY_SECONDS": "1",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    })
    for name in unset:
        env.pop(name, None)
    logs.mkdir(parents=True, exist_ok=True)
    stack = AppStack(env=env, web_url=f"http://127.0.0.1:{port}", fake=fake, broker_url=broker_url, logs=logs,
                     proxy=proxy)
    try:
        for role in roles:
            stack.start(role)
        if "worker" in roles:
            stack.wait_for_log("worker", " ready.")
        if "web" in roles:
            stack.wait_for_http()
    except Exception:
        stack.stop_all()
        raise
    return stack
