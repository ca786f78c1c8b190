"""Nothing a queue can hold stops a worker: junk on the deliveries queue and tasks that keep failing end as
dead letters (kept, visible in the admin), the worker goes on, and the next mention is answered."""
from __future__ import annotations

import json
import time

import pytest

from app.bot.models import DeadLetter
from app.queueing import layout

pytestmark = pytest.mark.django_db(transaction=True)


def _publish_raw(body: bytes, content_type: str = "application/json") -> None:
    """Put a message on the deliveries queue as any client of the broker could (bypassing web)."""
    from app.celery import celery_app

    with celery_app.connection_for_write() as conn:
        producer = conn.Producer()
        producer.publish(body, exchange=layout.EXCHANGE, routing_key=layout.DELIVERIES_ROUTING_KEY,
                         content_type=content_type, content_encoding="utf-8", delivery_mode=2,
                         declare=[layout.DELIVERIES_QUEUE])


def _wait_for_dead_letters(count: int, timeout: float = 30) -> list[DeadLetter]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        letters = list(DeadLetter.objects.order_by("id"))
        if len(letters) >= count:
            return letters
        time.sleep(0.2)
    raise AssertionError(f"expected {count} dead letters, have {DeadLetter.objects.count()}")


def test_junk_on_the_deliveries_queue_becomes_dead_letters_and_the_worker_goes_on(slack, channel):
    deep = b"[" * 600 + b"]" * 600
    junk = [
        (b"this is not json", "not JSON"),
        (b"[1, 2, 3]", "not a JSON object"),
        (json.dumps({"type": "event_callback", "event": {}}).encode(), "event_id"),
        (b'{"event_id": "EvDEEP", "type": "event_callback", "event": {"type": "message", "blocks": ' + deep + b"}}",
         "too_deep"),
    ]
    for body, _ in junk:
        _publish_raw(body)

    letters = _wait_for_dead_letters(len(junk))
    assert len(letters) == len(junk)
    kept = {letter.payload: letter for letter in letters}  # two pool children record them, in either order
    for body, reason_part in junk:
        letter = kept[body.decode()[:64 * 1024]]
        assert letter.source == "deliveries"
        assert reason_part in letter.reason

    _, response = slack.mention("help", channel)
    assert response.status == 200
    slack.assert_each_answered_once([channel])
    assert slack.stack.procs["worker"].poll() is None, "the worker is still running"
    assert "Unrecoverable error" not in slack.stack.log("worker")


def test_a_task_that_keeps_failing_is_kept_as_a_dead_letter_after_three_attempts(slack, channel):
    from app.bot.tasks import process_event

    # Passes the broker (a task is any client's to send) but not the code: `event` is not an object.
    broken = {"type": "event_callback", "event_id": "EvBROKEN" + channel, "team_id": "T1", "event": "oops"}
    process_event.apply_async((broken,), argsrepr="(<broken>,)")

    [letter] = _wait_for_dead_letters(1, timeout=60)
    assert letter.source == "app.bot.tasks.process_event"
    assert letter.attempts == 3
    assert "AttributeError" in letter.reason
    assert "EvBROKEN" in letter.payload and "Traceback" in letter.detail

    _, response = slack.mention("help", channel)
    assert response.status == 200
    slack.assert_each_answered_once([channel])
