"""The broker goes away while Slack keeps sending: every event is still answered, once, when it is back."""
from __future__ import annotations

import time

import pytest

from app.bot.models import InboundEvent

pytestmark = pytest.mark.django_db(transaction=True)


def test_events_sent_while_the_broker_is_unreachable_are_processed_once_after(slack):
    channels = [f"COUTAGE{i}{int(time.time() * 1000) % 100000}" for i in range(5)]
    with slack.stack.broker_outage():
        started = time.monotonic()
        statuses = [slack.mention("help", ch)[1].status for ch in channels]
        ack_seconds = (time.monotonic() - started) / len(channels)
        assert statuses == [200] * 5, "web keeps what the broker cannot take and still acknowledges"
        assert InboundEvent.objects.filter(parked=True).count() == 5
        time.sleep(2)
        assert all(slack.replies(ch) == [] for ch in channels)
    assert ack_seconds < 3, "Slack's 3-second deadline"

    slack.assert_each_answered_once(channels)
    assert not InboundEvent.objects.filter(processed_at__isnull=True).exists()
