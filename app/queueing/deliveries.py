"""The worker's side of web's hand-off: verified Slack deliveries come off the `deliveries` queue and each
becomes a `process_event` task on `inbox` (app/queueing/publisher.py says why web sends the plain delivery).

A consumer bootstep (app/queueing/forwarding.py: acknowledged only after its task was confirmed; junk becomes
a dead letter; a failed publish makes Celery reconnect). The task dedupes by event_id, so a delivery seen twice
is still processed once. A delivery is refused as junk when it is not JSON, of the wrong shape or types, or
nested too deep to hand to a pool child.
Registered by name in app/queueing/celery_app.py; it reaches the bot (checks, tasks) only when it runs.
"""
from __future__ import annotations

from app.queueing import layout
from app.queueing.forwarding import ForwardFailed, ForwardingConsumer

__all__ = ["DeliveryConsumer", "ForwardFailed"]


class DeliveryConsumer(ForwardingConsumer):
    queue = layout.DELIVERIES_QUEUE
    what = "delivery"

    def on_message(self, payload, message) -> None:
        from app.bot.payload_checks import problem_with_decoded, sanitized
        from app.bot.tasks import hand_on_delivery

        try:
            problem = problem_with_decoded(payload) if isinstance(payload, dict) else "not a JSON object"
        except Exception as exc:  # whatever the checks trip over is a reason to refuse the message
            problem = f"unreadable ({type(exc).__name__})"
        if problem:
            self.dead_letter(message, problem)
            return
        self.hand_on(message, hand_on_delivery, sanitized(payload))
