"""The local console over plain HTTP: what is typed takes the signed Slack path; replies are stored."""
from __future__ import annotations

import json
import re
import secrets

import pytest

from app.bot.models import CommandUse, InboundEvent, Message
from app.bot.slack_client import LOCAL_BOT_USER_ID
from app.console import workspace
from tests.console.conftest import SLACK_SECRETS
from tests.support.stack import database_url, start_stack
from tests.support.waiting import eventually

pytestmark = pytest.mark.django_db(transaction=True)


def bot_replies(channel: str) -> list[Message]:
    return list(Message.objects.filter(channel=channel, is_bot=True).order_by("id"))


def test_the_favicon_is_served(visitor):
    found = visitor.request("GET", "/favicon.ico")  # urllib follows the redirect to the hashed static file
    assert found.status == 200 and found.headers["Content-Type"].startswith("image/svg+xml")
    assert b"<svg" in found.body
    assert re.search(r'<link rel="icon" type="image/svg\+xml" href="/static/console/favicon\.[0-9a-f]+\.svg">',
                     visitor.open_page().body.decode())


def test_the_page_and_its_static_files_are_served(visitor):
    page = visitor.open_page()
    html = page.body.decode()
    assert page.headers["Content-Type"].startswith("text/html")
    for landmark in ('id="user-name"', 'value="CGENERAL"', 'value="CRANDOM"', 'value="DM"', 'id="messages"',
                     'id="message-text"', 'id="stats"', 'id="health"', "Next on the agenda"):
        assert landmark in html
    assert "collectstatic" not in html  # no warning: the files are collected
    for asset, kind in (("console.css", "text/css"), ("console.js", "text/javascript")):
        url = re.search(rf'"(/static/console/console\.[0-9a-f]+\.{asset.split(".")[1]})"', html).group(1)
        served = visitor.request("GET", url)
        assert served.status == 200 and served.headers["Content-Type"].startswith(kind)
        assert "max-age" in served.headers.get("Cache-Control", "")  # hashed name: whitenoise caches it for long


def test_a_mention_goes_through_the_signed_path_and_the_reply_is_stored(visitor, fake_slack):
    response = visitor.send("@charla help", channel="CGENERAL", user="Ana")
    assert response.status == 200, response.body
    sent = response.json()
    ana = workspace.user_id_for("ana")
    assert sent["ok"] and sent["channel"] == "CGENERAL" and sent["user"] == {"id": ana, "name": "Ana"}

    [reply] = eventually(lambda: bot_replies("CGENERAL"), timeout=30)
    assert reply.user == LOCAL_BOT_USER_ID and reply.team == workspace.TEAM_ID
    assert "*Commands*" in reply.text
    # What the worker received is the event Slack would have sent: the mention as <@UCHARLA>.
    event = InboundEvent.objects.get().payload
    assert event["type"] == "event_callback" and event["team_id"] == "TLOCAL"
    assert event["authorizations"][0] == {"enterprise_id": None, "team_id": "TLOCAL", "user_id": "UCHARLA",
                                          "is_bot": True, "is_enterprise_install": False}
    assert event["event"]["text"] == "<@UCHARLA> help" and event["event"]["ts"] == sent["ts"]
    said = Message.objects.get(channel="CGENERAL", is_bot=False)
    assert (said.user, said.text, said.ts) == (ana, "<@UCHARLA> help", sent["ts"])
    use = CommandUse.objects.get()
    assert (use.command, use.via, use.user, use.team) == ("help", "mention", ana, "TLOCAL")
    assert fake_slack.calls == []  # no token: nothing is sent to a Slack API


def test_the_feed_returns_new_messages_with_names_stats_and_health(visitor):
    assert visitor.send("@charla help").status == 200
    eventually(lambda: bot_replies("CGENERAL"), timeout=30)

    feed = visitor.feed("CGENERAL").json()
    assert feed["channel"] == {"id": "CGENERAL", "label": "#general"}
    [mine, reply] = feed["messages"]
    assert (mine["name"], mine["is_bot"], mine["text"]) == ("ana", False, "<@UCHARLA> help")
    assert (reply["name"], reply["is_bot"], reply["user"]) == ("charla", True, "UCHARLA")
    assert feed["names"]["UCHARLA"] == "charla"
    assert feed["last_id"] == reply["id"]
    assert feed["stats"] == [{"command": "help", "uses": 1}]
    assert feed["health"]["database"]["ok"] is True
    assert set(feed["health"]["queues"]) == {"deliveries", "announcements", "inbox", "commands", "outbox",
                                             "periodic"}
    assert feed["next"]["title"]  # the sample agenda

    later = visitor.feed("CGENERAL", after=feed["last_id"]).json()
    assert later["messages"] == [] and later["last_id"] == feed["last_id"]
    assert visitor.feed("CRANDOM").json()["messages"] == []


def test_an_announcement_shows_in_the_console_with_no_slack_app(visitor, console, fake_slack):
    """docs/announcements.md: with no SLACK_BOT_TOKEN an announcement is the bot's message in the console."""
    from tests.support import announcing

    announcing.publish(announcing.announcement("CGENERAL", "deploy-7", "Deploy 7 finished"), "announce.ci",
                       broker_url=console.broker_url)
    eventually(lambda: bot_replies("CGENERAL"), timeout=30)
    [message] = visitor.feed("CGENERAL").json()["messages"]
    assert (message["name"], message["is_bot"], message["text"]) == ("charla", True, "Deploy 7 finished")
    assert fake_slack.posts() == []


def test_each_person_has_a_direct_message_with_the_bot(visitor):
    response = visitor.send("ayuda", channel="DM", user="bea")
    assert response.status == 200
    dm = response.json()["channel"]
    assert dm == "D" + workspace.user_id_for("bea")[1:]

    [reply] = eventually(lambda: bot_replies(dm), timeout=30)
    assert "*Comandos*" in reply.text
    assert CommandUse.objects.get().via == "dm"
    feed = visitor.feed("DM", user="Bea").json()
    assert feed["channel"]["id"] == dm and len(feed["messages"]) == 2
    assert visitor.feed("DM", user="carla").json()["messages"] == []


def test_other_people_are_mentioned_by_name_and_chatter_is_not_answered(visitor):
    assert visitor.send("hola a todos", channel="CRANDOM", user="dani").status == 200
    assert visitor.send("hi @dani and @nobody.", channel="CRANDOM", user="eva").status == 200
    eventually(lambda: Message.objects.filter(channel="CRANDOM").count() == 2)  # counted before asking
    assert visitor.send("@charla count @dani", channel="CRANDOM", user="eva").status == 200

    [reply] = eventually(lambda: bot_replies("CRANDOM"), timeout=30)
    dani = workspace.user_id_for("dani")
    assert reply.text.startswith(f"<@{dani}> has written 1 message here")
    said = Message.objects.filter(channel="CRANDOM", is_bot=False).order_by("posted_at")
    texts = list(said.values_list("text", flat=True))
    # @dani has used the console, so the name becomes a mention; @nobody has not, so it stays text.
    assert texts == ["hola a todos", f"hi <@{dani}> and @nobody.", f"<@UCHARLA> count <@{dani}>"]
    feed = visitor.feed("CRANDOM").json()
    assert feed["names"][dani] == "dani"
    assert sorted(m["name"] for m in feed["messages"]) == ["charla", "dani", "eva", "eva"]
    assert feed["stats"] == [{"command": "count", "uses": 1}]
    assert CommandUse.objects.count() == 1  # the chatter asked nothing of the bot


def test_text_is_escaped_as_slack_does_before_it_reaches_the_bot(visitor):
    assert visitor.send('<script>alert("x")</script> & <b>', channel="CRANDOM").status == 200
    stored = eventually(lambda: Message.objects.get(channel="CRANDOM"), timeout=30)
    assert stored.text == '&lt;script&gt;alert("x")&lt;/script&gt; &amp; &lt;b&gt;'
    feed = visitor.feed("CRANDOM")
    assert feed.headers["Content-Type"] == "application/json"  # never HTML; the page escapes (browser test)


def test_a_form_post_works_too(visitor):
    response = visitor.send_form({"user": "fer", "channel": "CGENERAL", "text": "@charla next"})
    assert response.status == 200 and response.json()["ok"]
    [reply] = eventually(lambda: bot_replies("CGENERAL"), timeout=30)
    assert reply.text.startswith("Next up:")


@pytest.mark.parametrize("fields, problem", [
    ({"text": ""}, "Type a message first."),
    ({"text": "  \n\t "}, "Type a message first."),
    ({"text": "x" * 4001}, "at most 4000 characters"),
    ({"channel": "CSECRET"}, "Unknown channel"),
    ({"channel": ""}, "Unknown channel"),
    ({"user": ""}, "Pick a user name first."),
    ({"user": "x" * 33}, "at most 32 characters"),
    ({"user": "<img src=x>"}, "letters, digits"),
    ({"user": "Charla"}, "the bot's name"),
], ids=["empty", "blank", "too-long", "bad-channel", "no-channel", "no-user", "long-user", "odd-user", "bot-name"])
def test_bad_input_is_refused_with_a_clear_message(visitor, fields, problem):
    message = {"user": "ana", "channel": "CGENERAL", "text": "@charla help", **fields}
    response = visitor.send(message["text"], channel=message["channel"], user=message["user"])
    assert response.status == 400
    assert response.json()["ok"] is False and problem in response.json()["error"]
    assert not InboundEvent.objects.exists()


def test_a_body_that_is_not_a_json_object_is_refused(visitor):
    headers = {"Content-Type": "application/json", "X-CSRFToken": visitor.csrf_token, "Origin": visitor.base_url}
    for body in (b"{not json", b"[1, 2]"):
        response = visitor.request("POST", "/console/send", body, headers)
        assert response.status == 400 and response.json()["error"]


@pytest.mark.parametrize("query", ["channel=CGENERAL&after=-1", "channel=CGENERAL&after=abc", "channel=CNOPE",
                                   "channel=DM", "channel=DM&user=charla"])
def test_bad_feed_queries_are_refused(visitor, query):
    response = visitor.request("GET", "/console/feed?" + query)
    assert response.status == 400 and response.json()["error"]


def test_sending_needs_the_csrf_token(visitor):
    assert visitor.send("@charla help", csrf=False).status == 403
    stranger = type(visitor)(visitor.base_url)  # no cookie at all
    stranger.csrf_token = visitor.csrf_token
    assert stranger.send("@charla help").status == 403
    assert visitor.send("@charla help").status == 200  # the same request with the token goes through


def test_the_csrf_cookie_is_usable_over_plain_http(visitor):
    [cookie] = [c for c in visitor.cookies if c.name == "csrftoken"]
    assert not cookie.secure  # a Secure cookie would never come back over http://host:port/


def test_with_slack_credentials_the_console_is_off(live):
    page = live.get("/")
    assert page.status == 200
    assert b"connected to Slack" in page.body and b'id="message-text"' not in page.body
    assert live.get("/console/feed?channel=CGENERAL").status == 404
    # Even with a valid CSRF cookie and token, nothing is accepted.
    body = json.dumps({"user": "ana", "channel": "CGENERAL", "text": "@charla help"}).encode()
    assert csrf_post(live, "/console/send", body).status == 404
    assert not InboundEvent.objects.exists() and not Message.objects.exists()


def csrf_post(app, path: str, body: bytes):
    """A POST that passes Django's CSRF check (cookie and header agree), so only the view can refuse it."""
    token = secrets.token_hex(16)
    return app.post(path, body, {"Content-Type": "application/json", "Cookie": f"csrftoken={token}",
                                 "X-CSRFToken": token})


def test_in_production_the_console_is_off_unless_asked_for(django_db_setup, django_db_blocker, static_files,
                                                          fake_slack, tmp_path):
    """SECRET_KEY set, DEBUG off, no Slack app and no CONSOLE_ENABLED: no page to post from, nothing to read."""
    from django.db import connection

    with django_db_blocker.unblock():
        db_url = database_url(connection.settings_dict)
    app = start_stack(database_url=db_url, broker_url=f"charla-sqlite+sqlite:///{tmp_path / 'broker.sqlite3'}",
                      data_dir=tmp_path, logs=tmp_path / "logs", fake=fake_slack, roles=("web",),
                      unset=SLACK_SECRETS + ("CONSOLE_ENABLED", "CHARLA_LOCAL"))
    try:
        page = app.get("/")
        assert page.status == 404
        assert b"local console is off" in page.body and b"CONSOLE_ENABLED=1" in page.body
        assert b'id="message-text"' not in page.body and b"csrfmiddlewaretoken" not in page.body
        assert app.get("/console/feed?channel=CGENERAL").status == 404
        body = json.dumps({"user": "mallory", "channel": "CGENERAL", "text": "@charla help"}).encode()
        assert csrf_post(app, "/console/send", body).status == 404
        assert app.get("/healthz").status == 200 and app.get("/favicon.ico").status == 200
        assert not InboundEvent.objects.exists() and not Message.objects.exists()
    finally:
        app.stop_all()
