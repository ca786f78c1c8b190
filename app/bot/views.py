"""Slack's HTTP edge: verify first, then hand on; never wait on the work, never answer 500 to bad input.

Whatever bytes arrive, the answer is 4xx at worst: 413 too large, 400 not UTF-8, 401 not signed by Slack
(app/bot/signing.py), then — signed, but not a delivery the worker can process (app/bot/payload_checks.py)
— 400 with `X-Slack-No-Retry: 1`, so Slack does not resend what can never be valid.
"""
from __future__ import annotations

import logging
import urllib.parse

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from app.bot import ingress
from app.bot.commands import parse_invocation
from app.bot.payload_checks import (PayloadError, needs_sanitizing, parse_json_body, problem_with_delivery,
                                    sanitized)
from app.bot.signing import is_signed_by_slack

log = logging.getLogger(__name__)


def _refuse(status: int, reason: str) -> JsonResponse:
    return JsonResponse({"ok": False, "error": reason}, status=status)


def _never_valid(reason: str, status: int = 400) -> JsonResponse:
    """A request that would be refused the same way every time: Slack is asked not to retry it."""
    response = _refuse(status, reason)
    response["X-Slack-No-Retry"] = "1"
    return response


def _malformed_delivery(reason: str, payload: dict) -> JsonResponse:
    # The reason is one of payload_checks' fixed strings; the event_id is the sender's, so it is quoted.
    log.warning("refused a signed delivery the worker could not process (%s): event_id %.80r",
                reason, payload.get("event_id"))
    return _never_valid(reason)


def _bounded_body(request) -> tuple[bytes | None, JsonResponse | None]:
    """The raw body, refused with 413 before it is read when it announces itself too large."""
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        return None, _refuse(400, "bad_content_length")
    if length > settings.SLACK_MAX_BODY_BYTES:
        return None, _never_valid("body_too_large", 413)
    return request.body, None


def _not_text(body: bytes) -> bool:
    # Slack sends UTF-8; the signature itself is computed over the decoded text.
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def accept_event(body: bytes, headers) -> HttpResponse:
    """Everything /slack/events does after reading the body; the local console sends through here too."""
    if len(body) > settings.SLACK_MAX_BODY_BYTES:
        return _never_valid("body_too_large", 413)
    if _not_text(body):
        return _never_valid("body_not_utf8")
    if not is_signed_by_slack(body, headers):
        return _refuse(401, "invalid_signature")
    try:
        payload = parse_json_body(body)
    except PayloadError as refused:
        return _never_valid(refused.reason)
    kind = payload.get("type")
    if kind == "url_verification":
        challenge = payload.get("challenge")
        if not isinstance(challenge, str):
            return _never_valid("missing_challenge")
        return JsonResponse({"challenge": challenge})
    if kind == "event_callback":
        problem = problem_with_delivery(payload)
        if problem:
            return _malformed_delivery(problem, payload)
        # What is handed on is what was checked: Slack's bytes, or the payload once its text was made storable.
        refusal = _handed_off(payload, None if needs_sanitizing(body) else body)
        return refusal or HttpResponse(status=200)
    if kind == "app_rate_limited":
        log.warning("Slack is rate-limiting events to this app (over 30,000 an hour): %.40r", payload.get("team_id"))
        return HttpResponse(status=200)
    return _never_valid("unknown_type")


def _handed_off(payload: dict, body: bytes | None = None) -> JsonResponse | None:
    return None if ingress.hand_off(payload, body) else _refuse(503, "temporarily_unavailable")


@csrf_exempt
@require_POST
def slack_events(request):
    body, refusal = _bounded_body(request)
    return refusal or accept_event(body, request.headers)


@csrf_exempt
@require_POST
def slack_commands(request):
    body, refusal = _bounded_body(request)
    if refusal:
        return refusal
    if len(body) > settings.SLACK_MAX_BODY_BYTES:
        return _never_valid("body_too_large", 413)
    if _not_text(body):
        return _never_valid("body_not_utf8")
    if not is_signed_by_slack(body, request.headers):
        return _refuse(401, "invalid_signature")
    try:
        form = {k: v[-1] for k, v in urllib.parse.parse_qs(body.decode("utf-8"), strict_parsing=True).items()}
    except (ValueError, UnicodeDecodeError):
        return _never_valid("malformed_form")
    missing = [f for f in ("team_id", "channel_id", "user_id", "trigger_id", "response_url") if not form.get(f)]
    if missing:
        return _never_valid("missing_" + missing[0])
    # %00 in the form decodes to NUL; the payload goes to the broker and the database as built here.
    payload = sanitized({
        "type": "slash_command", "event_id": f"slash:{form['trigger_id']}",
        **{k: form.get(k, "") for k in ("team_id", "channel_id", "user_id", "user_name", "command", "text",
                                         "response_url")},
    })
    problem = problem_with_delivery(payload)
    if problem:
        return _malformed_delivery(problem, payload)
    refusal = _handed_off(payload)
    if refusal:
        return refusal
    language = parse_invocation(payload["text"]).language
    ack = "Un momento…" if language == "es" else "On it…"
    asked = f"{payload['command'] or '/charla'} {payload['text']}".strip()
    return JsonResponse({"response_type": "ephemeral", "text": f"{ack} `{asked}`"})
