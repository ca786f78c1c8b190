"""The worker's side of the announcement contract (docs/announcements.md): messages that services publish to
`charla` with routing key `announce.<source>` come off the `announcements` queue and each becomes an
`announce` task on `outbox`.

Runs in the worker's main process, in Celery's consumer (a consumer bootstep, like the deliveries consumer in
app/queueing/deliveries.py, whose reliability it shares), and never touches the database:
- Two shapes are read: the contract's plain JSON object (source = the routing key's tail), and a Celery
  protocol-2 task message named app.bot.tasks.announce (headers `task`, body `[args, kwargs, embed]`;
  source `celery`), as Celery, celery-node or a hand-built message send it. Both are checked against the
  JSON Schema before anything is handed on.
- An announcement is acknowledged only after its task was confirmed by the broker; the task records it once
  per (source, id), so one seen twice is still posted once.
- A message that breaks the contract becomes a `record_dead_letter` task with its reason and body, and is
  acknowledged: no crash, no retry loop.
- A failed publish (broker gone, a nack) is raised as a connection error: Celery's consumer reconnects and
  the broker hands the unacknowledged message out again.
Registered by name in app/queueing/celery_app.py; it reaches the bot (schema, tasks) only when it runs.
"""
from __future__ import annotations

import logging

from celery import bootsteps
from kombu import Consumer

from app.queueing import layout
from app.queueing.deliveries import MAX_DEAD_LETTER_BODY, ForwardFailed

log = logging.getLogger(__name__)
PREFETCH = 16
SOURCE = layout.ANNOUNCEMENTS_QUEUE.name
TASK_NAME = "app.bot.tasks.announce"
TASK_KWARGS = ("id", "channel", "text", "thread_ts")


class AnnouncementConsumer(bootsteps.ConsumerStep):
    def get_consumers(self, channel):
        return [Consumer(channel, queues=[layout.ANNOUNCEMENTS_QUEUE], callbacks=[self.on_message],
                         on_decode_error=self.on_undecodable, accept=["json"], prefetch_count=PREFETCH)]

    def on_undecodable(self, message, exc) -> None:
        self._dead_letter(message, f"not JSON ({type(exc).__name__})")

    def on_message(self, payload, message) -> None:
        from app.bot.announcements import CELERY_SOURCE, problem_with, source_of

        try:
            task = (message.headers or {}).get("task")
            if task is not None:
                source, announcement, problem = CELERY_SOURCE, *_from_task_message(task, payload)
            else:
                routing_key = (message.delivery_info or {}).get("routing_key")
                source, announcement = source_of(routing_key), payload
                problem = None if source else f"routing key {routing_key!r} is not announce.<[a-z0-9-]{{1,40}}>"
            problem = problem or problem_with(announcement)
        except Exception as exc:  # whatever the checks trip over is a reason to refuse the message
            problem = f"unreadable ({type(exc).__name__})"
        if problem:
            self._dead_letter(message, problem)
            return
        self._publish(message, _hand_on, source, announcement)

    def _dead_letter(self, message, reason: str) -> None:
        from app.bot.tasks import record_dead_letter

        body = message.body.decode("utf-8", "replace") if isinstance(message.body, bytes) else str(message.body)
        self._publish(message, record_dead_letter.delay, SOURCE, reason, body[:MAX_DEAD_LETTER_BODY])

    @staticmethod
    def _publish(message, send, *args) -> None:
        try:
            send(*args)
        except Exception as exc:
            log.warning("could not hand on an announcement (%s: %s); reconnecting, the broker keeps it",
                        type(exc).__name__, exc)
            raise ForwardFailed(f"{type(exc).__name__}: {exc}") from exc
        message.ack()


def _from_task_message(task: str, body) -> tuple[dict | None, str | None]:
    """(announcement, problem) from a Celery protocol-2 task message's name and body."""
    if task != TASK_NAME:
        return None, f"task {str(task)[:80]!r} is not {TASK_NAME}"
    if not (isinstance(body, list) and len(body) == 3 and isinstance(body[0], list) and isinstance(body[1], dict)):
        return None, "not a Celery protocol-2 task body [args, kwargs, embed]"
    args, kwargs = body[0], body[1]
    if args:
        return None, f"positional arguments: send keyword arguments {', '.join(TASK_KWARGS)}"
    # thread_ts may be sent as null by clients that pass every keyword.
    return {k: v for k, v in kwargs.items() if not (k == "thread_ts" and v is None)}, None


def _hand_on(source: str, announcement: dict) -> None:
    from app.bot.tasks import announce

    kwargs = {**announcement, "source": source}
    announce.apply_async(kwargs=kwargs, argsrepr="()",
                         kwargsrepr=f"{{'source': {source!r}, 'id': {announcement.get('id')!r}}}")
