"""Celery tasks: thin wrappers over the plain functions in inbox, answers and outbox.

Every task is idempotent and acknowledged late (settings), so a worker killed mid-task loses nothing:
the broker hands the task to the next worker and the database records make the repeat a no-op.
"""
from __future__ import annotations

import logging
import random

from celery import shared_task

from app.bot import answers, inbox, outbox, pacing

log = logging.getLogger(__name__)
MAX_POST_ATTEMPTS = 8


def delivery_argsrepr(payload: dict) -> str:
    """How a process_event message shows its argument in logs and monitors (flower, `celery inspect`):
    the delivery's id, never the people's words. Also spares the sender Celery's repr of the payload,
    which was ~40 % of web's hand-off CPU."""
    return f"(<{payload.get('type')} {payload.get('event_id')}>,)"


@shared_task(name="app.bot.tasks.process_event")
def process_event(payload: dict) -> None:
    outcome = inbox.handle_delivery(payload)
    if outcome.command_use_id is not None:
        answer_command.delay(outcome.command_use_id)


@shared_task(name="app.bot.tasks.answer_command")
def answer_command(command_use_id: int) -> None:
    reply = answers.answer(command_use_id)
    if reply is None:
        return
    wait = 0.0 if reply.response_url else pacing.reserve_slot(reply.team, reply.channel)
    post_reply.apply_async((reply.id,), countdown=wait or None)


@shared_task(name="app.bot.tasks.post_reply", bind=True, max_retries=MAX_POST_ATTEMPTS)
def post_reply(self, reply_id: int) -> None:
    try:
        outbox.deliver(reply_id)
    except outbox.RetryLater as later:
        if self.request.retries >= self.max_retries:
            outbox.give_up(reply_id, f"gave up after {self.request.retries + 1} attempts: {later.reason}")
            return
        # 429: exactly Retry-After; 5xx and connection errors: exponential backoff with jitter.
        countdown = later.seconds if later.seconds is not None else min(300, 2 ** self.request.retries) + random.random()
        log.warning("reply %s: %s; retrying in %.1f s", reply_id, later.reason, countdown)
        raise self.retry(countdown=countdown)


@shared_task(name="app.bot.tasks.retry_parked_events")
def retry_parked_events() -> int:
    """Hand to the inbox what web kept in the database while the broker was unreachable."""
    parked = inbox.parked_deliveries()
    for delivery in parked:
        process_event.apply_async((delivery.payload,), argsrepr=delivery_argsrepr(delivery.payload))
        inbox.unpark(delivery)
    if parked:
        log.warning("re-queued %d delivery(ies) kept while the broker was unreachable", len(parked))
    return len(parked)


@shared_task(name="app.bot.tasks.forget_old_events")
def forget_old_events() -> int:
    return inbox.forget_old_deliveries()
