"""Reading Slack's payloads: what kind of message an event is and whether it asks the bot something.

A delivery is read once, at the worker's edge (the process_event task), into a Delivery that the inbox and
the message store use; payload_checks has already made sure the fields read here have the right types.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone as dt_timezone

from app import slack_text

# Subtypes that are stored but never answered: the bot's own posts, joins, topic changes, ...
ANSWERABLE_SUBTYPES = {None, "", "thread_broadcast", "file_share"}


@dataclass(frozen=True)
class CommandRequest:
    source_key: str
    team: str
    channel: str
    user: str
    text: str
    via: str
    thread_ts: str = ""
    response_url: str = ""
    bot_user: str | None = None


def ts_to_datetime(ts: str) -> datetime:
    try:
        return datetime.fromtimestamp(float(ts), tz=dt_timezone.utc)
    except (TypeError, ValueError, OverflowError):
        return datetime.now(tz=dt_timezone.utc)


def bot_user_id(payload: dict) -> str | None:
    for auth in payload.get("authorizations") or []:
        if auth.get("is_bot") and auth.get("user_id"):
            return auth["user_id"]
    return None


def is_from_a_bot(event: dict, bot_user: str | None) -> bool:
    return bool(event.get("bot_id")) or event.get("subtype") == "bot_message" or (
        bot_user is not None and event.get("user") == bot_user)


def command_request(payload: dict) -> CommandRequest | None:
    """The command an event carries, or None: mentions, DMs and (text that mentions the bot) in channels."""
    return read_delivery(payload).command


def _command_request(payload: dict, event: dict, bot_user: str | None) -> CommandRequest | None:
    if payload.get("type") == "slash_command":
        return CommandRequest(
            source_key=payload["event_id"], team=payload.get("team_id", ""), channel=payload.get("channel_id", ""),
            user=payload.get("user_id", ""), text=payload.get("text", ""), via="slash",
            response_url=payload.get("response_url", ""))
    if event.get("type") not in ("app_mention", "message") or is_from_a_bot(event, bot_user):
        return None
    if event.get("subtype") not in ANSWERABLE_SUBTYPES or not event.get("ts"):
        return None
    text = event.get("text") or ""
    if event.get("type") == "app_mention":
        via = "mention"
    elif event.get("channel_type") == "im":
        via = "dm"
    elif bot_user and slack_text.mentions(text, bot_user):
        via = "mention"  # the same message may also come as app_mention: the source key makes it count once
    else:
        return None
    team = payload.get("team_id") or event.get("team", "")
    channel = event.get("channel", "")
    return CommandRequest(
        source_key=f"msg:{team}:{channel}:{event['ts']}", team=team, channel=channel, user=event.get("user", ""),
        text=text, via=via, thread_ts=event.get("thread_ts", ""), bot_user=bot_user)


@dataclass(frozen=True)
class Delivery:
    """One Slack delivery, read once: what the inbox and the message store need from it."""
    payload: dict                     # as Slack sent it: kept with the dedupe record
    event_id: str
    is_event: bool                    # an Events API callback (not a slash command)
    team: str
    event: dict                       # the Events API event; {} for a slash command
    bot_user: str | None
    command: CommandRequest | None    # the command it carries, if any


def read_delivery(payload: dict) -> Delivery:
    event = payload.get("event") or {}
    bot_user = bot_user_id(payload)
    return Delivery(
        payload=payload, event_id=payload["event_id"], is_event=payload.get("type") == "event_callback",
        team=payload.get("team_id") or event.get("team", ""), event=event, bot_user=bot_user,
        command=_command_request(payload, event, bot_user))
