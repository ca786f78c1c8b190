"""A worker that dies between Slack taking a reply and our store recording it must not make the reply appear
twice: the next attempt finds the reply's id in the channel (message metadata) and records it instead."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from slack_sdk import WebClient

from app.bot import outbox, slack_client
from app.bot.models import CommandUse, Reply
from tests.support.fake_slack import TEAM_ID

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def slack_api(fake_slack, monkeypatch):
    fake_slack.reset()
    monkeypatch.setattr(slack_client, "web_client",
                        lambda: WebClient(token="xoxb-test", base_url=fake_slack.api_url, retry_handlers=[]))
    return fake_slack


def _reply(channel: str, thread_ts: str = "", claim_ran_out: bool = True) -> Reply:
    use = CommandUse.objects.create(source_key=f"msg:{TEAM_ID}:{channel}:{thread_ts or '1.1'}", team=TEAM_ID,
                                    channel=channel, user="U1", command="help", name_used="help", via="mention")
    # An attempt claimed it, then died: its claim ran out without being released.
    claimed_until = timezone.now() - timedelta(seconds=1) if claim_ran_out else None
    return Reply.objects.create(command_use=use, team=TEAM_ID, channel=channel, thread_ts=thread_ts,
                                text="the answer", attempts=1 if claim_ran_out else 0, claimed_until=claimed_until)


@pytest.mark.parametrize("thread_ts", ["", "1700000000.000100"])
def test_a_reply_the_dead_attempt_got_through_is_recorded_not_posted_again(slack_api, channel, thread_ts):
    reply = _reply(channel, thread_ts)
    earlier = slack_client.post_message(channel, reply.text, thread_ts, reply_id=reply.pk)  # the dead attempt's

    assert outbox.deliver(reply.pk) == "sent"

    assert len(slack_api.posts(channel)) == 1
    reply.refresh_from_db()
    assert (reply.status, reply.slack_ts, reply.claimed_until) == (Reply.Status.SENT, earlier.ts, None)


def test_a_reply_the_dead_attempt_did_not_get_through_is_posted_once(slack_api, channel):
    other = _reply(channel + "X")  # another reply's post in another channel does not count
    slack_client.post_message(channel + "X", other.text, reply_id=other.pk)
    reply = _reply(channel)

    assert outbox.deliver(reply.pk) == "sent"
    assert outbox.deliver(reply.pk) == "skipped"

    [post] = slack_api.posts(channel)
    assert post["body"]["metadata"] == {"event_type": "charla_reply", "event_payload": {"reply_id": reply.pk}}


def test_a_reply_with_no_earlier_attempt_is_posted_without_looking(slack_api, channel):
    reply = _reply(channel, claim_ran_out=False)
    assert outbox.deliver(reply.pk) == "sent"
    assert [c["method"] for c in slack_api.calls] == ["chat.postMessage"]


def test_when_slack_cannot_be_asked_the_claim_is_kept_and_the_reply_retried_later(slack_api, channel):
    reply = _reply(channel)
    slack_api.script("conversations.history", {"status": 429, "headers": {"Retry-After": "1"}})

    with pytest.raises(outbox.RetryLater):
        outbox.deliver(reply.pk)

    assert slack_api.posts(channel) == []
    reply.refresh_from_db()
    assert reply.status == Reply.Status.PENDING and reply.claimed_until is not None  # still "unsure"
