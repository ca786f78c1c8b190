"""The console's pieces in-process: ids, the event it builds, its signature, the queue-depth cache."""
from __future__ import annotations

import json

import pytest
from django.test import Client

from app.bot.signing import is_signed_by_slack
from app.bot.slack_payloads import command_request
from app.console import status, workspace
from app.console.models import ConsoleUser


def test_ids_are_stable_case_blind_and_slack_shaped():
    ana = workspace.user_id_for("Ana")
    assert ana == workspace.user_id_for("ana") == workspace.user_id_for("ANA")
    assert ana != workspace.user_id_for("anna")
    assert ana.startswith("U") and len(ana) == 11 and ana.isalnum() and ana.isupper()
    person = workspace.Person(ana, "Ana")
    dm = workspace.channel_for("DM", person)
    assert (dm.id, dm.kind) == ("D" + ana[1:], "im")
    assert workspace.channel_for("CGENERAL", person).kind == "channel"


@pytest.mark.django_db
def test_the_event_is_what_slack_sends_and_carries_a_command():
    person = workspace.remember("ana")
    payload = workspace.message_event(person, workspace.CHANNELS["CGENERAL"], "@Charla help")
    event = payload["event"]
    assert payload["type"] == "event_callback" and payload["team_id"] == "TLOCAL"
    assert (event["type"], event["channel_type"], event["user"]) == ("message", "channel", person.id)
    assert event["text"] == "<@UCHARLA> help"
    request = command_request(payload)
    assert request is not None and (request.via, request.team, request.user) == ("mention", "TLOCAL", person.id)

    dm = workspace.message_event(person, workspace.channel_for("DM", person), "ayuda")
    assert command_request(dm).via == "dm"


@pytest.mark.django_db
def test_the_signature_is_the_one_the_events_edge_checks():
    payload = workspace.message_event(workspace.remember("ana"), workspace.CHANNELS["CRANDOM"], "hola")
    body, headers = workspace.signed_request(payload)
    assert json.loads(body) == payload
    assert headers["X-Slack-Signature"].startswith("v0=")
    assert is_signed_by_slack(body, headers)
    assert not is_signed_by_slack(body.replace(b"hola", b"hole"), headers)


@pytest.mark.django_db
def test_names_are_remembered_once_per_person():
    workspace.remember("ana")
    workspace.remember("  Ana ")
    [row] = ConsoleUser.objects.all()
    assert (row.user_id, row.name) == (workspace.user_id_for("ana"), "Ana")  # the latest spelling is shown
    assert workspace.names_for([row.user_id, "UCHARLA", "UNKNOWN"]) == {row.user_id: "Ana", "UCHARLA": "charla"}


@pytest.mark.django_db
def test_slack_escaping_and_mentions():
    workspace.remember("dani")
    dani = workspace.user_id_for("dani")
    assert workspace.slack_text("a <b> & c") == "a &lt;b&gt; &amp; c"
    assert workspace.slack_text("@charla: hi @Dani. mail x@charla.org, @zoe") == (
        f"<@UCHARLA>: hi <@{dani}>. mail x@charla.org, @zoe")


def test_queue_depths_are_asked_at_most_every_two_seconds(monkeypatch):
    asked = []
    clock = [1000.0]
    monkeypatch.setattr(status.health, "queue_depths", lambda timeout: asked.append(timeout) or {"inbox": len(asked)})
    monkeypatch.setattr(status.time, "monotonic", lambda: clock[0])
    monkeypatch.setitem(status._queue_cache, "at", None)
    assert [status.queue_depths() for _ in range(5)] == [{"inbox": 1}] * 5
    clock[0] += 1.9
    assert status.queue_depths() == {"inbox": 1}
    clock[0] += 0.2
    assert status.queue_depths() == {"inbox": 2}
    assert asked == [status.QUEUE_TIMEOUT_SECONDS] * 2


@pytest.mark.django_db
def test_in_this_process_a_token_is_set_so_the_console_is_off():
    client = Client()
    assert b"connected to Slack" in client.get("/").content
    assert client.get("/console/feed?channel=CGENERAL").status_code == 404
    assert client.post("/console/send", {"user": "ana", "channel": "CGENERAL", "text": "hi"}).status_code == 404


def test_a_static_file_that_was_not_collected_does_not_break_the_page():
    from app.console.views import _static

    assert _static("console/never-collected.css") is None  # the page then shows how to fix it


def test_dates_carry_the_year_when_it_is_not_this_one():
    from datetime import datetime, timezone

    now = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
    assert status.readable_date(datetime(2026, 12, 3, 18, 0, tzinfo=timezone.utc), now) == "Thu 3 Dec, 18:00 UTC"
    assert status.readable_date(datetime(2027, 1, 21, 18, 0, tzinfo=timezone.utc), now) == "Thu 21 Jan 2027, 18:00 UTC"
