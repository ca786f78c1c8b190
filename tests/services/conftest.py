"""The service tier: the inbox, answers, outbox, pacing and message store called directly against the test
database (and the fake Slack over a real socket), without web or worker processes. Seconds, not minutes;
what only real processes show stays in tests/integration."""
from __future__ import annotations

import dataclasses

import pytest

from app.bot import slack_client, slack_payloads
from app.bot.inbox import handle_delivery


@pytest.fixture
def slack(fake_slack, settings):
    """The bot's Slack client pointed at the fake Slack, which starts each test with no calls."""
    settings.CONFIG = dataclasses.replace(settings.CONFIG, slack_api_url=fake_slack.api_url)
    slack_client.web_client.cache_clear()
    fake_slack.reset()
    yield fake_slack
    slack_client.web_client.cache_clear()


def deliver(payload: dict):
    """What the process_event task does with a delivery, without the task."""
    return handle_delivery(slack_payloads.read_delivery(payload))
