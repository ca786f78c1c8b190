"""Slack's Socket Mode edge: what one envelope becomes. The connection itself is app/queueing/socket_mode.py.

The same rules as the HTTP edge (views.py) without the signature: the WebSocket was opened with the app-level
token, so what comes over it is Slack's. A delivery is checked (payload_checks), handed on by the very same
ingress.hand_off as web's (confirmed by the broker, or parked in the database) and only then acknowledged;
when neither the broker nor the database could take it, nothing is acknowledged and Slack sends the envelope
again. What can never be valid is acknowledged and dropped with a log line, as web's 400 + X-Slack-No-Retry.
Runs in the socket process's hand-off threads (plain, blocking code: the broker's confirm, the database).
"""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass

from django.conf import settings
from django.db import close_old_connections

from app.bot import ingress
from app.bot.payload_checks import needs_sanitizing, problem_with_decoded, sanitized
from app.bot.views import Outcome, slash_command_ack, slash_command_delivery

log = logging.getLogger(__name__)

# The embedded broker is one SQLite file, which takes one writer at a time: this process's hand-off threads
# contending for it would only add SQLite's busy-wait back-off to each other's waits. So they take turns, and
# one that cannot have its turn within EMBEDDED_TURN_SECONDS is parked at once (the broker did not take it in
# time, as ingress decides for a slow publish), leaving the rest of Slack's 3 seconds for the ack.
EMBEDDED_TURN_SECONDS = 1.0
_embedded_turn = threading.Lock()


@dataclass(frozen=True)
class Ack:
    """Acknowledge the envelope, with this payload when there is one (a slash command's immediate answer)."""
    payload: dict | None = None


def answer_envelope(kind: str, payload) -> Ack | None:
    """The acknowledgement for an envelope of type `kind`, once its delivery is safe; None: not safe (no ack)."""
    # A long-lived process outside a request: drop a connection the database closed or that is past its age,
    # as Django does around each request.
    close_old_connections()
    if kind == "events_api":
        return _event(payload)
    if kind == "slash_commands":
        return _slash_command(payload)
    if kind == "interactive":  # buttons and shortcuts: nothing in the bot uses them yet
        return Ack()
    log.warning("socket: acknowledged an envelope of a type the bot does not handle (%.40r)", kind)
    return Ack()


def _never_valid(reason: str, payload) -> Ack:
    event_id = payload.get("event_id") if isinstance(payload, dict) else None
    log.warning("socket: dropped an envelope the worker could not process (%s): event_id %.80r", reason, event_id)
    return Ack()


def _event(payload) -> Ack | None:
    if not isinstance(payload, dict):
        return _never_valid("malformed_payload", payload)
    if payload.get("type") == "app_rate_limited":
        log.warning("Slack is rate-limiting events to this app (over 30,000 an hour): %.40r", payload.get("team_id"))
        return Ack()
    body = json.dumps(payload).encode()  # escapes kept: needs_sanitizing reads them
    if len(body) > settings.SLACK_MAX_BODY_BYTES:
        return _never_valid("body_too_large", payload)
    problem = problem_with_decoded(payload)
    if problem:
        return _never_valid(problem, payload)
    if needs_sanitizing(body):
        payload, body = sanitized(payload), None
    return Ack() if _hand_off(payload, body) else None


def _hand_off(payload: dict, body: bytes | None = None) -> bool:
    if not settings.CONFIG.broker_is_embedded:
        return ingress.hand_off(payload, body)
    if not _embedded_turn.acquire(timeout=EMBEDDED_TURN_SECONDS):
        log.warning("keeping delivery %s in the database: the embedded broker is busy", payload.get("event_id"))
        return ingress.park(payload)
    try:
        return ingress.hand_off(payload, body)
    finally:
        _embedded_turn.release()


def _slash_command(form) -> Ack | None:
    if not isinstance(form, dict):
        return _never_valid("malformed_form", form)
    delivery = slash_command_delivery(form)
    if isinstance(delivery, Outcome):
        return Ack()  # refused and logged by slash_command_delivery
    if not _hand_off(delivery):
        return None
    return Ack(slash_command_ack(delivery))
