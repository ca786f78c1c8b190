"""Is this a delivery we can process? One place for the answer, used by web (before answering Slack) and
by the worker (before touching the database).

- `parse_json_body` turns a verified body into a dict: strict UTF-8, no byte-order mark, standard JSON
  only (no NaN/Infinity), at most MAX_DEPTH levels of nesting.
- `problem_with_delivery` checks the fields the worker reads (app/bot/inbox.py, message_store.py,
  slack_payloads.py): their types, and their lengths against the database columns they end up in —
  PostgreSQL refuses an over-long value where SQLite stores it.
- `sanitized` makes text storable: PostgreSQL's text and jsonb refuse NUL, and psycopg cannot encode a
  lone surrogate (both arrive as JSON escapes, \\u0000 and \\ud800); `needs_sanitizing` tells from the
  body, cheaply, whether there may be any.

A payload that fails here will fail the same way every time: web answers it 400 with X-Slack-No-Retry.
"""
from __future__ import annotations

import itertools
import json
import math
import re

from app.bot.models import CommandUse, InboundEvent, Message

# Deeper than any real Slack payload (an edit whose messages carry rich-text blocks and attachments nests
# 14 levels: tests/unit/test_payload_checks.py), far below what json and pickle recurse through (json.loads
# raises RecursionError near 900 levels; a payload 500 deep parses, then stops the worker's hand-off to its
# pool).
MAX_DEPTH = 32

_SLACK_ID = Message._meta.get_field("channel").max_length  # team, channel, user, ts, thread_ts columns
_SUBTYPE = Message._meta.get_field("subtype").max_length
_EVENT_ID = InboundEvent._meta.get_field("key").max_length
_RESPONSE_URL = CommandUse._meta.get_field("response_url").max_length

# (field, longest value the database column takes or None for any length, whether null is read safely)
_MESSAGE_FIELDS = (
    ("user", _SLACK_ID, False), ("ts", _SLACK_ID, True), ("thread_ts", _SLACK_ID, False),
    ("subtype", _SUBTYPE, True), ("text", None, True), ("bot_id", None, True),
)
_EVENT_FIELDS = _MESSAGE_FIELDS + (
    ("team", _SLACK_ID, False), ("channel", _SLACK_ID, False), ("channel_type", None, True),
    ("deleted_ts", _SLACK_ID, True),
)
_SLASH_FIELDS = (
    ("team_id", _SLACK_ID, False), ("channel_id", _SLACK_ID, False), ("user_id", _SLACK_ID, False),
    ("user_name", None, False), ("command", None, False), ("text", None, False),
    ("response_url", _RESPONSE_URL, False),
)
_MESSAGE_TYPES = ("message", "app_mention")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


class PayloadError(ValueError):
    """A body that is not a delivery we can process; `reason` is short and machine-readable."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _finite_float(literal: str) -> float:
    number = float(literal)
    if math.isinf(number):  # 1e999: json reads it as inf, which jsonb and JSON itself cannot hold
        raise PayloadError("non_finite_number")
    return number


def _no_constant(name: str):
    raise PayloadError("non_finite_number")  # NaN, Infinity, -Infinity: not JSON


_DECODER = json.JSONDecoder(parse_float=_finite_float, parse_constant=_no_constant)


def parse_json_body(body: bytes) -> dict:
    """The body as a dict, or PayloadError. The result is already `sanitized`."""
    if body.startswith(b"\xef\xbb\xbf"):
        raise PayloadError("utf8_bom")  # Slack never sends one; the worker's JSON decoder refuses it
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("body_not_utf8") from None
    try:
        payload = _DECODER.decode(text)
    except PayloadError:
        raise
    except RecursionError:
        raise PayloadError("too_deep") from None
    except ValueError:  # JSONDecodeError, or an integer past Python's digit limit
        raise PayloadError("malformed_json") from None
    if not isinstance(payload, dict):
        raise PayloadError("malformed_payload")
    if _deeper_than(payload, MAX_DEPTH):
        raise PayloadError("too_deep")
    return sanitized(payload) if needs_sanitizing(body) else payload


def needs_sanitizing(body: bytes) -> bool:
    """Whether this JSON may carry text the database cannot store. JSON can only write NUL and surrogates
    as escapes (a raw NUL is not valid JSON, a raw surrogate is not UTF-8), so a scan for those escapes
    decides it; escaped pairs (emoji) match too, and sanitizing them changes nothing."""
    return _UNSTORABLE_ESCAPE.search(body) is not None


def _deeper_than(value, limit: int) -> bool:
    """Whether containers nest more than `limit` levels (the value itself is level 1). Level by level: it
    never recurses, stops at the first level past the limit, and costs next to nothing for text."""
    level = [value]
    for _ in range(limit):
        below = []
        keep = below.append
        for container in level:
            for item in (container.values() if type(container) is dict else container):
                if type(item) is dict or type(item) is list:
                    keep(item)
        if not below:
            return False
        level = below
    return True


def sanitized(value):
    """`value` with every string the database can store: NUL removed, lone surrogates replaced by U+FFFD,
    in keys and values of nested dicts and lists. Returns `value` itself when there is nothing to fix.
    Recursive: call it on parsed JSON (nested at most MAX_DEPTH when it came through parse_json_body)."""
    if isinstance(value, str):
        if value.isascii():
            return value.replace("\x00", "") if "\x00" in value else value
        return _UNSTORABLE.sub(_storable, value) if _UNSTORABLE.search(value) else value
    if isinstance(value, dict):
        fixed = None  # a copy, started at the first entry that changes
        for position, (key, item) in enumerate(value.items()):
            new_key, new_item = sanitized(key), sanitized(item)
            if fixed is None and (new_key is not key or new_item is not item):
                fixed = dict(itertools.islice(value.items(), position))
            if fixed is not None:
                fixed[new_key] = new_item
        return value if fixed is None else fixed
    if isinstance(value, list):
        fixed = None
        for position, item in enumerate(value):
            new_item = sanitized(item)
            if fixed is None and new_item is not item:
                fixed = value[:position]
            if fixed is not None:
                fixed.append(new_item)
        return value if fixed is None else fixed
    return value


def _storable(match: re.Match) -> str:
    return "" if match.group() == "\x00" else "\ufffd"


def problem_with_decoded(payload) -> str | None:
    """problem_with_delivery for a payload someone else parsed (the worker's consumer gets it from kombu),
    with the nesting limit parse_json_body enforces: deeper, it would break the hand-off to a pool child."""
    if isinstance(payload, (dict, list)) and _deeper_than(payload, MAX_DEPTH):
        return "too_deep"
    return problem_with_delivery(payload)


def problem_with_delivery(payload: dict) -> str | None:
    """Why the worker could not process this payload (a short reason), or None when it can.

    Two kinds: Slack's `event_callback`, and the `slash_command` payload web builds from a slash command's
    form (app/bot/views.py). Only fields the worker reads are checked, so events of types the bot does
    not handle pass as long as their envelope is sound.
    """
    if not isinstance(payload, dict):
        return "malformed_payload"
    kind = payload.get("type")
    if kind not in ("event_callback", "slash_command"):
        return "unknown_type"
    problem = _required_text(payload, "event_id", _EVENT_ID)
    if problem:
        return problem
    if kind == "slash_command":
        return _required_fields(payload, _SLASH_FIELDS, "") or _response_url_problem(payload["response_url"])
    return _event_callback_problem(payload)


def _event_callback_problem(payload: dict) -> str | None:
    problem = _text_fields(payload, (("team_id", _SLACK_ID, True),), "")
    if problem:
        return problem
    authorizations = payload.get("authorizations")
    if authorizations is not None:
        if not isinstance(authorizations, list):
            return "bad_field:authorizations"
        for authorization in authorizations:
            if not isinstance(authorization, dict):
                return "bad_field:authorizations"
            if not isinstance(authorization.get("is_bot", False), (bool, type(None))):
                return "bad_field:authorizations.is_bot"
            problem = _text_fields(authorization, (("user_id", _SLACK_ID, True),), "authorizations.")
            if problem:
                return problem
    event = payload.get("event")
    if event is None:
        return "missing_field:event"
    if not isinstance(event, dict):
        return "bad_field:event"
    problem = _required_text(event, "type", None, "event.")
    if problem or event["type"] not in _MESSAGE_TYPES:
        return problem  # the worker reads nothing more of other event types
    problem = _text_fields(event, _EVENT_FIELDS, "event.")
    if problem:
        return problem
    for name, fields in (("message", _MESSAGE_FIELDS), ("previous_message", (("ts", _SLACK_ID, True),))):
        inner = event.get(name)
        if inner is None:
            continue
        if not isinstance(inner, dict):
            return f"bad_field:event.{name}"
        problem = _text_fields(inner, fields, f"event.{name}.")
        if problem:
            return problem
    return None


def _required_text(container: dict, name: str, limit: int | None, where: str = "") -> str | None:
    if container.get(name) in (None, ""):
        return f"missing_field:{where}{name}"
    return _text_fields(container, ((name, limit, False),), where)


def _required_fields(container: dict, fields, where: str) -> str | None:
    missing = next((name for name, _, _ in fields if name not in container), None)
    return f"missing_field:{where}{missing}" if missing else _text_fields(container, fields, where)


def _text_fields(container: dict, fields, where: str) -> str | None:
    """Each named field, when present, is a string no longer than its column (or null where allowed)."""
    for name, limit, nullable in fields:
        if name not in container:
            continue
        value = container[name]
        if value is None and nullable:
            continue
        if not isinstance(value, str):
            return f"bad_field:{where}{name}"
        if limit is not None and len(value) > limit:
            return f"too_long:{where}{name}"
    return None


def _response_url_problem(url: str) -> str | None:
    return None if url.startswith(("https://", "http://")) else "bad_field:response_url"
