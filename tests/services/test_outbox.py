"""Posting a reply: once, with the claim that keeps two attempts apart, and Slack's errors told apart."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from app.bot import answers, outbox, pacing
from app.bot.models import Reply
from tests.services.conftest import deliver
from tests.support import slack_requests

pytestmark = pytest.mark.django_db


def pending_reply(text: str = "help", channel: str = "C0GENERAL") -> Reply:
    use_id = deliver(slack_requests.mention(text, channel=channel)).command_use_id
    return answers.answer(use_id)


def test_a_reply_is_posted_once(slack):
    reply = pending_reply()
    assert outbox.deliver(reply.pk) == "sent"
    assert outbox.deliver(reply.pk) == "skipped"  # a redelivered task
    posts = slack.posts("C0GENERAL")
    assert len(posts) == 1 and posts[0]["body"]["text"] == reply.text
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT and reply.slack_ts == posts[0]["ts"] and reply.claimed_until is None


def test_a_429_waits_exactly_retry_after_releases_the_claim_and_holds_the_channel(slack):
    reply = pending_reply()
    slack.script("chat.postMessage", {"status": 429, "headers": {"Retry-After": "7"}, "error": "ratelimited"})
    with pytest.raises(outbox.RetryLater) as later:
        outbox.deliver(reply.pk)
    assert later.value.seconds == 7.0
    reply.refresh_from_db()
    assert reply.status == Reply.Status.PENDING and reply.claimed_until is None and reply.attempts == 1
    assert 6 < pacing.reserve_slot(reply.team, reply.channel) <= 7
    assert outbox.deliver(reply.pk) == "sent"


def test_a_live_claim_is_not_taken_and_the_task_looks_again_when_it_runs_out(slack):
    reply = pending_reply()
    Reply.objects.filter(pk=reply.pk).update(claimed_until=timezone.now() + timedelta(seconds=10))
    with pytest.raises(outbox.RetryLater) as later:
        outbox.deliver(reply.pk)
    assert 10 <= later.value.seconds <= 11
    assert slack.posts() == []


def test_an_expired_claim_whose_post_got_through_is_not_posted_again(slack):
    reply = pending_reply()
    assert outbox.deliver(reply.pk) == "sent"
    # As if that attempt died after Slack had the message, before recording it:
    Reply.objects.filter(pk=reply.pk).update(status=Reply.Status.PENDING, slack_ts="",
                                             claimed_until=timezone.now() - timedelta(seconds=1))
    assert outbox.deliver(reply.pk) == "sent"
    assert len(slack.posts()) == 1  # found by its metadata, not posted twice
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT and reply.slack_ts == slack.posts()[0]["ts"]


def test_a_permanent_slack_error_fails_the_reply_and_a_server_error_is_retried(slack):
    lost = pending_reply(channel="C0GONE")
    slack.script("chat.postMessage", {"error": "channel_not_found"})
    assert outbox.deliver(lost.pk) == "failed"
    lost.refresh_from_db()
    assert lost.status == Reply.Status.FAILED and lost.error == "channel_not_found"

    flaky = pending_reply(channel="C0FLAKY")
    slack.script("chat.postMessage", {"status": 503})
    with pytest.raises(outbox.RetryLater) as later:
        outbox.deliver(flaky.pk)
    assert later.value.seconds is None  # backoff, chosen by the task
    assert outbox.deliver(flaky.pk) == "sent"
