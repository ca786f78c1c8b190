"""Build requests exactly as Slack sends them: signed with v0 HMAC-SHA256 over `v0:ts:body`.

Written independently of slack_sdk's verifier so the tests check our edge against the
documented scheme, not against the library's own output.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.parse
import uuid

from tests.support.fake_slack import BOT_USER_ID, TEAM_ID


def sign(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + digest}


def event_callback(event: dict, event_id: str | None = None, team: str = TEAM_ID) -> dict:
    return {
        "token": "legacy-verification-token-unused",
        "team_id": team,
        "api_app_id": "AFAKEAPP",
        "type": "event_callback",
        "event_id": event_id or "Ev" + uuid.uuid4().hex[:12].upper(),
        "event_time": int(time.time()),
        "authorizations": [{"team_id": team, "user_id": BOT_USER_ID, "is_bot": True}],
        "event": event,
    }


def new_ts() -> str:
    now = time.time()
    return f"{int(now)}.{uuid.uuid4().int % 1_000_000:06d}"


def mention(text: str, channel: str = "C0GENERAL", user: str = "U0ALICE", ts: str | None = None,
            event_id: str | None = None) -> dict:
    """An app_mention event: the bot is addressed in a channel."""
    return event_callback({
        "type": "app_mention", "user": user, "channel": channel,
        "text": f"<@{BOT_USER_ID}> {text}", "ts": ts or new_ts(), "event_ts": ts or new_ts(),
    }, event_id)


def message(text: str, channel: str = "C0GENERAL", user: str = "U0ALICE", ts: str | None = None,
            channel_type: str = "channel", event_id: str | None = None, **extra) -> dict:
    event = {"type": "message", "user": user, "channel": channel, "text": text,
             "ts": ts or new_ts(), "channel_type": channel_type}
    event.update(extra)
    return event_callback(event, event_id)


def slash_command(text: str, response_url: str, channel: str = "C0GENERAL", user: str = "U0ALICE",
                  command: str = "/charla", trigger_id: str | None = None) -> bytes:
    return urllib.parse.urlencode(slash_command_fields(text, response_url, channel, user, command, trigger_id)).encode()


def slash_command_fields(text: str, response_url: str, channel: str = "C0GENERAL", user: str = "U0ALICE",
                         command: str = "/charla", trigger_id: str | None = None) -> dict:
    """A slash command's fields: the form Slack posts over HTTP, the payload of a Socket Mode envelope."""
    return {
        "token": "unused", "team_id": TEAM_ID, "team_domain": "fake", "channel_id": channel,
        "channel_name": "general", "user_id": user, "user_name": "alice", "command": command,
        "text": text, "api_app_id": "AFAKEAPP", "response_url": response_url,
        "trigger_id": trigger_id or uuid.uuid4().hex,
    }


def signed_json(secret: str, payload: dict, timestamp: int | None = None) -> tuple[bytes, dict]:
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", **sign(secret, body, timestamp)}
    return body, headers
