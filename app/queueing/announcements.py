"""The worker's side of the announcement contract (docs/announcements.md): messages that services publish to
`charla` with routing key `announce.<source>` come off the `announcements` queue and each becomes an
`announce` task on `outbox`.

A consumer bootstep like the deliveries consumer (app/queueing/forwarding.py: acknowledged only after its task
was confirmed, junk becomes a dead letter, a failed publish makes Celery reconnect):
- Two shapes are read: the contract's plain JSON object (source = the routing key's tail), and a Celery
  protocol-2 task message named app.bot.tasks.announce (headers `task`, body `[args, kwargs, embed]`;
  source `celery`), as Celery, celery-node or a hand-built message send it. Both are checked against the
  JSON Schema before anything is handed on.
- The task records an announcement once per (source, id), so one seen twice is still posted once.
- A message that breaks the contract becomes a dead letter with its reason: no crash, no retry loop.
Registered by name in app/queueing/celery_app.py; it reaches the bot (schema, tasks) only when it runs.
"""
from __future__ import annotations

from app.queueing import layout
from app.queueing.forwarding import ForwardingConsumer

TASK_NAME = "app.bot.tasks.announce"
TASK_KWARGS = ("id", "channel", "text", "thread_ts")


class AnnouncementConsumer(ForwardingConsumer):
    queue = layout.ANNOUNCEMENTS_QUEUE
    what = "announcement"

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
            self.dead_letter(message, problem)
            return
        self.hand_on(message, _hand_on, source, announcement)


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
