"""Work the database shows as stuck is re-driven: a command with no reply, a reply whose task was lost,
a delivery recorded but never processed — each answered once, however often the reconciler runs."""
from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from app.bot import tasks
from app.bot.models import CommandUse, InboundEvent, Message, Reply
from tests.support import slack_requests
from tests.support.fake_slack import TEAM_ID

pytestmark = pytest.mark.django_db(transaction=True)


def _long_ago(minutes: float = 5):
    return timezone.now() - timedelta(minutes=minutes)


def _at_once(job, runs: int) -> list:
    """Run the job in several threads at the same moment (each with its own database connection)."""
    results, start = [], threading.Barrier(runs)

    def run():
        start.wait()
        try:
            results.append(job())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_stuck_commands_replies_and_deliveries_are_each_answered_once(slack):
    no_reply, lost_post, unprocessed = ("CREC" + tag + str(id(slack) % 10000) for tag in ("A", "B", "C"))
    # A command recorded just before its worker died: no reply was ever composed.
    CommandUse.objects.create(source_key=f"msg:{TEAM_ID}:{no_reply}:1.1", team=TEAM_ID, channel=no_reply,
                              user="U1", command="help", name_used="help", via="mention", created_at=_long_ago())
    # A reply composed, its post_reply task lost with the broker: pending, unclaimed, long overdue.
    use = CommandUse.objects.create(source_key=f"msg:{TEAM_ID}:{lost_post}:1.1", team=TEAM_ID, channel=lost_post,
                                    user="U1", command="help", name_used="help", via="mention",
                                    created_at=_long_ago())
    Reply.objects.create(command_use=use, team=TEAM_ID, channel=lost_post, text="the lost reply",
                         created_at=_long_ago(), next_attempt_at=_long_ago(4))
    # A delivery recorded but never processed.
    payload = slack_requests.mention("help", channel=unprocessed)
    InboundEvent.objects.create(key=payload["event_id"], payload=payload, received_at=_long_ago())

    # Two runs at once (as after an outage), then one more: each piece of work is still done once.
    _at_once(tasks.reconcile, 2)
    tasks.reconcile()

    slack.wait_for_replies(no_reply)
    slack.wait_for_replies(lost_post)
    slack.wait_for_replies(unprocessed)
    slack.settle(3)
    assert [p["body"]["text"] for p in slack.replies(lost_post)] == ["the lost reply"]
    assert len(slack.replies(no_reply)) == 1 and len(slack.replies(unprocessed)) == 1
    assert Message.objects.filter(channel=unprocessed).count() == 1
    assert not Reply.objects.filter(status=Reply.Status.PENDING).exists()


def test_work_that_is_merely_on_its_way_is_left_alone(slack, channel):
    use = CommandUse.objects.create(source_key=f"msg:{TEAM_ID}:{channel}:1.1", team=TEAM_ID, channel=channel,
                                    user="U1", command="help", name_used="help", via="mention")
    Reply.objects.create(command_use=use, team=TEAM_ID, channel=channel, text="scheduled",
                         created_at=_long_ago(), next_attempt_at=timezone.now() + timedelta(seconds=30))
    assert tasks.reconcile() == 0
    slack.settle(2)
    assert slack.replies(channel) == []


def test_parked_deliveries_are_handed_on_once_when_two_runs_race(slack):
    channels = [f"CPARK{i}{id(slack) % 10000}" for i in range(5)]
    for ch in channels:
        payload = slack_requests.mention("help", channel=ch)
        InboundEvent.objects.create(key=payload["event_id"], payload=payload, parked=True)

    log_before = len(slack.stack.log("worker"))
    counts = _at_once(tasks.retry_parked_events, 3)

    slack.assert_each_answered_once(channels)
    # Beat runs the same job every second on the worker; whoever ran, each delivery was handed on once.
    by_beat = [int(n) for n in re.findall(r"re-queued (\d+) delivery", slack.stack.log("worker")[log_before:])]
    assert sum(counts) + sum(by_beat) == 5, (counts, by_beat)
    assert counts.count(0) >= 2
