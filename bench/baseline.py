"""The hand-off as it was before the change in app/bot/ingress.py (process_event.apply_async per call),
kept here so every bench run measures both side by side: /bench/events-apply-async is /slack/events with
this hand-off. Benchmark only; see bench/urls.py."""
from __future__ import annotations

from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from app.bot import ingress, views
from app.bot.tasks import process_event


def _apply_async(args: tuple) -> None:
    process_event.apply_async(args, retry=False)


_app_hand_off = ingress.hand_off  # the real one: events_apply_async swaps ingress.hand_off below


def hand_off(payload: dict) -> bool:
    return _app_hand_off(payload, publish=_apply_async)


@csrf_exempt
@require_POST
def events_apply_async(request):
    """/slack/events with the previous hand-off (sync workers: one request at a time per process)."""
    current = ingress.hand_off
    ingress.hand_off = hand_off
    try:
        return views.slack_events(request)
    finally:
        ingress.hand_off = current
