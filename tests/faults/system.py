"""The system under test, all of it private to the suite: a PostgreSQL cluster, a RabbitMQ node, the fake
Slack, and the bot's real processes — web, two workers, beat — plus the faults injected into them.

A supervisor stands in for the platform's (systemd's Restart=, Heroku's dyno manager): a process that
exits without being told to is recorded and started again after a short backoff. Planned stops and
restarts (the faults) hold the same lock, so the supervisor never mistakes one for a crash.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tests.support.fake_slack import FakeSlack
from tests.support.private_services import PrivatePostgres, PrivateRabbitMQ
from tests.support.stack import REPO, AppStack, start_stack

WORKERS = ("worker-1", "worker-2")
ROLES = {"web": "web", "beat": "beat", "worker-1": "worker", "worker-2": "worker"}
ERROR_LINE = re.compile(r"Unrecoverable error|\b[\w.]+(?:Error|Exception|Locked)\b[:(]")
ERROR_NAME = re.compile(r"Unrecoverable error|\b[A-Z]\w*(?:Error|Exception|Locked|Nacked)\b")


@dataclass(frozen=True)
class Exit:
    name: str
    code: int
    phase: str
    reason: str


class FaultSystem:
    """`broker`: makes the private broker from its folder (default: one PrivateRabbitMQ node; the cluster
    suite gives a PrivateRabbitCluster). `extra_env`: more settings for every process."""

    def __init__(self, broker=PrivateRabbitMQ, extra_env: dict | None = None, prefix: str = "charla-faults-"):
        self.phase: Callable[[], str] = lambda: "setup"  # the fault under way (the suite sets it)
        self.exits: list[Exit] = []
        self.base = Path(tempfile.mkdtemp(prefix=prefix))
        self.base.chmod(0o755)  # the postgres user must reach its data folder inside
        self.logs = self.base / "logs"
        self.extra_env = extra_env or {}
        self.postgres = PrivatePostgres(self.base / "postgres")
        self.rabbit = broker(self.base / "rabbitmq")
        self.fake = FakeSlack()
        self.stack: AppStack | None = None
        self.lock = threading.RLock()  # held by every planned start/stop/signal
        self._log_marks: dict[str, int] = {}
        self._backoff: dict[str, float] = {}
        self._supervising = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._closed = False

    # -- start and stop -------------------------------------------------------
    def start(self) -> "FaultSystem":
        self.postgres.start()
        self.rabbit.start()
        self.fake.start()
        self.stack = start_stack(database_url=self.postgres.url, broker_url=self.rabbit.url,
                                 data_dir=self.base / "data", logs=self.logs, fake=self.fake, roles=(),
                                 broker_proxy=False,
                                 extra_env={"CELERY_WORKER_CONCURRENCY": "2", "INBOX_RETRY_SECONDS": "1",
                                            **self.extra_env})
        with open(self.logs / "release.log", "ab") as out:
            subprocess.run([str(REPO / "bin" / "process"), "release"], cwd=REPO, env=self.stack.env,
                           stdout=out, stderr=subprocess.STDOUT, check=True, timeout=180)
        for name in ("web", "beat", "worker-1"):
            self._start(name)
        self.stack.wait_for_http()
        self.wait_ready("worker-1")
        self._start("worker-2")  # after the first is up: which one fails to start, if one does, is then known
        try:
            self.wait_ready("worker-2")
        except (RuntimeError, TimeoutError):
            pass  # recorded as an exit by the supervisor, which starts it again
        self._supervisor = threading.Thread(target=self._supervise, name="supervisor", daemon=True)
        self._supervising.set()
        self._supervisor.start()
        return self

    def close(self) -> None:
        """Stop everything this system started, whatever state it is in. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._supervising.clear()
        if self._supervisor is not None:
            self._supervisor.join(5)
        try:
            if self.stack is not None:
                self._stop_processes()
        finally:
            try:
                self.rabbit.stop()
            finally:
                try:
                    self.postgres.stop()
                finally:
                    self.fake.stop()
                    if not os.environ.get("FAULTS_KEEP"):
                        shutil.rmtree(self.base, ignore_errors=True)

    def _stop_processes(self) -> None:
        procs = dict(self.stack.procs)
        self.stack.procs.clear()
        for sig in (signal.SIGCONT, signal.SIGTERM):  # a stopped process must run to act on SIGTERM
            for proc in procs.values():
                _signal_group(proc.pid, sig)
        deadline = time.monotonic() + 20
        for proc in procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for proc in procs.values():  # stragglers: pool children, a main process that did not finish
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait()

    # -- processes ------------------------------------------------------------
    def _start(self, name: str) -> None:
        self._log_marks[name] = len(self.stack.log(name))
        self.stack.start(ROLES[name], name=name)

    def restart(self, name: str, sig: int) -> float:
        """Stop `name` with `sig` (to its whole process group) and start it again; wait until it is ready.
        Returns the seconds it took to stop."""
        with self.lock:  # the supervisor waits: it starts nothing that could race this start
            started = time.monotonic()
            self.stack.stop(name, sig=sig)
            stopped = time.monotonic() - started
            self._start(name)
            self.wait_ready(name)
        return stopped

    def wait_ready(self, name: str, timeout: float = 60) -> None:
        if not name.startswith("worker"):
            return
        try:
            self.stack.wait_for_log(name, " ready.", timeout=timeout, after=self._log_marks.get(name, 0))
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"{str(exc).splitlines()[0]} {self._last_error(name)}") from None

    def running(self, name: str) -> bool:
        proc = self.stack.procs.get(name)
        return proc is not None and proc.poll() is None

    def ready(self, name: str) -> bool:
        """Running, and (a worker) said it is ready since it last started."""
        return self.running(name) and " ready." in self.stack.log(name)[self._log_marks.get(name, 0):]

    def signal(self, names, sig: int) -> None:
        with self.lock:
            for name in names:
                if self.running(name):
                    self.stack.signal(name, sig)

    def _supervise(self) -> None:
        while self._supervising.is_set():
            time.sleep(0.5)
            with self.lock:
                if not self._supervising.is_set():
                    return
                for name, proc in list(self.stack.procs.items()):
                    if proc.poll() is None:
                        continue
                    self.stack.procs.pop(name)
                    _signal_group(proc.pid, signal.SIGKILL)  # children it may have left behind
                    self.exits.append(Exit(name, proc.returncode, self.phase(), self._last_error(name)))
                    self._backoff[name] = time.monotonic() + min(15.0, 2.0 ** sum(e.name == name for e in self.exits))
                for name, at in list(self._backoff.items()):
                    if time.monotonic() >= at and name not in self.stack.procs:
                        del self._backoff[name]
                        self._start(name)

    def _last_error(self, name: str) -> str:
        """The last error the process logged since it started, from the error's name on (no log prefix)."""
        for line in reversed(self.stack.log(name)[self._log_marks.get(name, 0):].splitlines()):
            found = ERROR_LINE.search(line)
            if found:
                return line[found.start():].strip()[:160]
        return "no error logged"

    def error_summary(self) -> dict[str, Counter]:
        """Per process log: how many lines name each kind of error (exception names, 'Unrecoverable error')."""
        summary = {}
        for path in sorted(self.logs.glob("*.log")):
            counts = Counter()
            for line in path.read_text(errors="replace").splitlines():
                counts.update(set(ERROR_NAME.findall(line)))
            if counts:
                summary[path.stem] = counts
        return summary

    # -- the faults -----------------------------------------------------------
    def kill_worker(self) -> str:
        self.restart("worker-1", signal.SIGKILL)
        return "worker-1 and its pool children killed (-9), started again"

    def rabbit_crash(self, stall: float = 5.0) -> str:
        with self.lock:  # no worker (re)starts behind the fault's back
            self.signal(WORKERS, signal.SIGSTOP)
            stopped = time.monotonic()
            try:
                time.sleep(stall)  # the deliberate window: events queue up with no worker taking them
                backlog = self.rabbit.queue_counts()
                self.rabbit.crash()
                crashed = time.monotonic()
                self.rabbit.start()
                down = time.monotonic() - crashed
            finally:
                self.signal(WORKERS, signal.SIGCONT)
        waiting = ", ".join(f"{q} {ready}+{unacked}" for q, (ready, unacked) in sorted(backlog.items())
                            if ready or unacked) or "nothing"
        return (f"workers stopped {time.monotonic() - stopped:.1f} s; the broker killed (-9) with {waiting} waiting"
                f" (ready+unacked), back {down:.1f} s later")

    def postgres_restart(self, mode: str) -> str:
        started = time.monotonic()
        self.postgres.restart(mode)
        return f"pg_ctl restart -m {mode} took {time.monotonic() - started:.1f} s"

    def slack_outage(self, status: int, seconds: float) -> str:
        answer = {"status": status, "error": "ratelimited" if status == 429 else "internal_error"}
        if status == 429:
            answer["headers"] = {"Retry-After": "2"}
        self.fake.outage(seconds, **answer)
        time.sleep(seconds)  # the deliberate window
        return f"Slack answered {status} to every post for {seconds:g} s"

    def worker_sigterm(self) -> str:
        name = "worker-2" if self.ready("worker-2") else "worker-1"
        took = self.restart(name, signal.SIGTERM)
        return f"{name} sent SIGTERM as a platform stops it (exited after {took:.1f} s), started again"

    def web_stall(self, seconds: float = 4.0) -> str:
        self.signal(["web"], signal.SIGSTOP)
        try:
            time.sleep(seconds)  # the deliberate window
        finally:
            self.signal(["web"], signal.SIGCONT)
        return f"web stopped (SIGSTOP) {seconds:g} s"


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
