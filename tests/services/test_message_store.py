"""Messages keyed by (team, channel, ts): edits update them, a deletion wins whatever the order."""
from __future__ import annotations

import pytest

from app.bot.models import Message
from tests.services.conftest import deliver
from tests.support import slack_requests

pytestmark = pytest.mark.django_db


def edit(ts: str, text: str) -> dict:
    return slack_requests.message("", subtype="message_changed", message={"type": "message", "user": "U0ALICE",
                                                                          "text": text, "ts": ts})


def delete(ts: str) -> dict:
    return slack_requests.message("", subtype="message_deleted", deleted_ts=ts)


def test_an_edit_changes_the_stored_text():
    original = slack_requests.message("helo")
    deliver(original)
    assert deliver(edit(original["event"]["ts"], "hello")).message == "edited"
    stored = Message.objects.get(ts=original["event"]["ts"])
    assert stored.text == "hello" and stored.edited_at is not None


def test_a_deletion_that_arrives_before_the_message_keeps_it_deleted():
    original = slack_requests.message("oops")
    ts = original["event"]["ts"]
    assert deliver(delete(ts)).message == "deleted"
    deliver(original)  # late
    deliver(edit(ts, "oops, edited"))  # later still
    stored = Message.objects.get(ts=ts)
    assert stored.deleted_at is not None and stored.text == ""


def test_the_same_ts_in_two_channels_is_two_messages():
    ts = slack_requests.new_ts()
    deliver(slack_requests.message("here", channel="C0ONE", ts=ts))
    deliver(slack_requests.message("there", channel="C0TWO", ts=ts))
    assert sorted(Message.objects.values_list("channel", "text")) == [("C0ONE", "here"), ("C0TWO", "there")]
