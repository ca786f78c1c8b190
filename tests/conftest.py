"""Shared fixtures: the fake Slack API, the running bot (web + worker + beat), Slack-signed requests."""
from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest

from tests.support import slack_requests
from tests.support.fake_slack import FakeSlack
from tests.support.feed_server import FeedServer
from tests.support.stack import database_url, start_stack

REQUIRE_SERVICES = os.environ.get("CHARLA_REQUIRE_SERVICES") == "1"
# Tests of what only a RabbitMQ server has (other languages' clients, publisher confirms, users and topic
# permissions). Not skipped: on another broker they are not collected, the header and the summary say so,
# and CI's PostgreSQL + RabbitMQ pass (CHARLA_REQUIRE_SERVICES=1: the broker must be RabbitMQ) runs them.
RABBITMQ_ONLY = Path(__file__).resolve().parent / "rabbitmq"
_skipped: list[str] = []


def _broker_is_rabbitmq() -> bool:
    from django.conf import settings

    return settings.CONFIG.broker_is_amqp


def pytest_report_header(config):
    from django.conf import settings

    c = settings.CONFIG
    lines = [f"charlandero stack: database {c.database['ENGINE'].rsplit('.', 1)[-1]} "
             f"({c.database_url_source}), broker {c.broker_url.split(':', 1)[0]} ({c.broker_url_source})"]
    if not _broker_is_rabbitmq():
        lines.append("tests/rabbitmq: not collected on this broker (they need RabbitMQ: the PostgreSQL + RabbitMQ pass)")
    return lines


def pytest_ignore_collect(collection_path, config):
    path = Path(collection_path).resolve()
    if (path == RABBITMQ_ONLY or RABBITMQ_ONLY in path.parents) and not _broker_is_rabbitmq():
        return True
    return None


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _announcement_seconds:
        terminalreporter.write_line(f"announcement tests (docs/announcements.md): {sum(_announcement_seconds):.0f}s "
                                    "of this run")
    if not _broker_is_rabbitmq():
        terminalreporter.write_line("tests/rabbitmq were not collected: the broker is not RabbitMQ "
                                    "(they run in the PostgreSQL + RabbitMQ pass)")


def pytest_sessionstart(session):
    if not REQUIRE_SERVICES:
        return
    from django.conf import settings

    c = settings.CONFIG
    if not c.database["ENGINE"].endswith("postgresql") or not c.broker_is_amqp:
        pytest.exit("CHARLA_REQUIRE_SERVICES=1 but DATABASE_URL/CELERY_BROKER_URL do not name PostgreSQL and "
                    "RabbitMQ", returncode=3)


_announcement_seconds: list[float] = []


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)
    # What the announcement contract's tests cost this run (setup, call, teardown), for CI's time budget.
    if "announce" in report.nodeid or report.nodeid.startswith("tests/rabbitmq/"):
        _announcement_seconds.append(report.duration)


def pytest_sessionfinish(session, exitstatus):
    # A skipped test proves nothing: every test here must run, on every stack.
    if _skipped:
        print(f"\n{len(_skipped)} test(s) were skipped, which this suite does not allow:")
        for nodeid in _skipped:
            print("  " + nodeid)
        session.exitstatus = 1


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """SQLite tests use a file, not memory, so the web and worker processes see the same database."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        db.setdefault("TEST", {})["NAME"] = str(Path(os.environ["DATA_DIR"]) / "test.sqlite3")


@pytest.fixture(scope="session")
def signing_secret() -> str:
    return os.environ["SLACK_SIGNING_SECRET"]


@pytest.fixture(scope="session")
def fake_slack():
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def agenda_feed():
    """The AGENDA_FEED_URL of the running bot: a local HTTP server serving whatever a test puts at /agenda."""
    server = FeedServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def static_files():
    """DEBUG is off, as in production: pages need the collected, hashed static files."""
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


@pytest.fixture(scope="session")
def stack(django_db_setup, django_db_blocker, static_files, fake_slack, agenda_feed, tmp_path_factory):
    """web + worker + beat, started once per test session against the test database and broker."""
    from django.conf import settings
    from django.db import connection

    with django_db_blocker.unblock():
        db_url = database_url(connection.settings_dict)
        _purge_queues()

    data_dir = Path(os.environ["DATA_DIR"])
    app = start_stack(database_url=db_url, broker_url=settings.CONFIG.broker_url, data_dir=data_dir,
                      logs=tmp_path_factory.mktemp("logs"), fake=fake_slack,
                      extra_env={"AGENDA_FEED_URL": agenda_feed.base_url + "/agenda"})
    yield app
    app.stop_all()
    if app.proxy:
        app.proxy.close()


def _purge_queues() -> None:
    """Messages left in RabbitMQ by an earlier, interrupted run would point at a database that is gone."""
    from app.queueing.celery_app import celery_app
    from app.queueing.layout import QUEUE_NAMES

    with celery_app.connection_for_write() as conn:
        for name in QUEUE_NAMES:
            channel = conn.channel()
            try:
                channel.queue_purge(name)
            except Exception:
                pass  # not declared yet
            finally:
                try:
                    channel.close()
                except Exception:
                    pass


@pytest.fixture
def live(stack, fake_slack, transactional_db):
    """The running bot, with a clean database (sample content loaded) and a fake Slack with no scripts."""
    from app.agenda.services import load_sample_if_empty

    fake_slack.reset()
    load_sample_if_empty()
    return stack


@pytest.fixture
def channel() -> str:
    """A channel of the test's own, so that late posts from other tests never mix in."""
    return "C" + uuid.uuid4().hex[:10].upper()


class Slack:
    """Sends requests to the bot exactly as Slack would (signed), and reads what it posted back."""

    def __init__(self, stack, fake, secret):
        self.stack, self.fake, self.secret = stack, fake, secret

    def send_event(self, payload: dict, timestamp: int | None = None, headers: dict | None = None):
        body, signed = slack_requests.signed_json(self.secret, payload, timestamp)
        return self.stack.post("/slack/events", body, {**signed, **(headers or {})})

    def mention(self, text: str, channel: str, **kw):
        payload = slack_requests.mention(text, channel=channel, **kw)
        return payload, self.send_event(payload)

    def slash(self, text: str, channel: str, **kw):
        body = slack_requests.slash_command(text, self.fake.url + "/response/" + uuid.uuid4().hex, channel, **kw)
        headers = {"Content-Type": "application/x-www-form-urlencoded", **slack_requests.sign(self.secret, body)}
        return self.stack.post("/slack/commands", body, headers)

    def replies(self, channel: str) -> list[dict]:
        return [c for c in self.fake.posts() if c["body"].get("channel") == channel]

    def wait_for_replies(self, channel: str, count: int = 1, timeout: float = 30) -> list[dict]:
        self.fake.wait_for(lambda calls: len(self.replies(channel)) >= count, timeout=timeout)
        return self.replies(channel)

    def settle(self, seconds: float = 1.5) -> None:
        """Give the worker time to (wrongly) do more, before asserting nothing more happened."""
        time.sleep(seconds)

    def assert_each_answered_once(self, channels: list[str], timeout: float = 60) -> None:
        """Each channel's mention got one reply, one stored message and one counted command — no more."""
        from app.bot.models import CommandUse, Message

        for ch in channels:
            self.wait_for_replies(ch, timeout=timeout)
        self.settle(3)
        for ch in channels:
            assert len(self.replies(ch)) == 1
            assert Message.objects.filter(channel=ch).count() == 1
            assert CommandUse.objects.filter(channel=ch).count() == 1


@pytest.fixture
def slack(live, fake_slack, signing_secret) -> Slack:
    return Slack(live, fake_slack, signing_secret)
