"""A delivery is recorded once, its message stored once and its command counted once."""
from __future__ import annotations

import pytest

from app.bot import answers
from app.bot.models import CommandUse, InboundEvent, Message
from tests.services.conftest import deliver
from tests.support import slack_requests

pytestmark = pytest.mark.django_db


def test_a_mention_is_stored_and_its_command_recorded():
    payload = slack_requests.mention("ayuda")
    outcome = deliver(payload)
    assert not outcome.duplicate and outcome.message == "stored"
    use = CommandUse.objects.get(pk=outcome.command_use_id)
    assert (use.command, use.language, use.via, use.channel) == ("help", "es", "mention", "C0GENERAL")
    assert InboundEvent.objects.get(key=payload["event_id"]).processed_at is not None


def test_the_same_delivery_twice_is_a_duplicate_that_records_nothing_new():
    payload = slack_requests.mention("help")
    deliver(payload)
    again = deliver(payload)
    assert again.duplicate and again.message is None
    assert (Message.objects.count(), CommandUse.objects.count(), InboundEvent.objects.count()) == (1, 1, 1)


def test_a_mention_that_also_arrives_as_a_message_counts_once():
    mention = slack_requests.mention("next")
    event = mention["event"]
    as_message = slack_requests.message(event["text"], ts=event["ts"])  # the same message, another event_id
    assert not deliver(mention).duplicate
    second = deliver(as_message)
    assert not second.duplicate and second.command_use_id is None  # a new delivery, not a new command
    assert CommandUse.objects.count() == 1 and Message.objects.count() == 1


def test_a_redelivery_asks_for_the_answer_again_only_while_there_is_no_reply():
    payload = slack_requests.mention("help")
    first = deliver(payload)
    # The worker died between the commit and sending answer_command: the redelivery brings the answer back.
    assert deliver(payload).command_use_id == first.command_use_id
    answers.answer(first.command_use_id)  # a reply exists (pending, on its way): nothing more to ask
    assert deliver(payload).command_use_id is None


def test_plain_chatter_is_stored_and_asks_nothing():
    outcome = deliver(slack_requests.message("good morning"))
    assert outcome.message == "stored" and outcome.command_use_id is None
    assert CommandUse.objects.count() == 0


def test_a_direct_message_is_a_command_without_a_mention():
    outcome = deliver(slack_requests.message("estado", channel="D0ALICE", channel_type="im"))
    assert CommandUse.objects.get(pk=outcome.command_use_id).via == "dm"


def test_the_bots_own_post_is_stored_as_the_bots_and_never_answered():
    outcome = deliver(slack_requests.message("help", user=slack_requests.BOT_USER_ID))
    assert outcome.message == "stored" and outcome.command_use_id is None
    assert Message.objects.get().is_bot
