"""Posting to Slack: 429 waits out Retry-After, 5xx is retried, permanent errors are not, channels are paced."""
from __future__ import annotations

import time

import pytest

from app.bot.models import Reply
from tests.support.waiting import eventually

pytestmark = pytest.mark.django_db(transaction=True)


def _attempts(fake, channel):
    return [c for c in fake.calls if c["method"] == "chat.postMessage" and c["body"].get("channel") == channel]


def test_a_429_is_waited_out_and_the_reply_still_arrives(slack, channel):
    slack.fake.script("chat.postMessage", {"status": 429, "headers": {"Retry-After": "2"}, "error": "ratelimited"})
    slack.mention("help", channel)

    [reply] = slack.wait_for_replies(channel, timeout=30)
    first, second = _attempts(slack.fake, channel)
    assert first["answered"] == 429 and second["answered"] == 200
    assert second["at"] - first["at"] >= 2.0, "the retry must wait for Retry-After"
    assert "*Commands*" in reply["body"]["text"]


def test_server_errors_are_retried_with_backoff(slack, channel):
    slack.fake.script("chat.postMessage", {"status": 500}, {"status": 503})
    slack.mention("status", channel)

    slack.wait_for_replies(channel, timeout=30)
    answers = [c["answered"] for c in _attempts(slack.fake, channel)]
    assert answers == [500, 503, 200]
    slack.settle()
    assert len(slack.replies(channel)) == 1


def test_a_permanent_error_is_recorded_and_not_retried(slack, channel):
    slack.fake.script("chat.postMessage", {"status": 200, "error": "channel_not_found"})
    slack.mention("help", channel)

    eventually(lambda: Reply.objects.get(channel=channel).status == "failed")
    reply = Reply.objects.get(channel=channel)
    assert reply.error == "channel_not_found"
    slack.settle(3)
    assert len(_attempts(slack.fake, channel)) == 1


def test_posts_to_one_channel_are_about_a_second_apart(slack, channel):
    """Three commands at once in one channel: the replies go out at about one a second, not in a burst."""
    sent_at = time.time()
    for text in ("help", "next", "search celery"):
        slack.mention(text, channel)
    posts = slack.wait_for_replies(channel, 3, timeout=30)
    times = sorted(p["at"] for p in posts)
    # Slots are reserved a second apart, the first no earlier than the commands were sent: the third post
    # cannot go out before two seconds have passed. A post may start late on a busy machine (which only
    # adds to this), never early in a burst.
    assert times[-1] - sent_at >= 2.0, [round(t - sent_at, 2) for t in times]
