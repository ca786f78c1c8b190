"""Web's publisher on a real RabbitMQ (app/queueing/publisher.py): many request threads at once, as a gthread
worker runs them; a connection the broker closed; a delivery the broker refused. What is checked is what a
worker would then find on the `deliveries` queue: every delivery answered "taken" exactly once, byte for byte,
and none that was not."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from celery import Celery

from app.queueing import layout
from app.queueing.publisher import ConfirmingLane, DeliveryPublisher, NotConfirmed


@pytest.fixture
def vhost_app(broker, scratch_vhost):
    """The app's Celery settings on a vhost of the test's own (nothing consumes `deliveries` there)."""
    celery = Celery("publisher-test", set_as_current=False)
    celery.config_from_object("django.conf:settings", namespace="CELERY")
    celery.conf.broker_read_url = celery.conf.broker_write_url = broker.url_for("guest", "guest", scratch_vhost)
    return celery


def queued_bodies(app) -> list[bytes]:
    with app.connection_for_read() as connection:
        channel = connection.default_channel
        bodies = []
        while (message := channel.basic_get(layout.DELIVERIES_QUEUE.name, no_ack=True)) is not None:
            body = message.body  # py-amqp decodes a utf-8 body to text
            bodies.append(body.encode() if isinstance(body, str) else bytes(body))
        return bodies


def test_deliveries_from_many_threads_at_once_are_each_queued_once_in_shared_batches(vhost_app, monkeypatch):
    batches: list[int] = []
    publish_batch = ConfirmingLane._publish

    def counted(lane, batch):
        batches.append(len(batch))
        return publish_batch(lane, batch)

    monkeypatch.setattr(ConfirmingLane, "_publish", counted)
    publisher = DeliveryPublisher(vhost_app)
    start = threading.Barrier(24)

    def request_thread(n: int) -> None:
        start.wait()
        for i in range(10):
            publisher.publish(b'{"event_id": "Ev%02d-%02d"}' % (n, i))

    with ThreadPoolExecutor(24) as pool:
        list(pool.map(request_thread, range(24)))

    bodies = queued_bodies(vhost_app)
    assert sorted(bodies) == sorted(b'{"event_id": "Ev%02d-%02d"}' % (n, i) for n in range(24) for i in range(10))
    assert sum(batches) == 240
    # threads that arrive while a batch waits for its confirms go out together in the next one
    assert len(batches) < 240 and max(batches) > 1


def test_a_connection_the_broker_closed_between_requests_is_replaced_before_the_next_delivery(vhost_app):
    from tests.rabbitmq.conftest import rabbitmqctl

    publisher = DeliveryPublisher(vhost_app)
    publisher.publish(b'{"event_id": "EvBefore"}')
    port = publisher.lane().connection.connection.sock.getsockname()[1]
    listed = rabbitmqctl("list_connections", "--silent", "pid", "peer_port").stdout
    rows = [line.split("\t") for line in listed.splitlines()]
    ours = [pid for pid, peer_port in rows if peer_port == str(port)]
    assert len(ours) == 1, rows
    rabbitmqctl("close_connection", ours[0], "closed by the test, as a broker restart does")
    publisher.publish(b'{"event_id": "EvAfter"}')  # taken: on a new connection, not written into the dead one
    assert sorted(queued_bodies(vhost_app)) == [b'{"event_id": "EvAfter"}', b'{"event_id": "EvBefore"}']


def test_a_nacked_delivery_is_not_taken(vhost_app, scratch_vhost):
    """A queue that refuses more (max length, reject-publish) nacks: the publisher says so, it does not answer
    "taken"."""
    from tests.rabbitmq.conftest import rabbitmqctl

    rabbitmqctl("set_policy", "-p", scratch_vhost, "--apply-to", "queues", "full", "^deliveries$",
                '{"max-length": 1, "overflow": "reject-publish"}')
    publisher = DeliveryPublisher(vhost_app)
    publisher.publish(b'{"event_id": "EvFirst"}')
    with pytest.raises(NotConfirmed):
        publisher.publish(b'{"event_id": "EvRefused"}')
    assert queued_bodies(vhost_app) == [b'{"event_id": "EvFirst"}']
