"""The queue and exchange layout, defined once: settings, the health checks, the publisher, the consumer
and the tests all read it from here.

One durable topic exchange, `charla`. Four task queues that Celery's workers consume, and `deliveries`,
which is not a task queue: web publishes each verified Slack delivery there as it arrived (JSON,
persistent) and the worker's DeliveryConsumer (app/queueing/deliveries.py) turns it into a process_event
task on `inbox`. Because it is not in TASK_QUEUES, no task consumer ever reads it.

`announcements` is the other door in (docs/announcements.md): any service publishes an announcement with
routing key `announce.<source>` and the worker's AnnouncementConsumer (app/queueing/announcements.py) turns
it into an `announce` task on `outbox`. Not a task queue either, for the same reason.
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
