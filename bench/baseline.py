"""The usual Celery hand-off, kept so every bench run measures it beside ours: /bench/events-apply-async is
/slack/events with `process_event.apply_async((payload,), retry=False)` per delivery — a Celery task
message straight to `inbox` — instead of app/bot/ingress.py's plain delivery message to `deliveries`.
Benchmark only; see bench/urls.py."""
from __future__ import annotations

from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from app.bot import ingress, views
from app.bot.tasks import process_event



def _apply_async(payload: dict) -> None:
    process_event.apply_async((payload,), retry=False)


def hand_off(payload: dict, body: bytes | None = None) -> bool:
    try:
        _apply_async(payload)
        return True
    except Exception:  # as the app does: keep it in the database when the broker cannot take it
        return ingress.park(payload)


@csrf_exempt
@require_POST
def events_apply_async(request):
    """/slack/events with the usual hand-off (sync workers: one request at a time per process)."""
    current = ingress.hand_off
    ingress.hand_off = hand_off
    try:
        return views.slack_events(request)
    finally:
        ingress.hand_off = current
