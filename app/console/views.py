"""The local console: a web page that talks to the bot through the same signed path Slack uses.

Whoever reaches it can post as anyone, so it is on only where it is meant to be (settings.CONFIG.console_enabled:
a local run, DEBUG, or CONSOLE_ENABLED=1) and never with a Slack app. Off, its page and API answer 404 (with
Slack credentials set, `/` says the bot lives in Slack), so nothing can be sent or read through it.
"""
from __future__ import annotations

import functools
import json
import logging

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from app import slack_text
from app.bot.models import InboundEvent
from app.bot.selectors import recent_messages
from app.bot.views import receive_event
from app.console import status, workspace
from app.console.workspace import BadInput

log = logging.getLogger(__name__)
FEED_LIMIT = 50
FAVICON = "console/favicon.svg"


def _enabled() -> bool:
    # Both checks: console mode is "no token", and replies only land in the database without one.
    return settings.CONFIG.console_enabled and settings.CONFIG.slack_bot_token is None


def console_only(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not _enabled():
            raise Http404("The local console is off.")
        return view(request, *args, **kwargs)
    return wrapper


def _bad(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"ok": False, "error": message}, status=status)


def _static(path: str) -> str | None:
    """The static file's URL, or None when `collectstatic` has not run (the manifest is missing)."""
    try:
        return staticfiles_storage.url(path)
    except ValueError:
        log.error("static file %s is not collected: run `python manage.py collectstatic --noinput`", path)
        return None


@require_safe
def index(request):
    if not _enabled():
        if settings.CONFIG.slack_bot_token:
            return render(request, "console/connected.html", {"favicon": _static(FAVICON)})
        return render(request, "console/off.html", {"favicon": _static(FAVICON)}, status=404)
    get_token(request)
    css, js = _static("console/console.css"), _static("console/console.js")
    context = {
        "channels": [*workspace.CHANNELS.values(),
                     workspace.Channel(workspace.DM_KEY, f"@{workspace.BOT_NAME}", "im")],
        "default_name": "ana",
        "bot_name": workspace.BOT_NAME,
        "max_text_length": workspace.MAX_TEXT_LENGTH,
        "max_name_length": workspace.MAX_NAME_LENGTH,
        "css": css,
        "js": js,
        "favicon": _static(FAVICON),
        "config": {"sendUrl": reverse("console-send"), "feedUrl": reverse("console-feed"),
                   "botName": workspace.BOT_NAME, "dmKey": workspace.DM_KEY},
        **status.snapshot(workspace.TEAM_ID),
    }
    return render(request, "console/index.html", context)


@require_safe
def favicon(request):
    """Browsers ask for /favicon.ico on every page (the admin's too): the bot's icon, console on or off."""
    url = _static(FAVICON)
    if url is None:
        raise Http404("static files are not collected")
    return HttpResponseRedirect(url)


def _posted(request) -> dict:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise BadInput("The request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise BadInput("Send a JSON object with user, channel and text.")
        return data
    return request.POST.dict()


@require_POST
@console_only
def send(request):
    """Turn what was typed into a signed Slack event and hand it to the code behind /slack/events."""
    try:
        data = _posted(request)
        person = workspace.remember(data.get("user"))
        channel = workspace.channel_for(data.get("channel"), person)
        text = workspace.clean_text(data.get("text"))
    except BadInput as problem:
        return _bad(str(problem))
    payload = workspace.message_event(person, channel, text)
    body, headers = workspace.signed_request(payload)
    answer = receive_event(body, headers)
    if not answer.accepted:
        log.warning("console message refused by the events edge: %s %s", answer.status, answer.error)
        return JsonResponse({"ok": False, "error": answer.error or "refused", "status": answer.status},
                            status=answer.status)
    # 200 means the delivery is safe: queued, or kept in the database while the broker does not answer (then
    # beat hands it on when the broker is back). The page says which, instead of an endless "sending…".
    kept = InboundEvent.objects.filter(key=payload["event_id"], parked=True).exists()
    return JsonResponse({"ok": True, "status": answer.status, "ts": payload["event"]["ts"], "kept": kept,
                         "channel": channel.id, "user": {"id": person.id, "name": person.name}})


def _message_json(message, names: dict[str, str]) -> dict:
    return {"id": message.id, "ts": message.ts, "user": message.user, "name": names.get(message.user, message.user),
            "is_bot": message.is_bot, "text": message.text, "thread_ts": message.thread_ts,
            "posted_at": message.posted_at.isoformat(), "edited": message.edited_at is not None}


@require_safe
@console_only
def feed(request):
    """Messages in a channel after a given id, with the names they mention, and the side panels."""
    try:
        after = int(request.GET.get("after") or 0)
    except ValueError:
        return _bad("`after` must be a message id (a whole number).")
    if after < 0:
        return _bad("`after` must be a message id (a whole number).")
    try:
        key = request.GET.get("channel")
        person = None
        if key == workspace.DM_KEY:
            name = workspace.clean_name(request.GET.get("user"))
            person = workspace.Person(workspace.user_id_for(name), name)
        channel = workspace.channel_for(key, person)
    except BadInput as problem:
        return _bad(str(problem))

    messages = recent_messages(channel.id, after_id=after, limit=FEED_LIMIT)
    user_ids = {m.user for m in messages if m.user}
    for message in messages:
        user_ids.update(slack_text.USER_MENTION.findall(message.text))
    names = workspace.names_for(user_ids)
    return JsonResponse({
        "channel": {"id": channel.id, "label": channel.label},
        "messages": [_message_json(m, names) for m in messages],
        "last_id": messages[-1].id if messages else after,
        "names": names,
        **status.snapshot(workspace.TEAM_ID),
    })
