"""Celery tasks: thin wrappers over the plain functions in inbox, answers, outbox and the reconciler.

Every task is idempotent and acknowledged late (settings), so a worker killed mid-task loses nothing: the
broker hands the task to the next worker and the database records make the repeat a no-op. What can go
wrong inside a task is handled once, in BotTask, for all of them: a database or broker that is briefly
gone is waited out and the task rescheduled — never dropped — and a task that keeps failing for any other
reason becomes a dead letter instead of looping or vanishing.
"""
from __future__ import annotations

import logging
import time
import traceback

from celery import Task, shared_task
from celery.exceptions import Reject, Retry
from kombu.exceptions import OperationalError as BrokerError

from app.bot import (announcements, answers, dead_letters, inbox, leases, outbox, pacing, reconciler, retrying,
                     slack_payloads)
from app.queueing import layout

log = logging.getLogger(__name__)
MAX_POST_ATTEMPTS = 8
# A task that fails this many times for a reason that is not an outage is kept as a dead letter.
POISON_ATTEMPTS = 3
OUTAGE_ERRORS = (*retrying.TRANSIENT_DATABASE_ERRORS, BrokerError, ConnectionError, TimeoutError)


class BotTask(Task):
    def apply_async(self, args=None, kwargs=None, **options):
        # Every send of these tasks comes through here, retries included (Task.retry sends through its
        # signature, which calls this): one place where a countdown becomes one the queues take (quorum
        # queues refuse a delay under a second).
        if "countdown" in options:
            options["countdown"] = layout.countdown(options["countdown"])
        return super().apply_async(args, kwargs, **options)

    def __call__(self, *args, **kwargs):
        try:
            return retrying.with_database_retries(self.run, *args, **kwargs)
        except Retry:
            raise
        except Reject as rejected:
            raise _requeued(rejected) from None
        except OUTAGE_ERRORS as exc:
            log.warning("%s[%s]: %s: %s; rescheduled", self.name, self.request.id, type(exc).__name__, exc)
            raise self._later(exc, retrying.backoff(self.request.retries, first=2.0, cap=60.0)) from None
        except Exception as exc:
            attempts = self.request.retries + 1
            if attempts < POISON_ATTEMPTS:
                log.exception("%s[%s] failed (attempt %d of %d)", self.name, self.request.id, attempts,
                              POISON_ATTEMPTS)
                raise self._later(exc, retrying.backoff(self.request.retries)) from None
            return self._dead_letter(exc, args, kwargs, attempts)

    def _dead_letter(self, exc, args, kwargs, attempts):
        detail = traceback.format_exc()
        try:
            retrying.with_database_retries(
                dead_letters.record, self.name, f"{type(exc).__name__}: {exc}", key=self.request.id or "",
                payload={"args": list(args), "kwargs": kwargs}, detail=detail, attempts=attempts)
        except retrying.TRANSIENT_DATABASE_ERRORS as db_exc:  # keep the message until it can be recorded
            raise self._later(db_exc, retrying.backoff(self.request.retries, first=2.0, cap=60.0)) from None
        return None

    def _later(self, exc, countdown: float):
        """Reschedule this task; if the broker cannot take the new message, hand this one back instead."""
        try:
            return self.retry(exc=exc, countdown=countdown, max_retries=None, throw=False)
        except Reject as rejected:
            return _requeued(rejected)


def _requeued(rejected: Reject) -> Reject:
    # Celery rejects without requeueing when a retry cannot be published, which would drop the message.
    if not rejected.requeue:
        time.sleep(1)  # the broker just failed us: no tight loop
        return Reject(rejected.reason, requeue=True)
    return rejected


def delivery_argsrepr(payload: dict) -> str:
    """How a process_event message shows its argument in logs and monitors (flower, `celery inspect`):
    the delivery's id, never the people's words. Also spares the sender Celery's repr of the payload."""
    return f"(<{payload.get('type')} {payload.get('event_id')}>,)"


def hand_on_delivery(payload: dict) -> None:
    process_event.apply_async((payload,), argsrepr=delivery_argsrepr(payload))


def schedule_post(reply_id: int, wait: float, redrive: bool = False) -> None:
    # Recorded first, so that if the publish is lost the reconciler sees the reply overdue. A reply posted at
    # once needs no record: until it has one, its creation time is what the reconciler goes by.
    if wait > 0 or redrive:
        outbox.expect_attempt(reply_id, wait)
    post_reply.apply_async((reply_id,), countdown=wait or None)


@shared_task(base=BotTask, name="app.bot.tasks.process_event")
def process_event(payload: dict) -> None:
    outcome = inbox.handle_delivery(slack_payloads.read_delivery(payload))
    if outcome.command_use_id is not None:
        answer_now(outcome.command_use_id)


def answer_now(command_use_id: int) -> None:
    """Answer a command just recorded, and post the reply, in the task that recorded it: the common case
    costs no further trip through the broker. Whatever cannot be done now is handed, confirmed, to the task
    that does it later (answer_command, post_reply), with that task's retries. A worker killed in between
    leaves a recorded command, or a pending reply, that the reconciler re-drives."""
    try:
        reply, wait = _answered(command_use_id)
    except Exception as exc:  # a database error, or a bug: answer_command retries it, or keeps it as a dead letter
        log.warning("command %s: answering it now failed (%s: %s); queued", command_use_id, type(exc).__name__, exc)
        answer_command.delay(command_use_id)
        return
    if reply is None:
        return
    if wait:
        schedule_post(reply.id, wait)
        return
    try:
        outbox.deliver(reply.id)
    except outbox.RetryLater as later:
        post_reply.apply_async((reply.id,), countdown=_next_attempt(reply.id, later, retries=0))
    except Exception as exc:  # a database error, or a bug: post_reply retries it (its claim keeps it once)
        log.warning("reply %s: posting it now failed (%s: %s); queued", reply.id, type(exc).__name__, exc)
        post_reply.delay(reply.id)


def _answered(command_use_id: int):
    """The command's reply still to post (or None), and how long its channel's pace says to wait first."""
    reply = answers.answer(command_use_id)
    if reply is None:
        return None, 0.0
    return reply, 0.0 if reply.response_url else pacing.reserve_slot(reply.team, reply.channel)


def _next_attempt(reply_id: int, later: outbox.RetryLater, retries: int) -> float:
    """When to try the post again, recorded for the reconciler. 429: exactly Retry-After; 5xx and connection
    errors: exponential backoff with jitter."""
    countdown = later.seconds if later.seconds is not None else retrying.backoff(retries, first=2.0, cap=300.0)
    log.warning("reply %s: %s; retrying in %.1f s", reply_id, later.reason, countdown)
    outbox.expect_attempt(reply_id, countdown)
    return countdown


@shared_task(base=BotTask, name="app.bot.tasks.answer_command")
def answer_command(command_use_id: int) -> None:
    reply, wait = _answered(command_use_id)
    if reply is not None:
        schedule_post(reply.id, wait)


@shared_task(base=BotTask, name="app.bot.tasks.post_reply", bind=True, max_retries=MAX_POST_ATTEMPTS)
def post_reply(self, reply_id: int) -> None:
    try:
        outbox.deliver(reply_id)
    except outbox.RetryLater as later:
        if self.request.retries >= self.max_retries:
            outbox.give_up(reply_id, f"gave up after {self.request.retries + 1} attempts: {later.reason}")
            return
        raise self.retry(countdown=_next_attempt(reply_id, later, self.request.retries))


@shared_task(base=BotTask, name="app.bot.tasks.announce")
def announce(id: str, channel: str, text: str, thread_ts: str | None = None, team: str | None = None,
             source: str = announcements.CELERY_SOURCE) -> None:
    """Post an announcement once per (source, id) (docs/announcements.md). Other languages send this task
    with keyword arguments id, channel, text, thread_ts; the announcements consumer adds the source."""
    message = {"id": id, "channel": channel, "text": text, "thread_ts": thread_ts, "team": team}
    try:
        reply = announcements.record(source, {k: v for k, v in message.items() if v is not None})
    except announcements.InvalidAnnouncement as invalid:  # the same every time: kept, never retried
        dead_letters.record("app.bot.tasks.announce", invalid.reason, payload={"source": source, **message},
                            key=str(id)[:160])
        return
    if reply is not None:
        schedule_post(reply.id, pacing.reserve_slot(reply.team, reply.channel))


@shared_task(base=BotTask, name="app.bot.tasks.retry_parked_events")
def retry_parked_events() -> int:
    """Hand to the inbox what web kept in the database while the broker was unreachable."""
    with leases.single_flight("retry-parked-events") as mine:
        if not mine:
            return 0
        parked = inbox.parked_deliveries()
        for delivery in parked:
            hand_on_delivery(delivery.payload)
            inbox.unpark(delivery)
    if parked:
        log.warning("re-queued %d delivery(ies) kept while the broker was unreachable", len(parked))
    return len(parked)


@shared_task(base=BotTask, name="app.bot.tasks.reconcile")
def reconcile() -> int:
    """Re-drive work the database shows as stuck (see app/bot/reconciler.py)."""
    with leases.single_flight("reconcile") as mine:
        if not mine:
            return 0
        stuck = reconciler.find_stuck()
        for payload in stuck.deliveries:
            hand_on_delivery(payload)
        for command_use_id in stuck.commands:
            answer_command.delay(command_use_id)
        for reply_id in stuck.replies:
            schedule_post(reply_id, 0.0, redrive=True)
    count = len(stuck.deliveries) + len(stuck.commands) + len(stuck.replies)
    if count:
        log.warning("reconciler re-drove %d delivery(ies), %d command(s), %d reply(ies)",
                    len(stuck.deliveries), len(stuck.commands), len(stuck.replies))
    return count


@shared_task(base=BotTask, name="app.bot.tasks.record_dead_letter")
def record_dead_letter(source: str, reason: str, body: str) -> None:
    """Keep a message the worker's consumer refused (it does not touch the database itself)."""
    dead_letters.record(source, reason, body=body)


@shared_task(base=BotTask, name="app.bot.tasks.forget_old_events")
def forget_old_events() -> int:
    return inbox.forget_old_deliveries()
