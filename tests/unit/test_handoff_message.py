"""What web's hand-off puts on the broker, and what the worker's DeliveryConsumer makes of it — read back as a
worker or a monitor would see it.

Uses kombu's in-memory transport with the app's own Celery settings (queues, routes, serializer), so the
messages are inspected without a worker racing to consume them; the integration tests run the same path on
the real brokers, with a real worker, up to the reply.
"""
from __future__ import annotations

import json

import pytest
from celery import Celery

from app.bot.tasks import delivery_argsrepr
from app.queueing import layout
from app.queueing.deliveries import DeliveryConsumer
from app.queueing.publisher import DeliveryPublisher
from tests.support import slack_requests

SECRET_WORDS = "the launch code is tangerine"


@pytest.fixture
def memory_app(monkeypatch):
    from app.bot import tasks

    celery = Celery("handoff-test", set_as_current=False)
    celery.config_from_object("django.conf:settings", namespace="CELERY")
    # the read/write URLs, not broker_url: Celery prefers a CELERY_BROKER_URL in the environment over broker_url
    celery.conf.broker_read_url = celery.conf.broker_write_url = f"memory://handoff-{id(celery)}"
    celery.conf.broker_transport_options = {}

    @celery.task(name="app.bot.tasks.process_event", shared=False)
    def process_event(payload):  # the name is what matters: the worker runs the real one
        raise AssertionError("never run here")

    @celery.task(name="app.bot.tasks.record_dead_letter", shared=False)
    def record_dead_letter(source, reason, body):
        raise AssertionError("never run here")

    monkeypatch.setattr(tasks, "process_event", process_event)  # what the consumer forwards with
    monkeypatch.setattr(tasks, "record_dead_letter", record_dead_letter)
    yield celery
    celery.close()


def read(app, queue: str) -> list:
    with app.connection_for_read() as conn:
        channel = conn.default_channel
        messages = []
        while (message := channel.basic_get(queue, no_ack=True)) is not None:
            messages.append(message)
        return messages


def consume_all(app) -> None:
    """Run DeliveryConsumer over what is on the deliveries queue, as the worker's consumer would."""
    with app.connection_for_write() as conn:
        step = DeliveryConsumer.__new__(DeliveryConsumer)
        channel = conn.channel()
        for consumer in step.get_consumers(channel):
            consumer.consume()
        try:
            while True:
                conn.drain_events(timeout=0.2)
        except TimeoutError:
            pass


def signed_body(payload: dict) -> bytes:
    return json.dumps(payload, separators=(", ", ": ")).encode()


def test_web_sends_the_delivery_exactly_as_slack_sent_it(memory_app):
    payload = slack_requests.mention(SECRET_WORDS, event_id="EvHANDOFF0001")
    body = signed_body(payload)

    publisher = DeliveryPublisher(memory_app)
    publisher.publish(body)
    publisher.publish(body)  # a second delivery on the same connection

    messages = read(memory_app, "deliveries")  # nothing declared the queue beforehand: the publisher did
    assert [m.body for m in messages] == [body, body]
    assert messages[0].content_type == "application/json"
    assert messages[0].delivery_info["routing_key"] == layout.DELIVERIES_ROUTING_KEY
    assert messages[0].properties["delivery_mode"] == 2  # persistent: survives a broker restart


def test_the_worker_turns_a_delivery_into_a_task_that_names_it_but_never_repeats_what_people_wrote(memory_app):
    payload = slack_requests.mention(SECRET_WORDS, event_id="EvHANDOFF0002")
    DeliveryPublisher(memory_app).publish(signed_body(payload))

    consume_all(memory_app)

    assert read(memory_app, "deliveries") == []  # acknowledged
    (task,) = read(memory_app, "inbox")
    assert task.headers["task"] == "app.bot.tasks.process_event"
    assert task.headers["argsrepr"] == "(<event_callback EvHANDOFF0002>,)"
    assert SECRET_WORDS not in json.dumps(task.headers)  # monitors (flower, inspect) show the id only
    args, kwargs, _embed = json.loads(task.body)
    assert args == [payload] and kwargs == {}  # the task still gets the whole delivery
    assert task.delivery_info["routing_key"] == "inbox.event"
    assert task.properties["delivery_mode"] == 2


@pytest.mark.parametrize("junk, reason", [(b"not json at all", "not JSON"), (b"[1, 2, 3]", "not a JSON object"),
                                          (b'{"type": "event_callback"}', "event_id")])
def test_a_message_that_is_not_a_delivery_becomes_a_dead_letter_not_a_retry_loop(memory_app, junk, reason):
    publish_raw(memory_app, junk)
    consume_all(memory_app)
    assert read(memory_app, "deliveries") == [] and read(memory_app, "inbox") == []
    (task,) = read(memory_app, "periodic")
    assert task.headers["task"] == "app.bot.tasks.record_dead_letter"
    (source, why, body), _, _ = json.loads(task.body)
    assert source == "deliveries" and reason in why and body == junk.decode()


def test_when_the_task_cannot_be_sent_the_delivery_is_not_acknowledged_and_the_consumer_reconnects(monkeypatch):
    from kombu.exceptions import OperationalError
    from kombu.transport.pyamqp import Transport as RabbitMQ

    from app.bot import tasks
    from app.queueing.deliveries import ForwardFailed
    from app.queueing.embedded_transport import EmbeddedTransport

    def broker_gone(payload):
        raise OperationalError("connection reset by peer")

    class Message:  # what the broker handed out; acknowledged or not is what matters
        body, acked = b"{}", False

        def ack(self):
            self.acked = True

    monkeypatch.setattr(tasks, "hand_on_delivery", broker_gone)
    message = Message()
    with pytest.raises(ForwardFailed) as raised:
        DeliveryConsumer.__new__(DeliveryConsumer).on_message(slack_requests.mention("help"), message)
    assert not message.acked  # the broker hands it out again after the reconnect
    # A connection error of the real transports makes Celery's consumer reconnect; any other error would
    # stop it ("Unrecoverable error").
    for transport in (RabbitMQ, EmbeddedTransport):
        assert isinstance(raised.value, transport.connection_errors), transport


def publish_raw(app, body: bytes) -> None:
    with app.connection_for_write() as conn:
        producer = app.amqp.Producer(conn, auto_declare=False)
        producer.maybe_declare(layout.DELIVERIES_QUEUE)
        producer.publish(body, exchange="charla", routing_key="deliveries.slack", content_type="application/json",
                         content_encoding="utf-8")


def test_argsrepr_for_a_slash_command_names_it_too():
    payload = {"type": "slash_command", "event_id": "slash:123.456", "text": "busca café"}
    assert delivery_argsrepr(payload) == "(<slash_command slash:123.456>,)"
