"""What the worker's consumers of plain messages share (deliveries.py, announcements.py): each message is
checked, then handed on as a Celery task, and acknowledged only once that task's publish was confirmed.

Runs in the worker's main process, in Celery's consumer (a consumer bootstep), and never touches the database:
- A message that cannot be handed on (not JSON, wrong shape) becomes a `record_dead_letter` task with its
  reason and its body as text, and is acknowledged: it can neither stop the worker nor come back for ever.
- If a publish fails (broker gone, a nack), the error is raised as a connection error: Celery's consumer then
  reconnects (app/queueing/reconnect.py) and the broker hands the unacknowledged message out again. Any other
  error would be "unrecoverable" and stop the consumer.
"""
from __future__ import annotations

import logging

from celery import bootsteps
from kombu import Consumer, Queue

log = logging.getLogger(__name__)
MAX_DEAD_LETTER_BODY = 64 * 1024


class ForwardFailed(ConnectionError):
    """The broker did not take what this message became; reconnect and let the message come back."""


class ForwardingConsumer(bootsteps.ConsumerStep):
    queue: Queue             # set by each subclass, from app/queueing/layout.py
    what = "message"         # for the log: what one message is
    # Forwarding is one confirmed publish: a few in flight keep the queue moving without one worker hoarding
    # messages that another could forward.
    prefetch = 16

    def get_consumers(self, channel):
        return [Consumer(channel, queues=[self.queue], callbacks=[self.on_message],
                         on_decode_error=self.on_undecodable, accept=["json"], prefetch_count=self.prefetch)]

    def on_message(self, payload, message) -> None:
        raise NotImplementedError

    def on_undecodable(self, message, exc) -> None:
        self.dead_letter(message, f"not JSON ({type(exc).__name__})")

    def dead_letter(self, message, reason: str) -> None:
        from app.bot.tasks import record_dead_letter

        body = message.body.decode("utf-8", "replace") if isinstance(message.body, bytes) else str(message.body)
        self.hand_on(message, record_dead_letter.delay, self.queue.name, reason, body[:MAX_DEAD_LETTER_BODY])

    def hand_on(self, message, send, *args) -> None:
        try:
            send(*args)
        except Exception as exc:
            log.warning("could not hand on a%s %s (%s: %s); reconnecting, the broker keeps it",
                        "n" if self.what[0] in "aeiou" else "", self.what, type(exc).__name__, exc)
            raise ForwardFailed(f"{type(exc).__name__}: {exc}") from exc
        message.ack()
