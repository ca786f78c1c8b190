"""Talking to Slack's Web API with slack_sdk, or — with no token — recording replies locally."""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass

from django.conf import settings
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from app.bot.models import Message
from app.bot.slack_payloads import ts_to_datetime

LOCAL_BOT_USER_ID = "UCHARLA"
REPLY_METADATA_TYPE = "charla_reply"
REQUEST_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Posted:
    ts: str


class SlackHTTPError(Exception):
    """A non-2xx answer from Slack (for response_url posts, which slack_sdk does not raise for)."""

    def __init__(self, status: int, headers: dict, body: str):
        super().__init__(f"HTTP {status}: {body[:120]}")
        self.status, self.headers, self.body = status, headers, body


@functools.lru_cache(maxsize=1)
def web_client() -> WebClient:
    # No retry handlers: the Celery task retries later instead of sleeping inside the worker.
    return WebClient(token=settings.CONFIG.slack_bot_token, base_url=settings.CONFIG.slack_api_url,
                     timeout=REQUEST_TIMEOUT_SECONDS, retry_handlers=[])


def is_local() -> bool:
    return settings.CONFIG.slack_bot_token is None


def post_message(channel: str, text: str, thread_ts: str = "", reply_id: int | None = None) -> Posted:
    # The reply's id travels as message metadata, so an attempt that is unsure whether an earlier one got
    # through can look for it (find_reply) instead of posting twice.
    metadata = {"event_type": REPLY_METADATA_TYPE, "event_payload": {"reply_id": reply_id}} if reply_id else None
    response = web_client().chat_postMessage(channel=channel, text=text, thread_ts=thread_ts or None,
                                             metadata=metadata)
    return Posted(ts=response.get("ts", ""))


def find_reply(channel: str, reply_id: int, thread_ts: str, since) -> Posted | None:
    """The message posted for this reply, if there is one in the channel (or thread) since `since`."""
    client = web_client()
    query = {"channel": channel, "oldest": f"{since.timestamp() - 1:.6f}", "include_all_metadata": True,
             "limit": 200}
    response = (client.conversations_replies(ts=thread_ts, **query) if thread_ts
                else client.conversations_history(**query))
    for message in response.get("messages") or []:
        metadata = message.get("metadata") or {}
        if (metadata.get("event_type") == REPLY_METADATA_TYPE
                and (metadata.get("event_payload") or {}).get("reply_id") == reply_id):
            return Posted(ts=message.get("ts", ""))
    return None


def post_to_response_url(url: str, text: str) -> Posted:
    response = WebhookClient(url, timeout=REQUEST_TIMEOUT_SECONDS, retry_handlers=[]).send(
        text=text, response_type="ephemeral")
    if response.status_code != 200:
        raise SlackHTTPError(response.status_code, dict(response.headers or {}), response.body or "")
    return Posted(ts="")


def record_locally(team: str, channel: str, text: str, thread_ts: str) -> Posted:
    """With no Slack app, the reply is stored as the bot's message: the console shows it."""
    ts = f"{time.time():.6f}"
    Message.objects.create(team=team, channel=channel, ts=ts, user=LOCAL_BOT_USER_ID, is_bot=True, text=text,
                           thread_ts=thread_ts, posted_at=ts_to_datetime(ts))
    return Posted(ts=ts)
