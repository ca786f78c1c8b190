"""`./charla run` as a person runs it: the URL it prints answers, and Ctrl-C stops everything it started.

From this checkout, with a fresh data folder and none of the test run's settings (no PORT, no SECRET_KEY,
no Slack app). It finds the venv `./charla test` installed: nothing is installed again.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
import urllib.request

from tests.support.processes import REPO, Proc, descendants, still_running, user_shell
from tests.support.stack import http_request

PRINTED_URL = re.compile(r"^charlandero: the local console on (http://127\.0\.0\.1:\d+/)$")


class Output:
    """Every line the command prints, read as it comes, each with the time it came."""

    def __init__(self, stream):
        self.lines: list[tuple[float, str]] = []
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            self.lines.append((time.monotonic(), line.rstrip("\n")))

    def find(self, pattern: re.Pattern):
        return next(((at, m) for at, line in self.lines if (m := pattern.match(line))), None)

    def text(self) -> str:
        return "\n".join(line for _, line in self.lines)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def wait_until(check, timeout: float, what: str, output: Output, run: subprocess.Popen):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        assert run.poll() is None, f"./charla run exited ({run.returncode}) before {what}:\n{output.text()}"
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout} s\n{output.text()}")


def kill_what_is_left(seen: list[Proc]) -> None:
    for proc in still_running(seen):
        try:
            os.kill(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_charla_run_opens_where_it_says_and_ctrl_c_stops_everything(tmp_path):
    started = time.monotonic()
    # Its own session and process group, as a terminal gives a command; Ctrl-C goes to that group.
    run = subprocess.Popen(["./charla", "run"], cwd=REPO, env=user_shell(DATA_DIR=str(tmp_path / "data")),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    output = Output(run.stdout)
    seen: list[Proc] = []
    try:
        printed_at, match = wait_until(lambda: output.find(PRINTED_URL), 180, "the URL is printed", output, run)
        url = match.group(1)
        wait_until(lambda: answers(url), 120, f"{url} answers", output, run)
        answering_at = time.monotonic()

        page = http_request(url, "GET")
        assert page.status == 200 and b'id="message-text"' in page.body  # the console, on a local run
        for path in ("healthz", "readyz"):
            assert http_request(url + path, "GET").status == 200, path
        assert "installing dependencies" not in output.text()  # the venv `./charla test` made, as it is
        seen = descendants(run.pid)
        commands = [p.command for p in seen]
        for role in ("gunicorn", "app.queueing.start worker", "app.queueing.start beat"):
            assert any(role in command for command in commands), commands

        interrupted = time.monotonic()
        os.killpg(run.pid, signal.SIGINT)
        run.wait(timeout=30)
        stopped = time.monotonic() - interrupted
        deadline = time.monotonic() + 10
        while still_running(seen) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [f"{p.pid} {p.command}" for p in still_running(seen)]
        assert not left, f"left running after ./charla run stopped: {left}"
    finally:
        seen = seen or descendants(run.pid)
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        kill_what_is_left(seen)
    print(f"\n./charla run: URL printed after {printed_at - started:.1f} s, answering after "
          f"{answering_at - started:.1f} s ({len(seen)} processes); all stopped {stopped:.1f} s after SIGINT "
          f"(exit status {run.returncode})")
