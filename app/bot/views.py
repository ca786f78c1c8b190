"""Slack's HTTP edge: verify first, then hand on; never wait on the work, never answer 500 to bad input."""
from __future__ import annotations

import json
import logging
import urllib.parse

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from app.bot import ingress
from app.bot.commands import parse_invocation
from app.bot.signing import is_signed_by_slack

log = logging.getLogger(__name__)


def _refuse(status: int, reason: str) -> JsonResponse:
    return JsonResponse({"ok": False, "error": reason}, status=status)


def _bounded_body(request) -> tuple[bytes | None, JsonResponse | None]:
    """The raw body, refused with 413 before it is read when it announces itself too large."""
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        return None, _refuse(400, "bad_content_length")
    if length > settings.SLACK_MAX_BODY_BYTES:
        return None, _refuse(413, "body_too_large")
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
        return _refuse(413, "body_too_large")
    if _not_text(body):
        return _refuse(400, "body_not_utf8")
    if not is_signed_by_slack(body, headers):
        return _refuse(401, "invalid_signature")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _refuse(400, "malformed_json")
    if not isinstance(payload, dict):
        return _refuse(400, "malformed_payload")
    kind = payload.get("type")
    if kind == "url_verification":
        challenge = payload.get("challenge")
        if not isinstance(challenge, str):
            return _refuse(400, "missing_challenge")
        return JsonResponse({"challenge": challenge})
    if kind == "event_callback":
        if not isinstance(payload.get("event_id"), str) or not isinstance(payload.get("event"), dict):
            return _refuse(400, "malformed_event")
        refusal = _handed_off(payload, body)
        return refusal or HttpResponse(status=200)
    if kind == "app_rate_limited":
        log.warning("Slack is rate-limiting events to this app (over 30,000 an hour): %s", payload.get("team_id"))
        return HttpResponse(status=200)
    return _refuse(400, "unknown_type")


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
        return _refuse(413, "body_too_large")
    if _not_text(body):
        return _refuse(400, "body_not_utf8")
    if not is_signed_by_slack(body, request.headers):
        return _refuse(401, "invalid_signature")
    try:
        form = {k: v[-1] for k, v in urllib.parse.parse_qs(body.decode("utf-8"), strict_parsing=True).items()}
    except (ValueError, UnicodeDecodeError):
        return _refuse(400, "malformed_form")
    missing = [f for f in ("team_id", "channel_id", "user_id", "trigger_id", "response_url") if not form.get(f)]
    if missing or not form.get("response_url", "").startswith(("https://", "http://")):
        return _refuse(400, "missing_" + (missing[0] if missing else "response_url"))
    payload = {
        "type": "slash_command", "event_id": f"slash:{form['trigger_id']}",
        **{k: form.get(k, "") for k in ("team_id", "channel_id", "user_id", "user_name", "command", "text",
                                         "response_url")},
    }
    refusal = _handed_off(payload)
    if refusal:
        return refusal
    language = parse_invocation(form.get("text", "")).language
    ack = "Un momento…" if language == "es" else "On it…"
    asked = f"{form.get('command') or '/charla'} {form.get('text', '')}".strip()
    return JsonResponse({"response_type": "ephemeral", "text": f"{ack} `{asked}`"})
