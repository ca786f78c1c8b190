"""Fixtures for the console: a second bot stack running in console mode (no Slack credentials).

The test process itself has Slack secrets (tests/testenv.py), so in-process Django has the console
off; the console is exercised through this stack's web process, over HTTP, like a person would.

It shares the test database with the tests (they read what the worker wrote) but has its own data
folder and its own embedded broker: the shared `stack` has a token and consumes the same queue
names, and it must never pick up a console event (it would post the reply to the fake Slack), nor
this worker one of its events.
"""
from __future__ import annotations

import http.cookiejar
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.stack import REPO, Response, database_url, start_stack

SLACK_SECRETS = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _collect_static(data_dir) -> None:
    """whitenoise serves the collected files (hashed names from the manifest), as in every deployment."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST", "DJANGO_SETTINGS")) and k not in SLACK_SECRETS}
    env["DATA_DIR"] = str(data_dir)
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"], cwd=REPO,
                   env=env, check=True, timeout=180)


def _path_with_this_python() -> str:
    # bin/process runs `gunicorn`/`celery` from PATH: find them next to this interpreter even when the
    # virtualenv is not activated (`.venv/bin/python -m pytest`).
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


@pytest.fixture(scope="module")
def console_stack(django_db_setup, django_db_blocker, fake_slack, tmp_path_factory):
    """web + worker with no Slack credentials: the console is on and replies are stored, not posted."""
    from django.db import connection

    with django_db_blocker.unblock():
        db_url = database_url(connection.settings_dict)
    home = tmp_path_factory.mktemp("console-stack")
    _collect_static(home)
    app = start_stack(database_url=db_url, broker_url=f"charla-sqlite+sqlite:///{home / 'broker.sqlite3'}",
                      data_dir=home, logs=home / "logs", fake=fake_slack, roles=("worker", "web"),
                      unset=SLACK_SECRETS, extra_env={"PATH": _path_with_this_python()})
    yield app
    app.stop_all()


@pytest.fixture
def console(console_stack, fake_slack, transactional_db):
    """The console stack with a clean database (sample agenda loaded); the fake Slack starts empty."""
    from app.agenda.services import load_sample_if_empty

    fake_slack.reset()
    load_sample_if_empty()
    return console_stack


@dataclass
class ConsoleClient:
    """A browser-less visitor of the console: keeps cookies and sends the CSRF token like the page does."""

    base_url: str

    def __post_init__(self):
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        self.csrf_token: str | None = None

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> Response:
        req = urllib.request.Request(self.base_url + path, data=body, method=method, headers=headers or {})
        try:
            with self.opener.open(req, timeout=15) as resp:
                return Response(resp.status, resp.read(), dict(resp.headers))
        except urllib.error.HTTPError as err:
            return Response(err.code, err.read(), dict(err.headers))

    def open_page(self) -> Response:
        page = self.request("GET", "/")
        found = CSRF_FIELD.search(page.body.decode())
        self.csrf_token = found.group(1) if found else None
        return page

    def send(self, text: str, channel: str = "CGENERAL", user: str = "ana", csrf: bool = True) -> Response:
        headers = {"Content-Type": "application/json", "Origin": self.base_url}
        if csrf:
            headers["X-CSRFToken"] = self.csrf_token or ""
        body = json.dumps({"user": user, "channel": channel, "text": text}).encode()
        return self.request("POST", "/console/send", body, headers)

    def send_form(self, fields: dict) -> Response:
        body = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": self.csrf_token or ""}).encode()
        return self.request("POST", "/console/send", body, {
            "Content-Type": "application/x-www-form-urlencoded", "Origin": self.base_url})

    def feed(self, channel: str = "CGENERAL", after: int = 0, user: str | None = None) -> Response:
        query = {"channel": channel, "after": after, **({"user": user} if user is not None else {})}
        return self.request("GET", "/console/feed?" + urllib.parse.urlencode(query))


@pytest.fixture
def visitor(console) -> ConsoleClient:
    client = ConsoleClient(console.web_url)
    assert client.open_page().status == 200
    assert client.csrf_token
    return client
