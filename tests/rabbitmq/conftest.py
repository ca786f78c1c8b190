"""For the tests that need a RabbitMQ server (collected only when the test run's broker is RabbitMQ:
tests/conftest.py): the reference producers, built, and RabbitMQ users and vhosts made with rabbitmqctl."""
from __future__ import annotations

import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import pytest

from tests.support.processes import REPO

CLIENTS = REPO / "clients"
GO_BUILD_ENV = {"GO111MODULE": "off", "GOPATH": "/usr/share/gocode", "GOPROXY": "off", "GOFLAGS": ""}


def rabbitmqctl(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True, timeout=60, check=check)


def run(command: list[str], env: dict, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, cwd=REPO)


@dataclass(frozen=True)
class Broker:
    url: str          # the test run's broker (guest on the test vhost)
    vhost: str

    def url_for(self, user: str, password: str, vhost: str | None = None) -> str:
        parts = urlsplit(self.url)
        host = parts.netloc.rsplit("@", 1)[-1]
        return urlunsplit(parts._replace(netloc=f"{quote(user, safe='')}:{quote(password, safe='')}@{host}",
                                         path="/" + quote(vhost or self.vhost, safe="")))


@pytest.fixture(scope="session")
def broker() -> Broker:
    from django.conf import settings

    url = settings.CONFIG.broker_url
    return Broker(url=url, vhost=unquote(urlsplit(url).path[1:]) or "/")


def _need(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is not installed: apt-get install {package} (.ci/run does)")
    return path


@pytest.fixture(scope="session")
def producers() -> dict[str, list[str]]:
    """How to run each reference producer: built here when .ci/run has not (npm ci, go build, offline)."""
    node = _need("node", "nodejs npm")
    if not (CLIENTS / "node" / "node_modules" / "amqplib").is_dir():
        subprocess.run([_need("npm", "npm"), "ci", "--no-audit", "--no-fund"], cwd=CLIENTS / "node", check=True,
                       capture_output=True, timeout=300)
    go_binary = CLIENTS / "go" / "announce"
    if not go_binary.exists() or go_binary.stat().st_mtime < (CLIENTS / "go" / "announce.go").stat().st_mtime:
        import os

        subprocess.run([_need("go", "golang-go golang-github-rabbitmq-amqp091-go-dev"), "build", "-o", "announce", "."],
                       cwd=CLIENTS / "go", check=True, capture_output=True, timeout=300,
                       env={**os.environ, **GO_BUILD_ENV})
    import sys

    return {
        "python": [sys.executable, str(CLIENTS / "python" / "announce.py")],
        "node": [node, str(CLIENTS / "node" / "announce.js")],
        "go": [str(go_binary)],
    }


@pytest.fixture
def scratch_vhost(broker):
    """A vhost of the test's own, with guest allowed everything; deleted afterwards."""
    name = f"{broker.vhost}-scratch-{secrets.token_hex(4)}"
    rabbitmqctl("add_vhost", name)
    rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    yield name
    rabbitmqctl("delete_vhost", name, check=False)


@pytest.fixture
def new_user():
    """make(name) → a unique user name (rabbitmqctl creates it in the test); all deleted afterwards."""
    made: list[str] = []

    def make(prefix: str) -> str:
        made.append(f"{prefix}-{secrets.token_hex(4)}")
        return made[-1]

    yield make
    for name in made:
        rabbitmqctl("delete_user", name, check=False)


def producer_env(url: str, variable: str = "CELERY_BROKER_URL") -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "CLOUDAMQP_URL")}
    env[variable] = url
    return env


def docs_commands(doc: Path, starts_with: str) -> list[str]:
    """The lines of the doc's ```sh blocks that start with `starts_with`, as a person would type them."""
    lines, in_sh = [], False
    for line in doc.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_sh = line.strip() == "```sh"
            continue
        if in_sh and line.startswith(starts_with):
            lines.append(line)
    return lines
