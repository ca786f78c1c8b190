"""Announcements: any service makes the bot speak (docs/announcements.md has the contract).

A message checked against the JSON Schema in schemas/announcement.schema.json (the same file the producers'
documentation and the tests read) becomes a Reply with no command, recorded once per (source, id), and is
posted by the outbox like any reply: paced per channel, retried on 429/5xx, looked up by its metadata before
a second attempt, shown in the local console when there is no Slack app.
"""
from __future__ import annotations

import functools
import json
import re
from pathlib import Path

from django.db import IntegrityError, transaction
from jsonschema import Draft202012Validator

from app.bot.models import Announcement, Reply
from app.bot.payload_checks import sanitized
from app.queueing.layout import ANNOUNCE_ROUTING_PREFIX

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "announcement.schema.json"
# Where an announcement sent as a Celery task (app.bot.tasks.announce) comes from, whatever its routing key.
CELERY_SOURCE = "celery"
SOURCE_PATTERN = re.compile(r"[a-z0-9-]{1,40}")
FIELDS = ("id", "channel", "text", "thread_ts", "team")


class InvalidAnnouncement(ValueError):
    """The message breaks the contract; `reason` says where (kept with the dead letter)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@functools.lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    Draft202012Validator.check_schema(schema())
    return Draft202012Validator(schema())


def problem_with(message) -> str | None:
    """Why `message` (decoded JSON) is not an announcement, in one short line; None when it is one."""
    error = next(iter(sorted(_validator().iter_errors(message), key=lambda e: list(e.absolute_path))), None)
    if error is None:
        return None
    where = ".".join(str(part) for part in error.absolute_path) or "message"
    detail = error.message if len(error.message) <= 120 else error.message[:60] + " … " + error.message[-50:]
    return f"{where}: {detail}"


def source_of(routing_key: str | None) -> str | None:
    """`announce.<source>` → source; None when the key does not follow the contract."""
    if not routing_key or not routing_key.startswith(ANNOUNCE_ROUTING_PREFIX):
        return None
    source = routing_key[len(ANNOUNCE_ROUTING_PREFIX):]
    return source if SOURCE_PATTERN.fullmatch(source) else None


def record(source: str, message: dict) -> Reply | None:
    """Record the announcement once per (source, id). Returns its new reply, to be posted; None for an id
    seen before (a republish, or this task redelivered): if the attempt that recorded it died before handing
    it on, the reconciler posts it (app/bot/reconciler.py re-drives every pending reply). Raises
    InvalidAnnouncement for a message that breaks the contract: it will break it every time."""
    if not isinstance(source, str) or not SOURCE_PATTERN.fullmatch(source):
        raise InvalidAnnouncement(f"source: {source!r} is not [a-z0-9-]{{1,40}}")
    problem = problem_with(message)
    if problem:
        raise InvalidAnnouncement(problem)
    key = message["id"]
    try:
        with transaction.atomic():
            reply = Reply.objects.create(
                team=message.get("team") or "", channel=message["channel"], text=sanitized(message["text"]),
                thread_ts=message.get("thread_ts") or "")
            Announcement.objects.create(source=source, key=sanitized(key), reply=reply)
    except IntegrityError:
        return None
    return reply
