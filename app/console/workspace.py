"""The console's pretend Slack workspace: its people, its channels, and the events Slack would send.

A message typed in the console becomes the same signed `event_callback` Slack delivers to
/slack/events, so the bot cannot tell the two apart and the console exercises the real path.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from slack_sdk.signature import SignatureVerifier

from app.bot.slack_client import LOCAL_BOT_USER_ID
from app import slack_text as slack_rules
from app.console.models import ConsoleUser

TEAM_ID = "TLOCAL"
APP_ID = "ALOCALCONSOLE"
BOT_NAME = "charla"
MAX_NAME_LENGTH = 32
MAX_TEXT_LENGTH = 4000
DM_KEY = "DM"
NAME_PATTERN = re.compile(r"[\w][\w .'\-]*")
# `@ana`, `@charla`; a trailing full stop or dash is punctuation, not part of the name.
MENTION_PATTERN = re.compile(r"(?<![\w@])@(\w+(?:[.\-]\w+)*)")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class BadInput(ValueError):
    """What the person typed cannot be sent; the message says what to change."""


@dataclass(frozen=True)
class Channel:
    id: str
    label: str
    kind: str  # "channel" or "im", as Slack's channel_type


@dataclass(frozen=True)
class Person:
    id: str
    name: str


CHANNELS = {
    "CGENERAL": Channel("CGENERAL", "#general", "channel"),
    "CRANDOM": Channel("CRANDOM", "#random", "channel"),
}


def _suffix(name: str) -> str:
    # Same name (ignoring case) → same id, in every process and after restarts.
    digest = hashlib.sha256(("charlandero-console:" + name.casefold()).encode()).digest()
    return base64.b32encode(digest).decode()[:10]


def user_id_for(name: str) -> str:
    return "U" + _suffix(name)


def clean_name(raw) -> str:
    name = " ".join(str(raw or "").split())
    if not name:
        raise BadInput("Pick a user name first.")
    if len(name) > MAX_NAME_LENGTH:
        raise BadInput(f"User names are at most {MAX_NAME_LENGTH} characters.")
    if not NAME_PATTERN.fullmatch(name):
        raise BadInput("User names use letters, digits, spaces, dots, dashes and apostrophes only.")
    if name.casefold() == BOT_NAME:
        raise BadInput(f"“{BOT_NAME}” is the bot's name; pick another one.")
    return name


def remember(raw_name) -> Person:
    """The person behind a typed name, recorded so every web worker can show their name."""
    name = clean_name(raw_name)
    user_id = user_id_for(name)
    ConsoleUser.objects.update_or_create(user_id=user_id, defaults={"name": name})
    return Person(user_id, name)


def channel_for(key, person: Person | None) -> Channel:
    key = str(key or "")
    if key in CHANNELS:
        return CHANNELS[key]
    if key == DM_KEY:
        if person is None:
            raise BadInput("A direct message needs a user name.")
        # Slack gives each person one DM channel with the bot; so does the console.
        return Channel("D" + person.id[1:], f"@{BOT_NAME} (direct message)", "im")
    raise BadInput("Unknown channel; pick #general, #random or the direct message with the bot.")


def clean_text(raw) -> str:
    text = CONTROL_CHARACTERS.sub("", str(raw or "").replace("\r\n", "\n")).strip()
    if not text:
        raise BadInput("Type a message first.")
    if len(text) > MAX_TEXT_LENGTH:
        raise BadInput(f"Messages are at most {MAX_TEXT_LENGTH} characters.")
    return text


def names_for(user_ids) -> dict[str, str]:
    """Display names for user ids: the bot, and the people who used the console."""
    wanted = set(user_ids)
    names = {LOCAL_BOT_USER_ID: BOT_NAME} if LOCAL_BOT_USER_ID in wanted else {}
    rows = ConsoleUser.objects.filter(user_id__in=wanted - {LOCAL_BOT_USER_ID}).values_list("user_id", "name")
    names.update(rows)
    return names


def slack_text(text: str) -> str:
    """Text as Slack delivers it: &, < and > escaped, and @names of the bot or known people as mentions."""
    escaped = slack_rules.escape(text)
    candidates = {m.group(1) for m in MENTION_PATTERN.finditer(escaped)}
    ids = {name: (LOCAL_BOT_USER_ID if name.casefold() == BOT_NAME else user_id_for(name)) for name in candidates}
    known = set(names_for(ids.values()))

    def mention(match: re.Match) -> str:
        user_id = ids[match.group(1)]
        return slack_rules.mention(user_id) if user_id in known else match.group(0)

    return MENTION_PATTERN.sub(mention, escaped)


def message_event(person: Person, channel: Channel, text: str) -> dict:
    """The `event_callback` Slack sends when `person` writes `text` in `channel` (Events API shape)."""
    now = time.time()
    ts = f"{now:.6f}"
    return {
        "token": "local-console",
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "type": "event_callback",
        "event_id": "Ev" + uuid.uuid4().hex[:16].upper(),
        "event_time": int(now),
        "authorizations": [{"enterprise_id": None, "team_id": TEAM_ID, "user_id": LOCAL_BOT_USER_ID,
                            "is_bot": True, "is_enterprise_install": False}],
        "is_ext_shared_channel": False,
        # One `message` event: in a channel it carries <@UCHARLA>, which the bot reads as a mention.
        "event": {
            "type": "message",
            "client_msg_id": str(uuid.uuid4()),
            "user": person.id,
            "team": TEAM_ID,
            "channel": channel.id,
            "channel_type": channel.kind,
            "text": slack_text(text),
            "ts": ts,
            "event_ts": ts,
        },
    }


def signed_request(payload: dict) -> tuple[bytes, dict[str, str]]:
    """Body and headers exactly as Slack sends them: v0 HMAC-SHA256 of `v0:timestamp:body`."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    signature = SignatureVerifier(settings.CONFIG.slack_signing_secret).generate_signature(
        timestamp=timestamp, body=body)
    return body, {"Content-Type": "application/json", "X-Slack-Request-Timestamp": timestamp,
                  "X-Slack-Signature": signature}
