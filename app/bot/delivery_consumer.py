"""The worker's side of web's hand-off: verified Slack deliveries come off the `deliveries` queue and each
becomes a `process_event` task on `inbox` (app/bot/ingress.py says why web sends the plain delivery).

Runs in the worker's main process, in Celery's consumer (a consumer bootstep). The task goes out through
Celery's producer pool (the main process's one publishing connection), not on the consumer's connection:
deliveries already waiting when a worker starts arrive while the consumer is still waiting on its own
broker replies, and a publish on that connection then (it declares `inbox`, a round trip) hung the start
(tests/integration/test_worker_restart.py). The delivery is acknowledged only after its task has been sent,
so a worker that stops in between leaves it on the queue for the next one; the task itself dedupes by
event_id, so a delivery seen twice is still processed once.
"""
from __future__ import annotations

import logging

from celery import bootsteps
from kombu import Consumer

log = logging.getLogger(__name__)
# Forwarding is a publish, well under a millisecond: a few in flight keep the queue moving without one
# worker hoarding deliveries that another could forward.
PREFETCH = 16


class DeliveryConsumer(bootsteps.ConsumerStep):
    def get_consumers(self, channel):
        from django.conf import settings

        return [Consumer(channel, queues=[settings.CHARLA_DELIVERIES_QUEUE], callbacks=[self.on_delivery],
                         on_decode_error=self.on_undecodable, accept=["json"], prefetch_count=PREFETCH)]

    def on_undecodable(self, message, exc) -> None:
        log.error("dropping a message on the deliveries queue that is not JSON (%s: %s)", type(exc).__name__, exc)
        message.ack()

    def on_delivery(self, payload, message) -> None:
        from app.bot.tasks import delivery_argsrepr, process_event

        if not isinstance(payload, dict) or not isinstance(payload.get("event_id"), str):
            # web sends only what it verified and parsed; anything else was not put here by us
            log.error("dropping a message on the deliveries queue that is not a Slack delivery: %.200r", payload)
            message.ack()
            return
        process_event.apply_async((payload,), argsrepr=delivery_argsrepr(payload))
        message.ack()
