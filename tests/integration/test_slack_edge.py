"""Slack's edge rejects what Slack did not send, refuses bad input with 4xx, and stores nothing of it."""
from __future__ import annotations

import json
import time
import urllib.parse

import pytest

from app.bot.models import CommandUse, InboundEvent, Message
from app.bot.payload_checks import MAX_DEPTH
from tests.support import slack_requests
from tests.support.raw_http import raw_post
from tests.support.stack import database_url, free_port, start_stack

pytestmark = pytest.mark.django_db(transaction=True)


def _nothing_reached(slack, channel):
    """Prove the pipeline ran after the bad request (a good one got through), then check nothing else did."""
    control = channel + "OK"
    slack.mention("help", control)
    slack.wait_for_replies(control)
    slack.settle(0.5)
    assert not Message.objects.filter(channel=channel).exists()
    assert slack.replies(channel) == []


def test_url_verification_is_answered_with_the_challenge(slack):
    response = slack.send_event({"type": "url_verification", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "token": "x"})
    assert response.status == 200
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_a_forged_signature_is_rejected_and_nothing_is_stored(slack, channel):
    payload = slack_requests.mention("help", channel)
    body, headers = slack_requests.signed_json("not-the-signing-secret", payload)
    response = slack.stack.post("/slack/events", body, headers)
    assert response.status == 401
    _nothing_reached(slack, channel)
    assert not InboundEvent.objects.filter(key=payload["event_id"]).exists()


def test_a_replayed_request_outside_five_minutes_is_rejected(slack, channel):
    six_minutes_ago = int(time.time()) - 360
    payload = slack_requests.mention("help", channel)
    assert slack.send_event(payload, timestamp=six_minutes_ago).status == 401
    _nothing_reached(slack, channel)


def test_a_tampered_body_is_rejected(slack, channel):
    body, headers = slack_requests.signed_json(slack.secret, slack_requests.mention("help", channel))
    tampered = body.replace(b"help", b"stats")
    assert slack.stack.post("/slack/events", tampered, headers).status == 401
    _nothing_reached(slack, channel)


@pytest.mark.parametrize("headers", [
    {},
    {"X-Slack-Request-Timestamp": "1700000000"},
    {"X-Slack-Signature": "v0=abc"},
    {"X-Slack-Request-Timestamp": "not-a-number", "X-Slack-Signature": "v0=abc"},
    {"X-Slack-Request-Timestamp": "9" * 40, "X-Slack-Signature": "v0=abc"},
], ids=["no-headers", "no-signature", "no-timestamp", "text-timestamp", "huge-timestamp"])
def test_missing_or_garbled_signature_headers_are_rejected(slack, headers, channel):
    body = json.dumps(slack_requests.mention("help", channel)).encode()
    response = slack.stack.post("/slack/events", body, {"Content-Type": "application/json", **headers})
    assert response.status == 401


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2, 3]", b"\xff\xfe", b'{"type": "event_callback"}',
                                  b'{"type": "event_callback", "event_id": "Ev1", "event": "text"}',
                                  b'{"type": "url_verification"}', b'{"type": "something_else"}'],
                         ids=["broken-json", "a-list", "not-utf8", "no-event", "event-not-object", "no-challenge",
                              "unknown-type"])
def test_malformed_but_signed_payloads_answer_400(slack, body):
    headers = {"Content-Type": "application/json", **slack_requests.sign(slack.secret, body)}
    response = slack.stack.post("/slack/events", body, headers)
    assert response.status == 400
    assert response.json()["ok"] is False


@pytest.mark.parametrize("form", [b"text=help", b"%zz=%%%", b"team_id=T1&channel_id=C1&user_id=U1&trigger_id=t"
                                  b"&response_url=javascript:alert(1)"],
                         ids=["missing-fields", "broken-form", "bad-response-url"])
def test_malformed_slash_commands_answer_400(slack, form):
    headers = {"Content-Type": "application/x-www-form-urlencoded", **slack_requests.sign(slack.secret, form)}
    assert slack.stack.post("/slack/commands", form, headers).status == 400


def test_a_body_over_the_limit_answers_413(slack, channel):
    payload = slack_requests.mention("search " + "x" * 70_000, channel)
    response = slack.send_event(payload)
    assert response.status == 413
    assert not Message.objects.filter(channel=channel).exists()


@pytest.mark.parametrize("path", ["/slack/events", "/slack/commands"])
def test_wrong_method_answers_405(slack, path):
    assert slack.stack.get(path).status == 405


def test_health_and_readiness(slack):
    assert slack.stack.get("/healthz").status == 200
    ready = slack.stack.get("/readyz")
    assert ready.status == 200
    assert ready.json()["database"]["ok"] and ready.json()["broker"]["ok"]


# ---- hostile input: 4xx at worst, and Slack is told not to retry what can never be valid -------------------

HOSTILE_TIMESTAMPS = ["²".encode(), "¹²³".encode(), "²".encode("latin-1"), "١٧٠٠٠٠٠٠٠٠".encode(), b"+1700000000",
                      b" 1700000000", b"1_700_000_000", b"\xff\xfe"]
HOSTILE_SIGNATURES = [("v0=" + "é" * 64).encode(), ("v0=" + "é" * 64).encode("latin-1"), b"v0=\xff\x00",
                      ("v0=" + "a" * 64).encode("utf-16")[2:], ("v0=" + "A" * 64).encode()]


@pytest.mark.parametrize("path", ["/slack/events", "/slack/commands"])
def test_non_ascii_digits_and_signatures_are_rejected_not_crashed_on(slack, path, channel):
    body = json.dumps(slack_requests.mention("help", channel)).encode()
    signed = {k: v.encode() for k, v in slack_requests.sign(slack.secret, body).items()}
    for timestamp in HOSTILE_TIMESTAMPS:
        headers = [(b"X-Slack-Request-Timestamp", timestamp), (b"X-Slack-Signature", signed["X-Slack-Signature"])]
        assert raw_post(slack.stack.web_url, path, headers, body).status in (400, 401), timestamp
    for signature in HOSTILE_SIGNATURES:
        headers = [(b"X-Slack-Request-Timestamp", signed["X-Slack-Request-Timestamp"]),
                   (b"X-Slack-Signature", signature)]
        assert raw_post(slack.stack.web_url, path, headers, body).status in (400, 401), signature
    _nothing_reached(slack, channel)


def _deeper_than_allowed(payload: dict) -> bytes:
    payload["event"]["blocks"] = "DEEP"  # payload, event and blocks are three levels
    extra = MAX_DEPTH - 1  # 2 + extra levels: one more than allowed
    return json.dumps(payload).encode().replace(b'"DEEP"', b"[" * extra + b"]" * extra)


def _with_event(**fields):
    def change(payload: dict) -> bytes:
        payload["event"].update(fields)
        return json.dumps(payload).encode()
    return change


@pytest.mark.parametrize("malformed, reason", [
    (lambda p: b"\xef\xbb\xbf" + json.dumps(p).encode(), "utf8_bom"),
    (_deeper_than_allowed, "too_deep"),
    (lambda p: json.dumps(p).encode().replace(b'"event_time": ', b'"event_time": NaN, "x": '), "non_finite_number"),
    (lambda p: json.dumps({**p, "event_id": "Ev" + "X" * 119}).encode(), "too_long:event_id"),
    (lambda p: json.dumps({**p, "authorizations": {"user_id": "U1"}}).encode(), "bad_field:authorizations"),
    (_with_event(user=["U0ALICE"]), "bad_field:event.user"),
    (_with_event(user="U" * 33), "too_long:event.user"),
    (_with_event(ts="1" * 33), "too_long:event.ts"),
    (_with_event(text={"text": "help"}), "bad_field:event.text"),
], ids=["bom", "too-deep", "nan", "long-event-id", "authorizations-object", "user-list", "long-user", "long-ts",
        "text-object"])
def test_signed_but_malformed_deliveries_answer_400_no_retry_and_store_nothing(slack, channel, malformed, reason):
    payload = slack_requests.mention("help", channel)
    body = malformed(payload)
    response = slack.stack.post("/slack/events", body, {"Content-Type": "application/json",
                                                         **slack_requests.sign(slack.secret, body)})
    assert response.status == 400
    assert response.headers.get("X-Slack-No-Retry") == "1", "Slack must not resend what can never be valid"
    assert response.json() == {"ok": False, "error": reason}
    _nothing_reached(slack, channel)
    assert not InboundEvent.objects.filter(payload__event__channel=channel).exists()


@pytest.mark.parametrize("field, value, reason", [
    ("team_id", "T" * 33, "too_long:team_id"),
    ("user_id", "U" * 33, "too_long:user_id"),
    ("trigger_id", "t" * 120, "too_long:event_id"),
    ("response_url", "https://hooks.slack.com/" + "x" * 480, "too_long:response_url"),
    ("response_url", "javascript:alert(1)", "bad_field:response_url"),
])
def test_signed_but_malformed_slash_commands_answer_400_no_retry_and_store_nothing(slack, channel, field, value,
                                                                                    reason):
    form = dict(urllib.parse.parse_qsl(slack_requests.slash_command("help", slack.fake.url + "/response/x", channel)
                                       .decode()))
    body = urllib.parse.urlencode({**form, field: value}).encode()
    response = slack.stack.post("/slack/commands", body, {"Content-Type": "application/x-www-form-urlencoded",
                                                          **slack_requests.sign(slack.secret, body)})
    assert (response.status, response.headers.get("X-Slack-No-Retry"), response.json()["error"]) == (400, "1", reason)
    _nothing_reached(slack, channel)
    assert not CommandUse.objects.filter(channel=channel).exists()
    assert not InboundEvent.objects.filter(payload__channel_id=channel).exists()


@pytest.mark.parametrize("broker", ["up", "down"])
def test_text_the_database_cannot_store_is_made_storable(slack, channel, broker):
    """NUL (PostgreSQL's text and jsonb refuse it) and a lone surrogate (psycopg cannot encode it): handed on
    or kept in the database while the broker is down, the delivery is stored, storable, and answered."""
    payload = slack_requests.mention("help \u0000me\ud800", channel, user="U0AL\u0000ICE")
    if broker == "up":
        assert slack.send_event(payload).status == 200
    else:
        with slack.stack.broker_outage():
            assert slack.send_event(payload).status == 200
            assert InboundEvent.objects.get(key=payload["event_id"]).parked
    slack.assert_each_answered_once([channel])
    assert Message.objects.get(channel=channel).text == "<@UCHARLABOT> help me\ufffd"
    kept = InboundEvent.objects.get(key=payload["event_id"]).payload["event"]
    assert (kept["text"], kept["user"]) == ("<@UCHARLABOT> help me\ufffd", "U0ALICE")


# ---- /readyz: which service is down, never where it lives ----------------------------------------------

@pytest.mark.parametrize("down", ["database", "broker"])
def test_readiness_names_the_service_that_is_down_and_not_its_address(slack, down, tmp_path):
    from django.conf import settings
    from django.db import connection

    closed_port = free_port()
    urls = {"database_url": database_url(connection.settings_dict), "broker_url": settings.CONFIG.broker_url}
    if down == "database":
        urls["database_url"] = f"postgres://postgres@127.0.0.1:{closed_port}/charla_nowhere"
    else:
        urls["broker_url"] = f"amqp://guest:guest@127.0.0.1:{closed_port}//"
    web = start_stack(**urls, data_dir=tmp_path, logs=tmp_path / "logs", fake=slack.fake, roles=("web",),
                      extra_env={"WEB_CONCURRENCY": "1"})
    try:
        ready = web.get("/readyz")
        log = web.log("web")
    finally:
        web.stop_all()
        if web.proxy:
            web.proxy.close()
    assert ready.status == 503
    assert ready.json()["down"] == [down]
    assert ready.json()[down]["ok"] is False
    assert ready.json()["database" if down == "broker" else "broker"]["ok"] is True
    assert str(closed_port) not in ready.body.decode() and "127.0.0.1" not in ready.body.decode()
    # the details are in the web's log (and `manage.py doctor` prints them)
    assert f"readyz: the {down} is down: " in log
    assert (f"port {closed_port} failed" if down == "database" else "OperationalError: ") in log


def test_readiness_when_all_is_up_names_nothing(slack):
    ready = slack.stack.get("/readyz")
    assert ready.status == 200
    assert ready.json()["down"] == []
    assert set(ready.json()) == {"down", "database", "broker"}
