"""Slack's text rules (app/slack_text.py) as the bot applies them to what people write."""
from __future__ import annotations

from app.bot.slack_payloads import command_request
from app.slack_text import mentions
from tests.support import slack_requests


def test_a_mention_names_one_user_exactly_with_or_without_a_label():
    assert mentions("<@U1> help", "U1") and mentions("hi <@U1|charla> help", "U1")
    assert not mentions("<@U12> help", "U1")   # another user whose id starts the same
    assert not mentions("<@U1X|someone> hi", "U1")


def test_a_channel_message_that_mentions_another_bot_with_a_longer_id_is_not_a_command():
    bot = slack_requests.BOT_USER_ID
    for text, answered in ((f"<@{bot}> help", True), (f"<@{bot}9> help", False)):
        payload = slack_requests.message(text, channel_type="channel")  # authorizations name the bot
        assert (command_request(payload) is not None) is answered, text
