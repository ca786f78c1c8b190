"""Fixtures for the console: a second bot stack running in console mode (no Slack credentials, CONSOLE_ENABLED=1).

The test process itself has Slack secrets (tests/testenv.py), so in-process Django has the console
off; the console is exercised through this stack's web process, over HTTP, like a person would.

It shares the test database with the tests (they read what the worker wrote) but has its own data
folder and its own embedded broker: the shared `stack` has a token and consumes the same queue
names, and it must never pick up a console event (it would post the reply to the fake Slack), nor
this worker one of its events. Its beat hands on deliveries web kept in the database while the broker
was out; both beats would re-drive each other's kept deliveries, so the console's outage test runs
before anything starts the shared `stack` (this folder's modules come first, and it starts none before
test_console_http.py's last test).
"""
from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

import pytest

from tests.support.stack import Response, database_url, http_request, start_stack
from tests.support.waiting import eventually

SLACK_SECRETS = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(scope="module")
def console_stack(django_db_setup, django_db_blocker, static_files, fake_slack, tmp_path_factory):
    """web + worker + beat with no Slack credentials: the console is on and replies are stored, not posted."""
    from django.db import connection

    with django_db_blocker.unblock():
        db_url = database_url(connection.settings_dict)
    home = tmp_path_factory.mktemp("console-stack")
    app = start_stack(database_url=db_url, broker_url=f"charla-sqlite+sqlite:///{home / 'broker.sqlite3'}",
                      data_dir=home, logs=home / "logs", fake=fake_slack, roles=("worker", "beat", "web"),
                      unset=SLACK_SECRETS,
                      # DEBUG is off, as in production, where the console is on only when asked for;
                      # a short soft shutdown: nothing is left running when the module's tests end
                      extra_env={"CONSOLE_ENABLED": "1", "CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT": "1"})
    yield app
    app.stop_all()


def _settled() -> bool:
    """Every delivery the worker took is processed and every command has its reply stored."""
    from app.bot.models import CommandUse, InboundEvent, Reply

    return (not InboundEvent.objects.filter(processed_at__isnull=True).exists()
            and not CommandUse.objects.exclude(reply__status=Reply.Status.SENT).exists())


@pytest.fixture
def console(console_stack, fake_slack, transactional_db):
    """The console stack with a clean database (sample agenda loaded); the fake Slack starts empty.

    Afterwards it waits for the worker to finish what the test sent: work landing after the
    database is flushed would leak into the next test.
    """
    from app.agenda.services import load_sample_if_empty

    fake_slack.reset()
    load_sample_if_empty()
    yield console_stack
    eventually(_settled, timeout=30)


@dataclass
class ConsoleClient:
    """A browser-less visitor of the console: keeps cookies and sends the CSRF token like the page does."""

    base_url: str

    def __post_init__(self):
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        self.csrf_token: str | None = None
        self.accepted: list[str] = []  # ts of every message the console took

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> Response:
        return http_request(self.base_url + path, method, body, headers, opener=self.opener)

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
        return self._sent(self.request("POST", "/console/send", body, headers))

    def send_form(self, fields: dict) -> Response:
        body = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": self.csrf_token or ""}).encode()
        return self._sent(self.request("POST", "/console/send", body, {
            "Content-Type": "application/x-www-form-urlencoded", "Origin": self.base_url}))

    def _sent(self, response: Response) -> Response:
        if response.status == 200:
            self.accepted.append(response.json()["ts"])
        return response

    def all_stored(self) -> bool:
        from app.bot.models import Message

        return Message.objects.filter(ts__in=self.accepted).count() == len(self.accepted)

    def feed(self, channel: str = "CGENERAL", after: int = 0, user: str | None = None) -> Response:
        query = {"channel": channel, "after": after, **({"user": user} if user is not None else {})}
        return self.request("GET", "/console/feed?" + urllib.parse.urlencode(query))


@pytest.fixture
def visitor(console) -> ConsoleClient:
    client = ConsoleClient(console.web_url)
    assert client.open_page().status == 200
    assert client.csrf_token
    yield client
    eventually(client.all_stored, timeout=30)  # then `console` waits for the replies
