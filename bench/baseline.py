"""The hand-off as it was before the change in app/bot/ingress.py (process_event.apply_async per call),
kept here so every bench run measures both side by side: /bench/events-apply-async is /slack/events with
this hand-off. Benchmark only; see bench/urls.py."""
from __future__ import annotations

import logging

from django.db import DatabaseError
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from app.bot import ingress, views
from app.bot.models import InboundEvent
from app.bot.tasks import process_event

log = logging.getLogger(__name__)


def hand_off(payload: dict) -> bool:
    try:
        process_event.apply_async((payload,), retry=False)
        return True
    except Exception as exc:
        log.warning("broker unreachable (%s: %s); keeping delivery %s in the database",
                    type(exc).__name__, exc, payload.get("event_id"))
    try:
        InboundEvent.objects.get_or_create(key=payload["event_id"], defaults={"payload": payload, "parked": True})
        return True
    except DatabaseError as exc:
        log.error("neither broker nor database can take delivery %s (%s); answering 503 so Slack retries",
                  payload.get("event_id"), exc)
        return False


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
