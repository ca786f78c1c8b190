"""No worker running while Slack sends: web still acknowledges, the deliveries wait on the broker (not parked
in the database), and each is answered once when a worker starts."""
from __future__ import annotations

import time

import pytest

from app.bot.models import InboundEvent

pytestmark = pytest.mark.django_db(transaction=True)


def test_deliveries_sent_while_no_worker_runs_are_answered_once_when_one_starts(slack):
    stack = slack.stack
    channels = [f"CNOWORKER{i}{int(time.time() * 1000) % 100000}" for i in range(3)]
    stack.stop("worker")
    try:
        sent = [slack.mention("help", ch) for ch in channels]
        assert [response.status for _, response in sent] == [200] * 3
        event_ids = [payload["event_id"] for payload, _ in sent]
        time.sleep(1.5)
        assert all(slack.replies(ch) == [] for ch in channels)
        assert not InboundEvent.objects.filter(key__in=event_ids).exists(), "kept by the broker, not parked"
    finally:
        mark = len(stack.log("worker"))
        stack.start("worker")
        stack.wait_for_log("worker", " ready.", after=mark)

    slack.assert_each_answered_once(channels)
