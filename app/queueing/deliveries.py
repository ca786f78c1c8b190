"""The worker's side of web's hand-off: verified Slack deliveries come off the `deliveries` queue and each
becomes a `process_event` task on `inbox` (app/queueing/publisher.py says why web sends the plain delivery).

Runs in the worker's main process, in Celery's consumer (a consumer bootstep), and never touches the
database: everything it does is a publish through Celery's producer pool (publisher confirms on RabbitMQ).
- A delivery is acknowledged only after its task was confirmed; the task dedupes by event_id, so a delivery
  seen twice is still processed once.
- A message that is not a delivery we can process (not JSON, wrong shape, wrong types, nested too deep to
  hand to a pool child) becomes a `record_dead_letter` task with the body as text, and is acknowledged:
  it can neither stop the worker nor come back for ever.
- If a publish fails (broker gone, a nack), the error is raised as a connection error: Celery's consumer
  then reconnects (app/queueing/reconnect.py) and the broker hands the unacknowledged delivery out again.
  Any other error would be "unrecoverable" and stop the consumer.
Registered by name in app/queueing/celery_app.py; it reaches the bot (checks, tasks) only when it runs.
"""
from __future__ import annotations

import logging

from celery import bootsteps
from kombu import Consumer

from app.queueing import layout

log = logging.getLogger(__name__)
# Forwarding is one confirmed publish: a few in flight keep the queue moving without one worker hoarding
# deliveries that another could forward.
PREFETCH = 16
SOURCE = layout.DELIVERIES_QUEUE.name
MAX_DEAD_LETTER_BODY = 64 * 1024


class ForwardFailed(ConnectionError):
    """The broker did not take what this delivery became; reconnect and let the delivery come back."""


class DeliveryConsumer(bootsteps.ConsumerStep):
    def get_consumers(self, channel):
        return [Consumer(channel, queues=[layout.DELIVERIES_QUEUE], callbacks=[self.on_delivery],
                         on_decode_error=self.on_undecodable, accept=["json"], prefetch_count=PREFETCH)]

    def on_undecodable(self, message, exc) -> None:
        self._dead_letter(message, f"not JSON ({type(exc).__name__})")

    def on_delivery(self, payload, message) -> None:
        from app.bot.payload_checks import problem_with_decoded, sanitized
        from app.bot.tasks import hand_on_delivery

        try:
            problem = problem_with_decoded(payload) if isinstance(payload, dict) else "not a JSON object"
        except Exception as exc:  # whatever the checks trip over is a reason to refuse the message
            problem = f"unreadable ({type(exc).__name__})"
        if problem:
            self._dead_letter(message, problem)
            return
        self._publish(message, hand_on_delivery, sanitized(payload))

    def _dead_letter(self, message, reason: str) -> None:
        from app.bot.tasks import record_dead_letter

        body = message.body.decode("utf-8", "replace") if isinstance(message.body, bytes) else str(message.body)
        self._publish(message, record_dead_letter.delay, SOURCE, reason, body[:MAX_DEAD_LETTER_BODY])

    @staticmethod
    def _publish(message, send, *args) -> None:
        try:
            send(*args)
        except Exception as exc:
            log.warning("could not hand on a delivery (%s: %s); reconnecting, the broker keeps it",
                        type(exc).__name__, exc)
            raise ForwardFailed(f"{type(exc).__name__}: {exc}") from exc
        message.ack()
