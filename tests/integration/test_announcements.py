"""The announcement contract (docs/announcements.md) on any broker: a service publishes to `charla` with routing key
`announce.<source>`, the worker posts it once per (source, id), and a message that breaks the contract is a
dead letter that stops nothing. Other languages' producers, confirms and permissions: tests/rabbitmq."""
from __future__ import annotations

import json

import pytest

from app.bot.models import Announcement, DeadLetter
from app.bot.slack_client import REPLY_METADATA_TYPE
from tests.support import announcing

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_announcement_is_posted_once_per_source_and_id(slack, channel):
    message = announcing.announcement(channel, "deploy-42", "Deploy *42* finished :rocket:")
    announcing.publish(message, "announce.ci")
    announcing.publish(message, "announce.ci")  # a producer republishing after a lost confirm
    announcing.publish(message, "announce.cron")  # the same id from another source is another announcement

    posts = slack.wait_for_replies(channel, 2)
    slack.settle(3)
    posts = slack.replies(channel)
    assert len(posts) == 2
    for post in posts:
        assert post["body"]["text"] == "Deploy *42* finished :rocket:"
        # carries its reply's id, so an attempt unsure of an earlier one looks before posting again
        assert post["body"]["metadata"]["event_type"] == REPLY_METADATA_TYPE
    assert sorted(Announcement.objects.values_list("source", "key")) == [("ci", "deploy-42"), ("cron", "deploy-42")]


def test_an_announcement_in_a_thread_is_posted_in_that_thread(slack, channel):
    announcing.publish(announcing.announcement(channel, "t-1", "in the thread", thread_ts="1700000000.000100",
                                               team="T0123"), "announce.ci")
    [post] = slack.wait_for_replies(channel)
    assert post["body"]["thread_ts"] == "1700000000.000100"
    assert post["body"]["text"] == "in the thread"


def test_an_announcement_waits_out_a_429_like_a_reply(slack, channel):
    slack.fake.script("chat.postMessage", {"status": 429, "headers": {"Retry-After": "2"}, "error": "ratelimited"},
                      {"status": 503})
    announcing.publish(announcing.announcement(channel, "busy-1", "after the rate limit"), "announce.ci")

    slack.fake.wait_for(lambda calls: len([c for c in calls if c["body"].get("channel") == channel
                                           and c["answered"] == 200]) == 1, timeout=60)
    attempts = [c for c in slack.fake.calls if c["method"] == "chat.postMessage" and c["body"].get("channel") == channel]
    assert [c["answered"] for c in attempts] == [429, 503, 200]
    assert attempts[1]["at"] - attempts[0]["at"] >= 2.0, "the retry waits for Retry-After"
    assert attempts[-1]["body"]["text"] == "after the rate limit"


def _broken(channel: str) -> list[tuple[bytes | dict, str, str, dict]]:
    """(body, routing key, what the dead letter's reason names, headers): one per way to break the contract,
    the limits read from the schema the consumer validates with."""
    props = announcing.schema()["properties"]
    ok = announcing.announcement(channel, "fine")
    return [
        (b"deploy finished", "announce.ci", "not JSON", {}),
        (b"[1, 2]", "announce.ci", "not of type 'object'", {}),
        ({"id": "x", "channel": channel}, "announce.ci", "'text' is a required property", {}),
        ({**ok, "channel": 12345}, "announce.ci", "channel", {}),
        ({**ok, "text": "a" * (props["text"]["maxLength"] + 1)}, "announce.ci", "text: ", {}),
        ({**ok, "id": "i" * (props["id"]["maxLength"] + 1)}, "announce.ci", "id: ", {}),
        ({**ok, "channel": "#general"}, "announce.ci", "channel: ", {}),
        ({**ok, "colour": "red"}, "announce.ci", "Additional properties", {}),
        (ok, "announce.Not_A_Source", "routing key", {}),
        ([[], {"id": "x", "channel": channel, "text": "hi"}, {}], "announce.celery", "is not app.bot.tasks.announce",
         {"task": "app.bot.tasks.process_event", "id": "t1"}),
        ([["x", channel, "hi"], {}, {}], "announce.celery", "positional arguments",
         {"task": "app.bot.tasks.announce", "id": "t2"}),
    ]


def test_a_message_that_breaks_the_contract_is_a_dead_letter_and_the_next_one_posts(slack, channel):
    broken = _broken(channel)
    for body, routing_key, _, headers in broken:
        announcing.publish(body, routing_key, headers=headers)
    announcing.publish(announcing.announcement(channel, "after-the-junk", "still here"), "announce.ci")

    [post] = slack.wait_for_replies(channel)
    assert post["body"]["text"] == "still here"
    letters = announcing.wait_for_dead_letters(len(broken))
    reasons = sorted(letter.reason for letter in letters)
    for _, _, reason_part, _ in broken:
        assert any(reason_part in reason for reason in reasons), (reason_part, reasons)
    assert len(letters) == len(broken)
    assert any(letter.payload == "deploy finished" for letter in letters), "the body is kept as received"
    slack.settle()
    assert len(slack.replies(channel)) == 1
    assert Announcement.objects.count() == 1
    assert slack.stack.procs["worker"].poll() is None, "the worker is still running"


def test_a_celery_task_announcement_runs_once_and_posts(slack, channel):
    """The Celery way (what a Python, Node or Go Celery client sends): task app.bot.tasks.announce with keyword
    arguments, routing key announce.celery; sent twice with one id, posted once."""
    from app.queueing import layout
    from app.queueing.celery_app import celery_app

    kwargs = {"id": "celery-1", "channel": channel, "text": "from a Celery client", "thread_ts": None}
    for _ in range(2):
        # declare: the embedded broker routes by the bindings the sender knows (tests/support/announcing.py)
        celery_app.send_task("app.bot.tasks.announce", kwargs=kwargs, exchange="charla",
                             routing_key="announce.celery", declare=[layout.ANNOUNCEMENTS_QUEUE])

    [post] = slack.wait_for_replies(channel)
    assert post["body"]["text"] == "from a Celery client"
    slack.settle(3)
    assert len(slack.replies(channel)) == 1
    assert list(Announcement.objects.values_list("source", "key")) == [("celery", "celery-1")]


def test_an_announce_task_sent_straight_to_the_worker_is_checked_too(slack, channel):
    """A task that skips the consumer (sent to its own queue) meets the same schema: a dead letter at once."""
    from app.bot.tasks import announce

    announce.delay(id="x", channel=channel, text="")
    letter = announcing.wait_for_dead_letters(1, source="app.bot.tasks.announce")[0]
    assert letter.attempts == 1 and "text" in letter.reason
    assert json.loads(letter.payload)["channel"] == channel
    assert not DeadLetter.objects.filter(source="announcements").exists()
