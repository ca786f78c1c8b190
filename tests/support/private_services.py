"""A PostgreSQL cluster and a RabbitMQ node (or a 3-node RabbitMQ cluster) of a test's own, to crash and
restart at will.

The machine's own services (PostgreSQL on 5432, RabbitMQ `rabbit@localhost` on 5672) are shared by
everyone working on it and are never touched: these run on free ports, with their data in a folder
the test owns, and only the PIDs they started are ever signalled (see /work/shared/docs/rabbitmq.md
for the node's environment).
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

from tests.support.stack import free_port

RABBITMQ_BIN = Path("/usr/lib/rabbitmq/bin")  # not /usr/sbin: those wrappers switch user and drop the env


def _postgres_bin() -> Path:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    if not versions:
        raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin")
    return versions[-1].parent


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class PrivatePostgres:
    """initdb + pg_ctl as the postgres user, on 127.0.0.1:<free port>, trust auth, database `charla`."""

    def __init__(self, base: Path, database: str = "charla"):
        self.base, self.database = base, database
        self.bin = _postgres_bin()
        self.data, self.log, self.sockets = base / "data", base / "postgres.log", base / "sockets"
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.database}"

    def _as_postgres(self, *args: str, timeout: float = 90) -> None:
        # Output to a file, never a pipe: the postmaster inherits pg_ctl's descriptors and outlives it.
        with open(self.base / "pg_ctl.out", "ab") as out:
            subprocess.run(["runuser", "-u", "postgres", "--", *args], cwd=self.base, stdin=subprocess.DEVNULL,
                           stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=True,
                           start_new_session=True)

    def _pg_ctl(self, *args: str) -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                          *args)

    def start(self) -> "PrivatePostgres":
        self.base.mkdir(parents=True, exist_ok=True)
        self.sockets.mkdir(exist_ok=True)
        shutil.chown(self.base, "postgres")
        shutil.chown(self.sockets, "postgres")
        if not (self.data / "PG_VERSION").exists():
            self._as_postgres(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                              "-E", "UTF8", "--locale", "C.UTF-8", "--no-sync")
        # fsync off: these crashes kill the server, not the kernel, which keeps every written page.
        self._pg_ctl("-o", f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.sockets} -c fsync=off", "start")
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)).fetchone():
                conn.execute(f'CREATE DATABASE "{self.database}"')
        return self

    def restart(self, mode: str) -> None:
        """`pg_ctl restart -m fast|immediate`: the same data, port and options (postmaster.opts)."""
        self._pg_ctl("-m", mode, "restart")

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        pid = self.postmaster_pid()
        if pid is None or not _pid_alive(pid):
            return
        try:
            self._pg_ctl("-m", "immediate", "stop")
        except (subprocess.SubprocessError, OSError):
            if _pid_alive(pid):
                os.kill(pid, signal.SIGKILL)  # our postmaster, by the PID its own pid file gives


class PrivateRabbitMQ:
    """A RabbitMQ node `<prefix><port>@localhost`, guest/guest on the default vhost, its data kept across
    a crash (same MNESIA_BASE), so a restart finds whatever the node had written to disk."""

    def __init__(self, base: Path, prefix: str = "faults", home: Path | None = None):
        self.base = base
        self.home = home or base / "home"  # holds the Erlang cookie: nodes of one cluster share it
        self.port = free_port()
        self.dist_port = free_port()
        while self.dist_port == self.port:
            self.dist_port = free_port()
        self.node = f"{prefix}{self.port}@localhost"
        self.pid_file = base / "pid"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def _env(self) -> dict:
        erl_args = "-kernel inet_dist_use_interface {127,0,0,1}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))}
        env.update({
            "HOME": str(self.home),
            "RABBITMQ_CONF_ENV_FILE": str(self.base / "rabbitmq-env.conf"),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_PID_FILE": str(self.pid_file),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": erl_args,
            "RABBITMQ_CTL_ERL_ARGS": erl_args,
        })
        return env

    def _prepare(self) -> None:
        if (self.base / "rabbitmq-env.conf").exists():
            return
        self.base.mkdir(parents=True, exist_ok=True)
        if not self.home.exists():
            self.home.mkdir(parents=True)
            cookie = self.home / ".erlang.cookie"
            cookie.write_text(secrets.token_hex(10).upper())
            cookie.chmod(0o400)
        (self.base / "rabbitmq-env.conf").write_text("")  # the packaged one pins NODENAME
        (self.base / "rabbitmq.conf").write_text("")
        (self.base / "enabled_plugins").write_text("[].")  # no management plugin: a faster start

    def ctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([str(RABBITMQ_BIN / "rabbitmqctl"), "-n", self.node, *args], env=self._env(),
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)

    def start(self, timeout: float = 120) -> "PrivateRabbitMQ":
        self._prepare()
        self.pid_file.unlink(missing_ok=True)
        log = open(self.base / "server.out", "ab")
        self.proc = subprocess.Popen([str(RABBITMQ_BIN / "rabbitmq-server")], env=self._env(), cwd=self.base,
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            # The first calls can fail (69) before the node has registered with epmd: ask again.
            result = self.ctl("await_startup", "--timeout", "20", timeout=40)
            if result.returncode == 0:
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"RabbitMQ node {self.node} exited with {self.proc.returncode}:\n"
                                   + (self.base / "server.out").read_text(errors="replace")[-3000:])
            if time.monotonic() > deadline:
                raise TimeoutError(f"RabbitMQ node {self.node} not started in {timeout}s: {result.stderr[-1000:]}")
            time.sleep(0.5)

    def beam_pid(self) -> int | None:
        """The node's Erlang VM, by the pid file the node writes at boot."""
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def crash(self) -> None:
        """kill -9 of the node's VM: whatever it had not written to disk is gone."""
        pid = self.beam_pid()
        if pid is None:
            raise RuntimeError(f"no pid file for RabbitMQ node {self.node}")
        os.kill(pid, signal.SIGKILL)
        self._reap()

    def _reap(self, timeout: float = 15) -> None:
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)  # our session only (epmd runs in a session of its own)
            self.proc.wait()
        self.proc = None

    def queue_counts(self) -> dict[str, tuple[int, int]]:
        """{queue: (ready, unacknowledged)}; empty if the node does not answer."""
        result = self.ctl("-q", "list_queues", "name", "messages_ready", "messages_unacknowledged", timeout=30)
        counts = {}
        for line in result.stdout.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
                counts[parts[0]] = (int(parts[1]), int(parts[2]))
        return counts

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = None
            return
        try:
            self.ctl("stop", timeout=30)
        except subprocess.SubprocessError:
            pass
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            pid = self.beam_pid()
            if pid is not None and _pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        self._reap()


class PrivateRabbitCluster:
    """Three (or `size`) PrivateRabbitMQ nodes joined into one cluster, sharing an Erlang cookie. A node that
    crashed and is started again rejoins with its data. `url` is kombu's failover list of every node."""

    def __init__(self, base: Path, size: int = 3, prefix: str = "cluster"):
        self.base = base
        home = base / "home"
        self.nodes = [PrivateRabbitMQ(base / f"node{n + 1}", prefix=prefix, home=home) for n in range(size)]

    @property
    def url(self) -> str:
        return ";".join(node.url for node in self.nodes)

    def start(self, timeout: float = 150) -> "PrivateRabbitCluster":
        errors: list[BaseException] = []

        def boot(node):
            try:
                node.start(timeout=timeout)
            except BaseException as exc:  # reported below, once every boot has ended
                errors.append(exc)

        threads = [threading.Thread(target=boot, args=(node,), daemon=True) for node in self.nodes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout + 60)
        if errors:
            raise errors[0]
        first = self.nodes[0].node
        for node in self.nodes[1:]:
            for step in (("stop_app",), ("join_cluster", first), ("start_app",)):
                result = node.ctl(*step, timeout=120)
                if result.returncode != 0:
                    raise RuntimeError(f"{node.node}: rabbitmqctl {' '.join(step)} failed: {result.stderr[-1000:]}")
        return self

    def node_named(self, name: str) -> PrivateRabbitMQ:
        return next(node for node in self.nodes if node.node == name)

    def live_node(self) -> PrivateRabbitMQ | None:
        return next((node for node in self.nodes if node.proc is not None and node.proc.poll() is None), None)

    def leaders(self) -> dict[str, str]:
        """{queue: the node leading it} for the quorum queues, as a live node sees them."""
        node = self.live_node()
        if node is None:
            return {}
        result = node.ctl("-q", "list_queues", "name", "type", "leader", timeout=30)
        found = {}
        for line in result.stdout.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] == "quorum":
                found[parts[0]] = parts[2]
        return found

    def queue_counts(self) -> dict[str, tuple[int, int]]:
        node = self.live_node()
        return node.queue_counts() if node is not None else {}

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
