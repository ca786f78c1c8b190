"""Slack's HTTP edge: verify first, then hand on; never wait on the work, never answer 500 to bad input.

Whatever bytes arrive, the answer is 4xx at worst: 413 too large, 400 not UTF-8, 401 not signed by Slack
(app/bot/signing.py), then — signed, but not a delivery the worker can process (app/bot/payload_checks.py)
— 400 with `X-Slack-No-Retry: 1`, so Slack does not resend what can never be valid.
"""
from __future__ import annotations

import logging
import urllib.parse
from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class Outcome:
    """What the edge answers: a status, the reason for a refusal, and whether Slack should not retry.
    The views turn it into Slack's HTTP answer; the local console reads it as it is."""
    status: int
    error: str = ""
    no_retry: bool = False
    body: dict | None = field(default=None, compare=False)  # a JSON answer (a challenge, a command's ack)

    @property
    def accepted(self) -> bool:
        return self.status == 200

    def response(self) -> HttpResponse:
        if self.error:
            response = JsonResponse({"ok": False, "error": self.error}, status=self.status)
            if self.no_retry:
                response["X-Slack-No-Retry"] = "1"
            return response
        if self.body is not None:
            return JsonResponse(self.body, status=self.status)
        return HttpResponse(status=self.status)


ACCEPTED = Outcome(200)


def _refused(status: int, reason: str) -> Outcome:
    return Outcome(status, reason)


def _never_valid(reason: str, status: int = 400) -> Outcome:
    """A request that would be refused the same way every time: Slack is asked not to retry it."""
    return Outcome(status, reason, no_retry=True)


def _malformed_delivery(reason: str, payload: dict) -> Outcome:
    # The reason is one of payload_checks' fixed strings; the event_id is the sender's, so it is quoted.
    log.warning("refused a signed delivery the worker could not process (%s): event_id %.80r",
                reason, payload.get("event_id"))
    return _never_valid(reason)


def _bounded_body(request) -> tuple[bytes | None, Outcome | None]:
    """The raw body, refused with 413 before it is read when it announces itself too large."""
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        return None, _refused(400, "bad_content_length")
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


def _unverified(body: bytes, headers) -> Outcome | None:
    """The one check in front of both endpoints: a body of a size Slack sends, UTF-8, signed by Slack in
    the last five minutes. None when it passes; the refusal otherwise."""
    if len(body) > settings.SLACK_MAX_BODY_BYTES:  # also when no Content-Length announced it
        return _never_valid("body_too_large", 413)
    if _not_text(body):
        return _never_valid("body_not_utf8")
    if not is_signed_by_slack(body, headers):
        return _refused(401, "invalid_signature")
    return None


def receive_event(body: bytes, headers) -> Outcome:
    """Everything /slack/events does after reading the body; the local console sends through here too."""
    refusal = _unverified(body, headers)
    if refusal:
        return refusal
    try:
        payload = parse_json_body(body)
    except PayloadError as refused:
        return _never_valid(refused.reason)
    kind = payload.get("type")
    if kind == "url_verification":
        challenge = payload.get("challenge")
        if not isinstance(challenge, str):
            return _never_valid("missing_challenge")
        return Outcome(200, body={"challenge": challenge})
    if kind == "event_callback":
        problem = problem_with_delivery(payload)
        if problem:
            return _malformed_delivery(problem, payload)
        # What is handed on is what was checked: Slack's bytes, or the payload once its text was made storable.
        return _handed_off(payload, None if needs_sanitizing(body) else body) or ACCEPTED
    if kind == "app_rate_limited":
        log.warning("Slack is rate-limiting events to this app (over 30,000 an hour): %.40r", payload.get("team_id"))
        return ACCEPTED
    return _never_valid("unknown_type")


def receive_command(body: bytes, headers) -> Outcome:
    """Everything /slack/commands does after reading the body."""
    refusal = _unverified(body, headers)
    if refusal:
        return refusal
    try:
        form = {k: v[-1] for k, v in urllib.parse.parse_qs(body.decode("utf-8"), strict_parsing=True).items()}
    except (ValueError, UnicodeDecodeError):
        return _never_valid("malformed_form")
    payload = slash_command_delivery(form)
    if isinstance(payload, Outcome):
        return payload
    refusal = _handed_off(payload)
    if refusal:
        return refusal
    return Outcome(200, body=slash_command_ack(payload))


def slash_command_delivery(form: dict) -> dict | Outcome:
    """The delivery a slash command's fields make (the same over HTTP and Socket Mode), or the refusal."""
    missing = [f for f in ("team_id", "channel_id", "user_id", "trigger_id", "response_url") if not form.get(f)]
    if missing:
        return _never_valid("missing_" + missing[0])
    # %00 in the form decodes to NUL; the payload goes to the broker and the database as built here.
    payload = sanitized({
        "type": "slash_command", "event_id": f"slash:{form['trigger_id']}",
        **{k: form.get(k, "") if isinstance(form.get(k, ""), str) else "" for k in (
            "team_id", "channel_id", "user_id", "user_name", "command", "text", "response_url")},
    })
    problem = problem_with_delivery(payload)
    if problem:
        return _malformed_delivery(problem, payload)
    return payload


def slash_command_ack(payload: dict) -> dict:
    """The immediate, ephemeral answer to a slash command that was handed on."""
    language = parse_invocation(payload["text"]).language
    ack = "Un momento…" if language == "es" else "On it…"
    asked = f"{payload['command'] or '/charla'} {payload['text']}".strip()
    return {"response_type": "ephemeral", "text": f"{ack} `{asked}`"}


def _handed_off(payload: dict, body: bytes | None = None) -> Outcome | None:
    return None if ingress.hand_off(payload, body) else _refused(503, "temporarily_unavailable")


def _answer(request, receive) -> HttpResponse:
    body, refusal = _bounded_body(request)
    return (refusal or receive(body, request.headers)).response()


def _over_http(view):
    """In Socket Mode (SLACK_APP_TOKEN) Slack sends nothing over HTTP and there may be no signing secret to
    verify with: the endpoints are not there (404)."""
    def answer(request):
        if settings.CONFIG.socket_mode:
            return JsonResponse({"ok": False, "error": "socket_mode"}, status=404)
        return view(request)
    answer.__name__ = view.__name__
    return answer


@csrf_exempt
@_over_http
@require_POST
def slack_events(request):
    return _answer(request, receive_event)


@csrf_exempt
@_over_http
@require_POST
def slack_commands(request):
    return _answer(request, receive_command)
