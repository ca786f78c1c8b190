"""A person talks to the bot through Slack; the reply arrives at Slack's API."""
from __future__ import annotations

import pytest

from app.bot.models import CommandUse, Message, Reply
from tests.support import slack_requests
from tests.support.waiting import eventually

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_mention_gets_its_reply_in_the_same_channel(slack, channel):
    _, response = slack.mention("help", channel)
    assert response.status == 200

    [reply] = slack.wait_for_replies(channel)
    assert reply["method"] == "chat.postMessage"
    assert reply["authorization"] == "Bearer " + slack.stack.env["SLACK_BOT_TOKEN"]
    assert "*Commands*" in reply["body"]["text"]
    assert "search &lt;text&gt;" in reply["body"]["text"], "literal < > are escaped as Slack requires"


def test_a_retried_event_is_stored_answered_and_counted_once(slack, channel):
    payload, first = slack.mention("stats", channel)
    retry = slack.send_event(payload, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    again = slack.send_event(payload, headers={"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_error"})
    assert (first.status, retry.status, again.status) == (200, 200, 200)

    slack.wait_for_replies(channel)
    slack.settle()
    assert len(slack.replies(channel)) == 1
    assert Message.objects.filter(channel=channel, is_bot=False).count() == 1
    assert CommandUse.objects.filter(channel=channel).count() == 1


def test_a_mention_delivered_as_message_and_app_mention_is_answered_once(slack, channel):
    ts = slack_requests.new_ts()
    bot = "UCHARLABOT"
    as_message = slack_requests.message(f"<@{bot}> next", channel=channel, ts=ts)
    as_mention = slack_requests.mention("next", channel=channel, ts=ts)
    assert slack.send_event(as_message).status == 200
    assert slack.send_event(as_mention).status == 200

    slack.wait_for_replies(channel)
    slack.settle()
    assert len(slack.replies(channel)) == 1
    assert Message.objects.filter(channel=channel, ts=ts).count() == 1
    assert CommandUse.objects.filter(channel=channel).count() == 1


def test_a_direct_message_needs_no_mention(slack):
    dm = "D" + slack_requests.new_ts().replace(".", "")[:10]
    assert slack.send_event(slack_requests.message("ayuda", channel=dm, channel_type="im")).status == 200
    [reply] = slack.wait_for_replies(dm)
    assert "*Comandos*" in reply["body"]["text"]


def test_plain_channel_chatter_is_stored_but_not_answered(slack, channel):
    for text in ("hola a todos", "good morning"):
        assert slack.send_event(slack_requests.message(text, channel=channel)).status == 200
    # the bot's own post and a join must not trigger anything either
    slack.send_event(slack_requests.message("help", channel=channel, bot_id="BFAKE", user="UCHARLABOT"))
    slack.send_event(slack_requests.message("joined", channel=channel, subtype="channel_join"))
    _, _ = slack.mention("count <@U0ALICE>", channel)

    [reply] = slack.wait_for_replies(channel)
    # the two messages and the mention itself are Alice's; the bot post and the join are not counted
    assert "<@U0ALICE> has written 3 messages here" in reply["body"]["text"]
    slack.settle()
    assert len(slack.replies(channel)) == 1
    assert Message.objects.filter(channel=channel).count() == 5


def test_edits_and_deletions_are_applied_to_the_store(slack, channel):
    ts = slack_requests.new_ts()
    other = slack_requests.new_ts()
    slack.send_event(slack_requests.message("first draft", channel=channel, ts=ts))
    slack.send_event(slack_requests.message("to be removed", channel=channel, ts=other))
    slack.send_event(slack_requests.message("", channel=channel, subtype="message_changed",
                                            message={"type": "message", "user": "U0ALICE", "text": "final text",
                                                     "ts": ts}))
    slack.send_event(slack_requests.message("", channel=channel, subtype="message_deleted", deleted_ts=other))
    slack.mention("count", channel)
    [reply] = slack.wait_for_replies(channel)

    stored = Message.objects.get(channel=channel, ts=ts)
    assert stored.text == "final text" and stored.edited_at is not None
    assert Message.objects.get(channel=channel, ts=other).deleted_at is not None
    # the deleted message no longer counts: "first draft" (edited) + the mention
    assert "has written 2 messages here" in reply["body"]["text"]


def test_slash_command_is_acknowledged_at_once_and_answered_through_response_url(slack, channel):
    response = slack.slash("busca celery", channel)
    assert response.status == 200
    ack = response.json()
    assert ack["response_type"] == "ephemeral" and "/charla busca celery" in ack["text"]

    slack.fake.wait_for(lambda calls: any(c["method"] == "response_url" for c in calls))
    [answer] = [c for c in slack.fake.calls if c["method"] == "response_url"]
    assert answer["body"]["response_type"] == "ephemeral"
    assert "Celery" in answer["body"]["text"]
    eventually(lambda: Reply.objects.get(channel=channel).status == "sent")
