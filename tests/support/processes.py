"""Processes as a person's machine sees them: a shell with none of the test run's settings, and process trees."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# What a person's shell has; everything else (the test run's SECRET_KEY, Slack secrets, DATABASE_URL, PORT, ...)
# stays out.
SHELL_VARIABLES = ("HOME", "LANG", "LC_ALL", "TERM", "USER", "LOGNAME", "TMPDIR", "PYTHON",
                   "PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")


def user_shell(**extra: str) -> dict[str, str]:
    """A clean environment, with PATH as a shell has it: without the venv's bin that `./charla test` put first."""
    env = {name: os.environ[name] for name in SHELL_VARIABLES if name in os.environ}
    venv = str(REPO / ".venv")
    env["PATH"] = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                                  if p and not p.startswith(venv))
    env.update(extra)
    return env


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    session: int
    started: int  # clock ticks after boot: with the pid, names one process even if the pid is reused
    command: str
    exited: bool  # a zombie: gone, waiting for its parent to collect its exit status


def _read(pid: int) -> Proc | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:  # gone meanwhile
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
    return Proc(pid, int(fields[1]), int(fields[3]), int(fields[19]), command, fields[0] == "Z")


def all_processes() -> list[Proc]:
    found = (_read(int(entry)) for entry in os.listdir("/proc") if entry.isdigit())
    return [p for p in found if p is not None]


def descendants(root: int) -> list[Proc]:
    """`root` and every process under it, as they are now."""
    everyone = all_processes()
    children: dict[int, list[Proc]] = {}
    for proc in everyone:
        children.setdefault(proc.ppid, []).append(proc)
    tree = [p for p in everyone if p.pid == root]
    for proc in tree:  # grows while it is walked: breadth first
        tree.extend(children.get(proc.pid, []))
    return tree


def still_running(seen: list[Proc]) -> list[Proc]:
    """What is left of `seen`: the same processes, or any process in one of their sessions (a straggler
    started later in a session we know, or one that moved away from its parent)."""
    pids = {(p.pid, p.started) for p in seen}
    sessions = {p.session for p in seen}
    return [p for p in all_processes() if ((p.pid, p.started) in pids or p.session in sessions) and not p.exited]
