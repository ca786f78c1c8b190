"""The image's HEALTHCHECK: one script for every role, which it tells from PID 1's command line.

- web, all: GET /healthz on $PORT answers 200.
- worker:   PID 1 (the Celery worker's main process) holds an established TCP connection to the
            broker's port (AMQP); on the embedded broker, being alive is all there is to check.
- beat:     PID 1 is celery beat and its schedule file exists in DATA_DIR.
- socket:   PID 1 (bin/process socket) holds an established TCP connection other than to the broker: the
            Socket Mode WebSocket to Slack.
- release:  a one-shot job; healthy while it runs.
What it looks at (port, Host name, broker port, DATA_DIR) is read by app/environment.py, as everything else
the app reads; no Django, Celery or kombu import, so it costs little every interval.
Exit 0 = healthy, 1 = unhealthy (with one line saying why).
"""
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # /app: the project, whatever the working dir

from app.environment import ConfigError, Probe, probe  # noqa: E402


def pid1_argv() -> list[str]:
    with open("/proc/1/cmdline", "rb") as f:
        return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]


def role_of(argv: list[str]) -> str:
    words = [os.path.basename(a) for a in argv]
    if "gunicorn" in words:
        return "web"
    if "honcho" in words:
        return "all"
    if "app.queueing.start" in words and "socket" in words:
        return "socket"
    if "celery" in words or "app.queueing.start" in words:  # bin/process runs `python -m app.queueing.start worker|beat`
        return "beat" if "beat" in words else "worker"
    if "release" in words or "migrate" in words:
        return "release"
    if "process" in words and "all" in words:
        return "all-starting"   # bin/process all, still running the release step
    return "other"


def check_web(settings: Probe) -> str | None:
    port = settings.port
    req = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={
        "Host": settings.host,  # a name the app accepts: the first concrete one of ALLOWED_HOSTS, else localhost
        # As a TLS-terminating proxy would say: no redirect to https for this internal probe.
        "X-Forwarded-Proto": "https",
    })
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            if resp.status == 200:
                return None
            return f"/healthz answered {resp.status}"
    except urllib.error.HTTPError as exc:
        return f"/healthz answered {exc.code}"
    except OSError as exc:
        return f"/healthz unreachable on port {port}: {exc}"


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def established_ports(inodes: set[str]) -> set[int]:
    """The remote ports of the established TCP connections among these sockets."""
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if cols[3] == "01" and cols[9] in inodes:
                ports.add(int(cols[2].rsplit(":", 1)[1], 16))
    return ports


def check_socket(settings: Probe) -> str | None:
    if established_ports(socket_inodes(1)) - {settings.broker_port}:
        return None
    return "no Socket Mode connection to Slack"


def check_worker(settings: Probe) -> str | None:
    port = settings.broker_port
    if port is None:  # the embedded broker: no connection to look for
        return None
    if port in established_ports(socket_inodes(1)):
        return None
    return f"the worker has no connection to the broker (port {port})"


def check_beat(settings: Probe) -> str | None:
    data_dir = settings.data_dir
    if any(name.startswith("celerybeat-schedule") for name in os.listdir(data_dir)):
        return None
    return f"no beat schedule in {data_dir} yet"


def main() -> int:
    role = role_of(pid1_argv())
    try:
        settings = probe() if role in ("web", "all", "worker", "beat", "socket") else None
    except ConfigError as exc:  # the role itself stops at start with the same message
        print(f"unhealthy ({role}): {exc}")
        return 1
    if role in ("web", "all"):
        problem = check_web(settings)
    elif role == "worker":
        problem = check_worker(settings)
    elif role == "beat":
        problem = check_beat(settings)
    elif role == "socket":
        problem = check_socket(settings)
    elif role == "release":
        problem = None
    elif role == "all-starting":
        problem = "starting: the release step is still running"
    else:
        problem = None   # a command the image does not know: nothing to check
    if problem:
        print(f"unhealthy ({role}): {problem}")
        return 1
    print(f"healthy ({role})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
