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
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import close_old_connections

from app.bot import ingress
from app.bot.payload_checks import needs_sanitizing, problem_with_decoded, sanitized
from app.bot.views import Outcome, slash_command_ack, slash_command_delivery

log = logging.getLogger(__name__)

# An envelope that has already waited this long since it arrived (for a hand-off thread, or for its turn on
# the embedded broker) is parked at once: the broker did not take it in time, as ingress decides for a slow
# publish, and the rest of Slack's 3 seconds is left for parking and the ack.
WAIT_BEFORE_PARKING = 1.0
# The embedded broker is one SQLite file, which takes one writer at a time: this process's hand-off threads
# contending for it would only add SQLite's busy-wait back-off to each other's waits. So they take turns.
_embedded_turn = threading.Lock()


@dataclass(frozen=True)
class Ack:
    """Acknowledge the envelope, with this payload when there is one (a slash command's immediate answer)."""
    payload: dict | None = None


def answer_envelope(kind: str, payload, received_at: float | None = None) -> Ack | None:
    """The acknowledgement for an envelope of type `kind`, once its delivery is safe; None: not safe (no ack).
    `received_at`: time.monotonic() when the envelope arrived."""
    # A long-lived process outside a request: drop a connection the database closed or that is past its age,
    # as Django does around each request.
    close_old_connections()
    received_at = time.monotonic() if received_at is None else received_at
    if kind == "events_api":
        return _event(payload, received_at)
    if kind == "slash_commands":
        return _slash_command(payload, received_at)
    if kind == "interactive":  # buttons and shortcuts: nothing in the bot uses them yet
        return Ack()
    log.warning("socket: acknowledged an envelope of a type the bot does not handle (%.40r)", kind)
    return Ack()


def _never_valid(reason: str, payload) -> Ack:
    event_id = payload.get("event_id") if isinstance(payload, dict) else None
    log.warning("socket: dropped an envelope the worker could not process (%s): event_id %.80r", reason, event_id)
    return Ack()


def _event(payload, received_at: float) -> Ack | None:
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
    return Ack() if _hand_off(payload, received_at, body) else None


def _hand_off(payload: dict, received_at: float, body: bytes | None = None) -> bool:
    left = WAIT_BEFORE_PARKING - (time.monotonic() - received_at)
    if left <= 0:
        return _park_waited(payload)
    if not settings.CONFIG.broker_is_embedded:
        return ingress.hand_off(payload, body)
    if not _embedded_turn.acquire(timeout=left):
        return _park_waited(payload)
    try:
        return ingress.hand_off(payload, body)
    finally:
        _embedded_turn.release()


def _park_waited(payload: dict) -> bool:
    log.warning("keeping delivery %s in the database: no hand-off to the broker within %.1f s of its arrival",
                payload.get("event_id"), WAIT_BEFORE_PARKING)
    return ingress.park(payload)


def _slash_command(form, received_at: float) -> Ack | None:
    if not isinstance(form, dict):
        return _never_valid("malformed_form", form)
    delivery = slash_command_delivery(form)
    if isinstance(delivery, Outcome):
        return Ack()  # refused and logged by slash_command_delivery
    if not _hand_off(delivery, received_at):
        return None
    return Ack(slash_command_ack(delivery))
