"""Socket Mode: the real `socket` process (bin/process socket) against the fake Socket Mode server, with the
real worker and beat; every reply read from the fake Slack Web API.

Slack's rule is the test's: an envelope must be acknowledged within 3 seconds of being sent, and only once
its delivery is safe (confirmed by the broker, or parked in the database).
"""
from __future__ import annotations

import time
import uuid

import pytest

from app.bot.models import CommandUse, InboundEvent
from tests.support import slack_requests
from tests.support.fake_socket_mode import FakeSocketMode

pytestmark = pytest.mark.django_db(transaction=True)

APP_TOKEN = "xapp-1-AFAKE0001-1-" + uuid.uuid4().hex
SLACK_DEADLINE = 3.0


@pytest.fixture(scope="module")
def socket_mode(fake_slack):
    server = FakeSocketMode().start()
    fake_slack.socket_mode = server
    yield server
    fake_slack.socket_mode = None
    server.stop()


@pytest.fixture(scope="module")
def socket_process(stack, socket_mode):
    """`bin/process socket` beside the session's worker and beat (and web, which Socket Mode does not use)."""
    stack.start("socket", extra_env={"SLACK_APP_TOKEN": APP_TOKEN})
    stack.wait_for_log("socket", "connected to Slack")
    socket_mode.wait_for_connection()
    yield stack
    stack.stop("socket")


@pytest.fixture
def sm(socket_process, socket_mode, slack):
    socket_mode.forget()  # what an earlier test left unacked is not sent again into this one
    return SocketSlack(socket_mode, slack)


class SocketSlack:
    """Sends envelopes as Slack would over Socket Mode; reads replies from the fake Web API."""

    def __init__(self, server: FakeSocketMode, slack):
        self.server, self.slack = server, slack

    def mention(self, text: str, channel: str, **kw) -> str:
        return self.server.send("events_api", slack_requests.mention(text, channel=channel), **kw)

    def slash(self, text: str, channel: str, **kw) -> tuple[str, str]:
        """(envelope id, the response_url path the answer goes to)"""
        path = "/response/" + uuid.uuid4().hex
        fields = slack_requests.slash_command_fields(text, self.slack.fake.url + path, channel)
        return self.server.send("slash_commands", fields, **kw), path

    def answers_at(self, path: str) -> list[dict]:
        return [c for c in self.slack.fake.posts() if c["method"] == "response_url"
                and c["body"].get("response_path") == path]

    def wait_for_answer_at(self, path: str, timeout: float = 60) -> None:
        self.slack.fake.wait_for(lambda calls: self.answers_at(path), timeout=timeout)


def test_a_mention_and_a_slash_command_each_get_one_reply(sm, channel, socket_process):
    from app.bot.models import Message

    mention = sm.mention("help", channel)
    slash, path = sm.slash("ayuda", channel)
    sm.server.wait_for_acks([mention, slash])

    assert sm.server.envelope(mention).acks[0][1] is None, "an event's ack carries no payload"
    [(_, immediate)] = sm.server.envelope(slash).acks
    assert immediate == {"response_type": "ephemeral", "text": "Un momento… `/charla ayuda`"}
    assert sm.server.ack_seconds(mention) < SLACK_DEADLINE and sm.server.ack_seconds(slash) < SLACK_DEADLINE

    sm.slack.wait_for_replies(channel)
    sm.wait_for_answer_at(path)
    sm.slack.settle(3)
    [reply] = sm.slack.replies(channel)
    assert "help" in reply["body"]["text"]
    [answer] = sm.answers_at(path)
    assert "ayuda" in answer["body"]["text"]
    assert Message.objects.filter(channel=channel).count() == 1
    assert CommandUse.objects.filter(channel=channel).count() == 2
    assert "Traceback" not in socket_process.log("socket")


def test_a_refresh_and_a_dropped_connection_in_a_stream_of_200_lose_nothing(sm, socket_mode):
    """200 envelopes at 50 a second; after the 70th Slack asks for a new connection (refresh_requested),
    after the 140th the TCP connection ends without a close frame. Every envelope is acked within Slack's
    3 seconds of its send (counting the time no connection was open), every command answered once."""
    opened_before = socket_mode.connections_opened
    run = uuid.uuid4().hex[:6].upper()
    channels = [f"CSTREAM{run}{i:03d}" for i in range(200)]
    envelopes, slash_paths = [], {}
    started = time.monotonic()
    for i, ch in enumerate(channels):
        if i == 70:
            socket_mode.refresh()
        if i == 140:
            socket_mode.drop()
        if i % 10 == 9:
            envelope, path = sm.slash("next", ch)
            slash_paths[ch] = path
        else:
            envelope = sm.mention("next", ch)
        envelopes.append(envelope)
        time.sleep(max(0.0, started + (i + 1) / 50 - time.monotonic()))  # pacing the sender, not an assert

    socket_mode.wait_for_acks(envelopes, timeout=60)
    ack_times = sorted(socket_mode.ack_seconds(e) for e in envelopes)
    print(f"\nsocket mode: 200 envelopes, refresh + TCP drop: ack max {ack_times[-1] * 1000:.1f} ms, "
          f"p50 {ack_times[100] * 1000:.2f} ms, p99 {ack_times[197] * 1000:.1f} ms; "
          f"connections opened {socket_mode.connections_opened - opened_before}")
    assert ack_times[-1] < SLACK_DEADLINE
    assert socket_mode.connections_opened - opened_before >= 2, "a new connection after the refresh and the drop"

    mention_channels = [ch for ch in channels if ch not in slash_paths]
    fake = sm.slack.fake
    fake.wait_for(lambda calls: all(sm.slack.replies(ch) for ch in mention_channels)
                  and all(sm.answers_at(p) for p in slash_paths.values()), timeout=180)
    sm.slack.settle(3)
    assert [ch for ch in mention_channels if len(sm.slack.replies(ch)) != 1] == []
    assert [ch for ch, p in slash_paths.items() if len(sm.answers_at(p)) != 1] == []
    assert CommandUse.objects.filter(channel__startswith=f"CSTREAM{run}").count() == 200


def test_envelopes_sent_while_the_broker_is_down_are_parked_acked_and_answered_after(sm, live):
    run = uuid.uuid4().hex[:6].upper()
    channels = [f"CSOCKOUT{run}{i}" for i in range(5)]
    with live.broker_outage():
        envelopes = [sm.mention("help", ch) for ch in channels]
        slash, path = sm.slash("help", f"CSOCKOUT{run}S")
        envelopes.append(slash)
        sm.server.wait_for_acks(envelopes, timeout=30)
        assert InboundEvent.objects.filter(parked=True).count() == 6, "each delivery kept in the database"
        ack_seconds = [round(sm.server.ack_seconds(e), 3) for e in envelopes]
        print(f"\nsocket mode, broker down: acks after {ack_seconds} s")
        assert max(ack_seconds) < SLACK_DEADLINE, ack_seconds
        assert all(sm.server.envelope(e).attempts == 1 for e in envelopes), "acked in time: not sent again"
        time.sleep(2)
        assert all(sm.slack.replies(ch) == [] for ch in channels) and sm.answers_at(path) == []

    sm.slack.assert_each_answered_once(channels)
    sm.wait_for_answer_at(path)
    assert len(sm.answers_at(path)) == 1
    assert not InboundEvent.objects.filter(processed_at__isnull=True).exists()


def test_an_envelope_sent_again_after_a_lost_ack_is_answered_once(sm, channel, socket_mode):
    envelope = sm.mention("help", channel, lose_acks=1)
    socket_mode.wait_for(lambda: socket_mode.envelope(envelope).acked, timeout=30, what="the second ack")
    sent = socket_mode.envelope(envelope)
    assert sent.attempts == 2 and sent.lost_acks == 1, "Slack sent it again after its first ack was lost"
    sm.slack.assert_each_answered_once([channel])


def test_interactive_and_malformed_envelopes_are_acked_and_nothing_is_stored(sm, channel, socket_mode):
    """Slack must not send them again (nothing would change), and the worker never sees them: as web's
    400 with X-Slack-No-Retry."""
    from app.bot.models import Message

    malformed = slack_requests.mention("help", channel=channel)
    del malformed["event_id"]
    envelopes = [socket_mode.send("interactive", {"type": "block_actions", "actions": []}),
                 socket_mode.send("events_api", malformed),
                 socket_mode.send("slash_commands", {"command": "/charla", "text": "help"})]  # no channel, no user
    socket_mode.wait_for_acks(envelopes)
    assert all(socket_mode.envelope(e).acks[0][1] is None for e in envelopes), "no answer payload for these"
    sm.slack.settle(3)
    assert sm.slack.fake.posts() == []
    assert Message.objects.filter(channel=channel).count() == 0
    assert not InboundEvent.objects.exists()
