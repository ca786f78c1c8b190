"""CHARLA_QUEUE_TYPE: read and checked with the rest of the environment, given to every queue of the layout,
and countdowns the queues take (none inside (0, 1) s on quorum queues). The broker's side is proved in
tests/cluster (a 3-node cluster under load, and the migration from classic queues)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from kombu import Queue
from kombu.common import Broadcast

from app.environment import ConfigError, load
from app.ops.management.commands.doctor import mask_url
from app.queueing import layout

REPO = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 50
CLUSTER = "amqp://u:pw1@n1:5672/v;amqp://u:pw2@n2:5672/v;amqp://u:pw3@n3:5672/v"


@pytest.fixture
def restore_queue_type():
    before = layout.queue_type()
    yield
    layout.use_queue_type(before)


def test_classic_is_the_default_and_quorum_is_taken_with_rabbitmq():
    assert load({"SECRET_KEY": GOOD_KEY, "CELERY_BROKER_URL": "amqp://u:p@h/v"}).queue_type == "classic"
    config = load({"SECRET_KEY": GOOD_KEY, "CELERY_BROKER_URL": CLUSTER, "CHARLA_QUEUE_TYPE": "Quorum"})
    assert config.queue_type == "quorum" and config.broker_is_amqp
    assert [url.split("@")[1] for url in config.broker_urls] == ["n1:5672/v", "n2:5672/v", "n3:5672/v"]


@pytest.mark.parametrize("env,names", [
    ({"CHARLA_QUEUE_TYPE": "mirrored"}, ["CHARLA_QUEUE_TYPE='mirrored'", "classic", "quorum"]),
    ({"CHARLA_QUEUE_TYPE": "quorum"}, ["CHARLA_QUEUE_TYPE=quorum needs RabbitMQ", "CELERY_BROKER_URL"]),
    ({"CHARLA_QUEUE_TYPE": "quorum", "REDIS_URL": "redis://r:6379/0"}, ["needs RabbitMQ", "charla-sqlite"]),
    ({"CELERY_BROKER_URL": "amqp://u:p@a/v;kafka://b:9092"}, ["CELERY_BROKER_URL", "'kafka'"]),
    ({"CELERY_BROKER_URL": "amqp://u:p@a/v;redis://b:6379/0"}, ["CELERY_BROKER_URL", "names a Redis server"]),
    ({"CELERY_BROKER_URL": "amqp://u:p@a/v;sqla+sqlite:///b"}, ["CELERY_BROKER_URL", "different kinds"]),
], ids=lambda v: ",".join(f"{k}={v}" for k, v in v.items()) if isinstance(v, dict) else None)
def test_a_wrong_queue_type_or_failover_list_is_named_with_its_fix(env, names, tmp_path):
    with pytest.raises(ConfigError) as error:
        load({"SECRET_KEY": GOOD_KEY, "DATA_DIR": str(tmp_path), **env})
    for name in names:
        assert name in str(error.value)


def test_a_process_with_a_wrong_queue_type_stops_with_one_line(tmp_path):
    env = {**os.environ, "DATA_DIR": str(tmp_path), "DEBUG": "1", "CHARLA_QUEUE_TYPE": "quorum"}
    env.pop("CELERY_BROKER_URL", None)
    result = subprocess.run([str(REPO / "bin" / "process"), "worker"], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "Traceback" not in output
    assert "charlandero: configuration error: CHARLA_QUEUE_TYPE=quorum needs RabbitMQ" in output


def test_doctor_masks_the_password_of_every_node_of_a_failover_list():
    masked = mask_url(CLUSTER)
    assert masked == "amqp://u:****@n1:5672/v;amqp://u:****@n2:5672/v;amqp://u:****@n3:5672/v"


def test_the_type_applies_to_every_queue_of_the_layout_even_one_added_later(restore_queue_type, monkeypatch):
    added = Queue("announcements", layout.EXCHANGE, routing_key="announcements.#", durable=True,
                  queue_arguments={"x-max-length": 1000})
    monkeypatch.setattr(layout, "ANNOUNCEMENTS_QUEUE", added, raising=False)
    per_worker = Broadcast("announcements.fanout")  # exclusive, auto-deleted: cannot be a quorum queue
    monkeypatch.setattr(layout, "FANOUT_QUEUE", per_worker, raising=False)
    layout.use_queue_type("quorum")
    queues = layout.declared_queues()
    assert {q.name for q in queues} >= {"deliveries", "inbox", "commands", "outbox", "periodic", "announcements"}
    assert all(q.queue_arguments.get("x-queue-type") == "quorum" for q in queues)
    assert added.queue_arguments == {"x-max-length": 1000, "x-queue-type": "quorum"}  # its own kept
    assert not (per_worker.queue_arguments or {}).get("x-queue-type")
    layout.use_queue_type("classic")  # classic: declared with no type argument, as before types existed
    assert all(not (q.queue_arguments or {}).get("x-queue-type") for q in layout.declared_queues())
    assert layout.DELIVERIES_QUEUE.queue_arguments is None and added.queue_arguments == {"x-max-length": 1000}


def test_the_settings_declare_the_configured_type_for_celery_too():
    from django.conf import settings

    assert settings.CELERY_TASK_QUEUES is layout.TASK_QUEUES
    expected = {"x-queue-type": "quorum"} if settings.CONFIG.queue_type == "quorum" else None
    assert all(q.queue_arguments == expected for q in settings.CELERY_TASK_QUEUES)


@pytest.mark.parametrize("queue_type,seconds,expected", [
    ("quorum", 0.2, 1.0), ("quorum", 0.999, 1.0), ("quorum", 1.7, 1.7), ("quorum", 0, None), ("quorum", None, None),
    ("quorum", -3, None), ("classic", 0.2, 0.2), ("classic", 0, None),
])
def test_countdowns_on_quorum_queues_are_never_under_a_second(restore_queue_type, queue_type, seconds, expected):
    layout.use_queue_type(queue_type)
    assert layout.countdown(seconds) == expected


def test_every_send_of_a_bot_task_goes_through_the_rounding(restore_queue_type, monkeypatch):
    from celery import Task

    from app.bot import tasks

    sent = []
    monkeypatch.setattr(Task, "apply_async", lambda self, args=None, kwargs=None, **options: sent.append(options))
    layout.use_queue_type("quorum")
    tasks.post_reply.apply_async((1,), countdown=0.4)
    tasks.post_reply.apply_async((1,), countdown=2.5)
    tasks.post_reply.apply_async((1,))
    assert [o.get("countdown") for o in sent] == [1.0, 2.5, None]


def test_the_delay_queues_are_set_up_once_per_cluster_starting_with_the_connected_node():
    from types import SimpleNamespace

    from app.queueing.reconnect import QuickReconnectConsumer, _nodes_from

    connected = SimpleNamespace(hostname="n2", port=5672)
    assert [url.split("@")[1] for url in _nodes_from(CLUSTER, connected)] == ["n2:5672/v", "n1:5672/v", "n3:5672/v"]
    steps = QuickReconnectConsumer.Blueprint.default_steps
    assert "app.queueing.reconnect:ClusterDelayedDelivery" in steps
    assert not any(step.endswith("delayed_delivery:DelayedDelivery") for step in steps)
