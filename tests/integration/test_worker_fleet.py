"""Workers as operators run them: two on one host, and back at work about a second after the broker returns."""
from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_workers_on_one_host_both_run_and_every_command_is_answered_once(slack):
    stack = slack.stack
    stack.start("worker", name="worker-2")
    try:
        stack.wait_for_log("worker-2", " ready.")
        channels = [f"CFLEET{i}{int(time.time() * 1000) % 100000}" for i in range(8)]
        assert [slack.mention("help", ch)[1].status for ch in channels] == [200] * 8
        slack.assert_each_answered_once(channels)
        assert stack.procs["worker-2"].poll() is None and stack.procs["worker"].poll() is None
        assert "ResourceLocked" not in stack.log("worker-2")
    finally:
        stack.stop("worker-2")


def test_after_a_broker_outage_the_worker_is_back_within_seconds(slack, channel):
    # Stock Celery retries a lost broker after 2, 4, 6, 8 s: after a 7 s outage its next try is ~5 s away.
    with slack.stack.broker_outage():
        time.sleep(7)
    restored = time.monotonic()
    _, response = slack.mention("help", channel)
    assert response.status == 200
    slack.wait_for_replies(channel, timeout=30)
    assert time.monotonic() - restored < 3.5, "the worker reconnects about a second after the broker is back"
    slack.assert_each_answered_once([channel])
