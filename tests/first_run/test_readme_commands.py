"""Every `doctor` and `manifest` command a README tells someone to type, run as written from a fresh clone.

The root README's commands (`./charla doctor`, `./charla manifest --url …`) run in the clone exactly as
typed, in a shell with none of the test run's settings. A deployment README's command is what a person
types on that target (`heroku run …`, `charlandero-run …`, `docker compose exec web …`, `docker exec charla
…`): the part after the target's own prefix runs in the clone with the environment that target gives it.
A command with no known target fails the test: `python manage.py …` typed on one's own machine does not work
(no Django outside the venv; no SECRET_KEY).

The clone is `git clone` of this checkout's HEAD (committed files only). Its `.venv` is this checkout's,
which `./charla test` installed: the clone's requirements must be the same files.
"""
from __future__ import annotations

import hashlib
import json
import re
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.processes import REPO, user_shell
from tests.support.stack import database_url

pytestmark = pytest.mark.django_db(transaction=True)

READMES = ("README.md", "deploy/heroku/README.md", "deploy/docker/README.md", "deploy/ansible/README.md")
# A command in a code block line, or in `inline code`, that asks for doctor or the manifest.
ASKS = re.compile(r"(?:\./charla (?:doctor|manifest)|manage\.py (?:doctor|slack_manifest))\b")
PROMPT_OR_COMMENT = re.compile(r"\s+#\s.*$")
REQUIREMENTS = ("requirements.txt", "requirements-dev.txt")


@dataclass(frozen=True)
class Typed:
    readme: str
    line: int
    command: str

    def __str__(self):
        return f"{self.readme}:{self.line}: {self.command}"


def commands_in_readmes() -> list[Typed]:
    found = []
    for readme in READMES:
        in_block = False
        for number, line in enumerate((REPO / readme).read_text(encoding="utf-8").splitlines(), 1):
            if line.lstrip().startswith("```"):
                in_block = not in_block
                continue
            indented = line.startswith("    ") and line.strip()  # markdown's indented code block
            pieces = [line.strip()] if in_block or indented else re.findall(r"`([^`]+)`", line)
            for piece in pieces:
                if ASKS.search(piece):
                    found.append(Typed(readme, number, PROMPT_OR_COMMENT.sub("", piece).strip()))
    return found


TYPED = commands_in_readmes()


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("fresh") / "charlandero"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(where)], check=True, timeout=120)
    for name in REQUIREMENTS:
        if (where / name).read_bytes() != (REPO / name).read_bytes():
            pytest.fail(f"{name} differs from HEAD: commit it first (the clone shares this checkout's venv)")
    # ./charla installs into a venv without its stamp (charla's stamp(): the first 16 hex digits of
    # requirements.txt's sha256) — through the clone, whose path would then be written into the shared venv's
    # scripts and break them once the clone is gone. Refuse before anything runs.
    stamp = f".installed-requirements-{hashlib.sha256((REPO / 'requirements.txt').read_bytes()).hexdigest()[:16]}"
    if not (REPO / ".venv" / stamp).exists():
        pytest.fail(".venv was not set up by ./charla (no install stamp): run the tests with ./charla test")
    (where / ".venv").symlink_to(REPO / ".venv")
    return where


@pytest.fixture
def services(django_db_setup, django_db_blocker):
    """The database and broker of this test run: what a deployed target's doctor finds answering."""
    from django.conf import settings
    from django.db import connection

    with django_db_blocker.unblock():
        return database_url(connection.settings_dict), settings.CONFIG.broker_url


def deployed(services, tmp_path, **more) -> dict[str, str]:
    """What the app finds on a deployed target: its venv's Python first on PATH, the secrets, the services."""
    db, broker = services
    base = user_shell(**{"DATA_DIR": str(tmp_path / "data"), "SECRET_KEY": secrets.token_urlsafe(40),
                         "SLACK_BOT_TOKEN": "xoxb-readme-" + secrets.token_hex(6),
                         "SLACK_SIGNING_SECRET": secrets.token_hex(16), "DATABASE_URL": db,
                         "CELERY_BROKER_URL": broker, **more})
    base["PATH"] = f"{REPO / '.venv' / 'bin'}:{base['PATH']}"
    return base


def how_to_run(typed: Typed, clone: Path, services, tmp_path) -> tuple[str, dict[str, str]]:
    """(the command, as the shell on the target runs it; the environment it has there)."""
    command = typed.command
    if command.startswith("./charla "):
        return command, user_shell()  # on the reader's machine, in the clone, as typed
    if command.startswith("heroku run "):
        command = re.sub(r"\s-a\s+\S+", "", command).removeprefix("heroku run ")
        broker = services[1]  # Heroku names the broker CLOUDAMQP_URL; app.json's settings
        return command, {**deployed(services, tmp_path, PORT="5000", DYNO="run.1", ALLOWED_HOSTS=".herokuapp.com"),
                         "CELERY_BROKER_URL": "", "CLOUDAMQP_URL": broker}
    if command.startswith("charlandero-run "):  # /etc/charlandero/env, the release's venv first on PATH
        return command.removeprefix("charlandero-run "), deployed(services, tmp_path, PORT="8000")
    if command.startswith("docker compose exec web "):  # compose.yml's environment
        return command.removeprefix("docker compose exec web "), deployed(services, tmp_path, DEBUG="0")
    prefix = "docker exec charla /app/deploy/docker/entrypoint.sh "
    if command.startswith(prefix):
        # The one container: Slack's two variables and the image's own, SQLite and the embedded broker in the
        # volume, and the key `all` generated there (no SECRET_KEY in the container's environment).
        data = tmp_path / "volume"
        data.mkdir()
        (data / "secret_key").write_text(secrets.token_urlsafe(50) + "\n")
        env = deployed(services, tmp_path, PORT="8000", DATA_DIR=str(data))
        for name in ("SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL"):
            del env[name]
        return "sh deploy/docker/entrypoint.sh " + command.removeprefix(prefix), env
    pytest.fail(f"{typed}\n  nobody can run this as written: on one's own machine use ./charla doctor|manifest, "
                "on a target its prefix (heroku run, charlandero-run, docker compose exec web, ...)")


def test_the_readmes_show_doctor_and_manifest_commands():
    readmes = {t.readme for t in TYPED}
    assert set(READMES) <= readmes, f"found only in {sorted(readmes)}: {[str(t) for t in TYPED]}"
    assert any(t.command.startswith("./charla doctor") for t in TYPED)
    assert any(t.command.startswith("./charla manifest --url") for t in TYPED)
    assert any(t.command.startswith("./charla manifest --socket-mode") for t in TYPED)


@pytest.mark.parametrize("typed", TYPED, ids=[f"{t.readme}:{t.line}" for t in TYPED])
def test_a_readme_command_works_as_written(typed, clone, services, tmp_path):
    command, env = how_to_run(typed, clone, services, tmp_path)
    result = subprocess.run(["bash", "-c", command], cwd=clone, env=env, capture_output=True, text=True, timeout=180)
    said = f"{typed}\n--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
    assert result.returncode == 0, said
    assert "installing dependencies" not in result.stderr, said  # the clone uses the venv as it is
    assert "Traceback" not in result.stdout + result.stderr, said
    if "doctor" in command:
        assert "all good" in result.stdout and "SECRET_KEY" in result.stdout, said
    else:
        redirected = re.search(r">\s*(\S+)\s*$", command)
        manifest = json.loads((clone / redirected.group(1)).read_text() if redirected else result.stdout)
        if "--socket-mode" in command:  # no URL at all: Slack talks to the socket process
            assert manifest["settings"]["socket_mode_enabled"] is True, said
            assert "request_url" not in manifest["settings"]["event_subscriptions"], said
            assert "YOUR-APP" not in json.dumps(manifest) and "https://" not in json.dumps(manifest), said
            return
        url = re.search(r"--url\s+(\S+)", command).group(1).rstrip("/")
        assert manifest["settings"]["event_subscriptions"]["request_url"] == url + "/slack/events", said
