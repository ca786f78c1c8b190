"""The queue and exchange layout, defined once: settings, the health checks, the publisher, the consumer
and the tests all read it from here.

One durable topic exchange, `charla`. Four task queues that Celery's workers consume, and `deliveries`,
which is not a task queue: web publishes each verified Slack delivery there as it arrived (JSON,
persistent) and the worker's DeliveryConsumer (app/queueing/deliveries.py) turns it into a process_event
task on `inbox`. Because it is not in TASK_QUEUES, no task consumer ever reads it.

`announcements` is the other door in (docs/announcements.md): any service publishes an announcement with
routing key `announce.<source>` and the worker's AnnouncementConsumer (app/queueing/announcements.py) turns
it into an `announce` task on `outbox`. Not a task queue either, for the same reason.

Every queue has one type, RabbitMQ's `x-queue-type`: classic (one node holds it) or quorum (replicated over
a cluster's nodes; CHARLA_QUEUE_TYPE, app/environment.py). RabbitMQ refuses a declaration whose arguments
differ from the queue's (406 inequivalent arg), so every declarer — Celery's task queues (settings), web's
publisher, the deliveries and announcements consumers, the migration command — declares these very Queue objects, and
settings applies the type to all of them at once with `use_queue_type` (every Queue defined in this module,
alone or in a list, is covered, whoever adds it). A queue cannot change type: app/queueing/migration.py
moves a running deployment from one type to the other.
"""
from kombu import Exchange, Queue

EXCHANGE = Exchange("charla", type="topic", durable=True)
TASK_QUEUES = [
    Queue("inbox", EXCHANGE, routing_key="inbox.#", durable=True),
    Queue("commands", EXCHANGE, routing_key="commands.#", durable=True),
    Queue("outbox", EXCHANGE, routing_key="outbox.#", durable=True),
    Queue("periodic", EXCHANGE, routing_key="periodic.#", durable=True),
]
DELIVERIES_QUEUE = Queue("deliveries", EXCHANGE, routing_key="deliveries.#", durable=True)
DELIVERIES_ROUTING_KEY = "deliveries.slack"
ANNOUNCEMENTS_QUEUE = Queue("announcements", EXCHANGE, routing_key="announce.#", durable=True)
ANNOUNCE_ROUTING_PREFIX = "announce."
# Every queue this project declares, for depth reports and purges.
QUEUE_NAMES = (DELIVERIES_QUEUE.name, ANNOUNCEMENTS_QUEUE.name, *(queue.name for queue in TASK_QUEUES))

DEFAULT_QUEUE = "periodic"
DEFAULT_ROUTING_KEY = "periodic.default"
TASK_ROUTES = {
    "app.bot.tasks.process_event": {"queue": "inbox", "routing_key": "inbox.event"},
    "app.bot.tasks.retry_parked_events": {"queue": "periodic", "routing_key": "periodic.inbox"},
    "app.bot.tasks.answer_command": {"queue": "commands", "routing_key": "commands.answer"},
    "app.bot.tasks.post_reply": {"queue": "outbox", "routing_key": "outbox.slack"},
    # Never announce.*: that would bring the task back to the announcements consumer.
    "app.bot.tasks.announce": {"queue": "outbox", "routing_key": "outbox.announce"},
    "app.bot.tasks.*": {"queue": "periodic", "routing_key": "periodic.housekeeping"},
    "app.agenda.tasks.*": {"queue": "periodic", "routing_key": "periodic.agenda"},
}


QUEUE_TYPES = ("classic", "quorum")
_queue_type = "classic"


def queue_arguments(queue_type: str) -> dict:
    """What a queue of this type is declared with. Classic: no argument at all, as queues were declared
    before types were configurable, so an existing deployment's queues stay equivalent."""
    if queue_type not in QUEUE_TYPES:
        raise ValueError(f"unknown queue type {queue_type!r}")
    return {"x-queue-type": "quorum"} if queue_type == "quorum" else {}


def declared_queues() -> list[Queue]:
    """Every Queue this module defines (module-level, alone or in a list or tuple), each once, that can be
    of either type: durable, not exclusive, not auto-deleted (a quorum queue must be all three; a
    per-consumer queue such as a kombu Broadcast stays as it is declared)."""
    found: dict[int, Queue] = {}
    for value in list(globals().values()):
        for item in (value if isinstance(value, (list, tuple)) else (value,)):
            if isinstance(item, Queue) and item.durable and not item.exclusive and not item.auto_delete:
                found.setdefault(id(item), item)
    return list(found.values())


def use_queue_type(queue_type: str) -> None:
    """Give every queue of the layout this type (settings calls it once, before anything is declared)."""
    global _queue_type
    wanted = queue_arguments(queue_type)
    for queue in declared_queues():
        others = {k: v for k, v in (queue.queue_arguments or {}).items() if k != "x-queue-type"}
        queue.queue_arguments = {**others, **wanted} or None
    _queue_type = queue_type


def queue_type() -> str:
    return _queue_type


def shortest_countdown() -> float:
    """The shortest delay a task may be scheduled with. On quorum queues Celery sends a delayed task through
    RabbitMQ's delay exchanges, which count whole seconds: a countdown under 1 s is refused (ValueError)."""
    return 1.0 if _queue_type == "quorum" else 0.0


def countdown(seconds: float | None) -> float | None:
    """A countdown the broker takes: none for no delay, and on quorum queues never inside (0, 1) s."""
    if not seconds or seconds <= 0:
        return None
    return max(float(seconds), shortest_countdown())
