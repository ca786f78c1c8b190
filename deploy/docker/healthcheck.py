"""The image's HEALTHCHECK: one script for every role, which it tells from PID 1's command line.

- web, all: GET /healthz on $PORT answers 200.
- worker:   PID 1 (the Celery worker's main process) holds an established TCP connection to the
            broker's port (AMQP or Redis); on the embedded broker, being alive is all there is to check.
- beat:     PID 1 is celery beat and its schedule file exists in DATA_DIR.
- socket:   PID 1 (bin/process socket) holds an established TCP connection other than to the broker: the
            Socket Mode WebSocket to Slack.
- release:  a one-shot job; healthy while it runs.
Standard library only and no Django import, so it costs a few milliseconds every interval.
Exit 0 = healthy, 1 = unhealthy (with one line saying why).
"""
import os
import sys
import urllib.error
import urllib.request
from urllib.parse import urlsplit

BROKER_VARIABLES = ("CELERY_BROKER_URL", "CLOUDAMQP_URL", "RABBITMQ_URL", "REDIS_URL")
DEFAULT_PORTS = {"amqp": 5672, "pyamqp": 5672, "amqps": 5671, "redis": 6379, "rediss": 6379}


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


def check_web() -> str | None:
    port = os.environ.get("PORT") or "8000"
    # A Host name the app accepts: the first concrete one of ALLOWED_HOSTS, else localhost.
    host = "localhost"
    for name in (os.environ.get("ALLOWED_HOSTS") or "").split(","):
        name = name.strip().lstrip(".")
        if name and name != "*":
            host = name
            break
    req = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={
        "Host": host,
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


def broker_port() -> int | None:
    for name in BROKER_VARIABLES:
        url = (os.environ.get(name) or "").strip()
        if url:
            parts = urlsplit(url)
            if parts.scheme in DEFAULT_PORTS:
                return parts.port or DEFAULT_PORTS[parts.scheme]
            return None   # embedded (sqla+sqlite) or memory: no connection to look for
    return None


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


def check_socket() -> str | None:
    if established_ports(socket_inodes(1)) - {broker_port()}:
        return None
    return "no Socket Mode connection to Slack"


def established_to(port: int, inodes: set[str]) -> bool:
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            remote_port = int(cols[2].rsplit(":", 1)[1], 16)
            if cols[3] == "01" and remote_port == port and cols[9] in inodes:
                return True
    return False


def check_worker() -> str | None:
    port = broker_port()
    if port is None:
        return None
    if established_to(port, socket_inodes(1)):
        return None
    return f"the worker has no connection to the broker (port {port})"


def check_beat() -> str | None:
    data_dir = os.environ.get("DATA_DIR") or "/data"
    if any(name.startswith("celerybeat-schedule") for name in os.listdir(data_dir)):
        return None
    return f"no beat schedule in {data_dir} yet"


def main() -> int:
    role = role_of(pid1_argv())
    if role in ("web", "all"):
        problem = check_web()
    elif role == "worker":
        problem = check_worker()
    elif role == "beat":
        problem = check_beat()
    elif role == "socket":
        problem = check_socket()
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
