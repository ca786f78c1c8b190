"""`manage.py slack_manifest` turns the app manifest into one the user pastes into Slack."""
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command


def manifest_for(url: str) -> dict:
    out = StringIO()
    call_command("slack_manifest", "--url", url, stdout=out)
    return json.loads(out.getvalue())


def test_every_url_points_at_the_app_and_every_event_has_its_scope():
    manifest = manifest_for("https://my-bot-1a2b3c.herokuapp.com/")
    assert "YOUR-APP" not in json.dumps(manifest)
    assert manifest["settings"]["event_subscriptions"]["request_url"] == "https://my-bot-1a2b3c.herokuapp.com/slack/events"
    [slash] = manifest["features"]["slash_commands"]
    assert (slash["command"], slash["url"]) == ("/charla", "https://my-bot-1a2b3c.herokuapp.com/slack/commands")
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"app_mentions:read", "chat:write", "commands", "im:history"} <= scopes
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.im"} <= events
    for event in events:
        if event.startswith("message."):
            assert f"{event.split('.')[1]}:history" in scopes, event
    assert manifest["settings"]["socket_mode_enabled"] is False


@pytest.mark.parametrize("url", ["http://my-bot.herokuapp.com", "my-bot.herokuapp.com",
                                 "https://my-bot.herokuapp.com/slack/events"])
def test_a_url_slack_cannot_use_is_refused(url):
    with pytest.raises(CommandError):
        manifest_for(url)
