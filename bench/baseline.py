"""The usual Celery hand-off, kept so every bench run measures it beside ours: /bench/events-apply-async is
/slack/events with `process_event.apply_async((payload,), retry=False)` per delivery — a Celery task
message straight to `inbox` — instead of app/bot/ingress.py's plain delivery message to `deliveries`.
Benchmark only; see bench/urls.py."""
from __future__ import annotations

import threading

from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from app.bot import ingress, views
from app.bot.tasks import process_event

# This view's requests take the usual hand-off; every other request keeps the app's. Chosen per thread, once
# for all: swapping ingress.hand_off around each request would leak between a threaded worker's concurrent
# requests (an earlier version did: under gthread, /slack/events was partly measured with apply_async).
_app_hand_off = ingress.hand_off
_this_request = threading.local()


def _apply_async(payload: dict) -> None:
    process_event.apply_async((payload,), retry=False)


def hand_off(payload: dict, body: bytes | None = None) -> bool:
    try:
        _apply_async(payload)
        return True
    except Exception:  # as the app does: keep it in the database when the broker cannot take it
        return ingress.park(payload)


def _either_hand_off(payload: dict, body: bytes | None = None) -> bool:
    if getattr(_this_request, "usual", False):
        return hand_off(payload, body)
    return _app_hand_off(payload, body)


ingress.hand_off = _either_hand_off  # bench.urls imports this module: only the benchmark's web has it


@csrf_exempt
@require_POST
def events_apply_async(request):
    """/slack/events with the usual hand-off."""
    _this_request.usual = True
    try:
        return views.slack_events(request)
    finally:
        _this_request.usual = False
