"""The announcement contract from other languages, on RabbitMQ (docs/announcements.md): the Python, Node and Go
reference producers each make one post and wait for their confirm; 50 announcements to one channel are paced;
a Celery task sent from Node runs once; a producer's announce-only user cannot publish a Slack delivery."""
from __future__ import annotations

import shlex
import subprocess
import time

import pytest

from app.bot.models import Announcement, DeadLetter, InboundEvent
from app.queueing import layout
from tests.rabbitmq.conftest import CLIENTS, docs_commands, producer_env, rabbitmqctl, run
from tests.support import announcing
from tests.support.processes import REPO

pytestmark = pytest.mark.django_db(transaction=True)
LANGUAGES = ("python", "node", "go")


def _announce(producers, language: str, env: dict, channel: str, key: str, text: str, source: str | None = None,
              extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    args = ["--channel", channel, "--text", text, "--id", key, *(["--source", source] if source else []), *extra]
    return run(producers[language] + args, env)


def test_each_producer_posts_once_and_a_republish_is_not_posted_again(slack, channel, producers, broker):
    for language in LANGUAGES:
        # CLOUDAMQP_URL for one of them: both names are read
        env = producer_env(broker.url, "CLOUDAMQP_URL" if language == "go" else "CELERY_BROKER_URL")
        for attempt in range(2):  # the second: a republish after a lost confirm
            done = _announce(producers, language, env, channel, f"{language}-1", f"hello from {language} ✓")
            assert done.returncode == 0, (language, done.stdout, done.stderr)
            assert f"confirmed announce.{language} {language}-1" in done.stdout

    slack.wait_for_replies(channel, len(LANGUAGES))
    slack.settle(3)
    texts = sorted(post["body"]["text"] for post in slack.replies(channel))
    assert texts == sorted(f"hello from {language} ✓" for language in LANGUAGES)
    assert sorted(Announcement.objects.values_list("source", flat=True)) == sorted(LANGUAGES)


def test_a_producer_exits_non_zero_when_its_message_is_not_confirmed(producers, broker, scratch_vhost, channel):
    """No exchange (the broker closes the channel, no confirm), then an exchange no queue is bound to (confirmed,
    but returned as unroutable): each producer says so and exits 1."""
    from kombu import Connection

    env = producer_env(broker.url_for("guest", "guest", scratch_vhost))
    for language in LANGUAGES:
        done = _announce(producers, language, env, channel, "lost", "nobody hears this")
        assert done.returncode == 1, (language, done.stdout, done.stderr)
        assert "not confirmed" in done.stderr and "confirmed announce" not in done.stdout

    with Connection(env["CELERY_BROKER_URL"]) as conn:
        layout.EXCHANGE(conn.default_channel).declare()
    for language in LANGUAGES:
        done = _announce(producers, language, env, channel, "unroutable", "nobody hears this")
        assert done.returncode == 1, (language, done.stdout, done.stderr)
        assert "not confirmed" in done.stderr


def test_fifty_announcements_to_one_channel_are_all_posted_about_a_second_apart(slack, channel):
    """Slots are reserved a second apart, the first no earlier than the publishing began: the i-th post cannot
    go out before i seconds have passed, however fast they arrive."""
    count = 50
    started = time.time()
    for i in range(count):
        announcing.publish(announcing.announcement(channel, f"burst-{i}", f"burst {i}"), "announce.load")

    posts = slack.wait_for_replies(channel, count, timeout=count + 60)
    slack.settle(2)
    posts = slack.replies(channel)
    assert sorted(p["body"]["text"] for p in posts) == sorted(f"burst {i}" for i in range(count))
    times = sorted(p["at"] for p in posts)
    early = [(i, round(at - started, 2)) for i, at in enumerate(times) if at < started + i - 0.05]
    assert not early, f"posts ahead of their one-a-second slot (index, seconds after the burst): {early}"
    # and not much slower than one a second (a generous bound: the machine is shared)
    assert times[-1] - started < count - 1 + 20


def test_celery_tasks_sent_from_node_run_once_and_post(slack, channel, producers, broker):
    """announce.js --celery builds the protocol-2 task message (routing key announce.celery) on a confirm
    channel; celery-node's client sends it its own way (default exchange, queue `announcements`). Each is sent
    twice with one id and posted once."""
    env = producer_env(broker.url)
    for _ in range(2):
        done = _announce(producers, "node", env, channel, "node-task", "a task from Node", extra=("--celery",))
        assert done.returncode == 0, (done.stdout, done.stderr)
        assert "confirmed announce.celery node-task" in done.stdout
        done = run(["node", str(CLIENTS / "node" / "celery-node-task.js"), "--channel", channel,
                    "--text", "a task from celery-node", "--id", "celery-node-task"], env)
        assert done.returncode == 0, (done.stdout, done.stderr)

    slack.wait_for_replies(channel, 2)
    slack.settle(3)
    assert sorted(p["body"]["text"] for p in slack.replies(channel)) == ["a task from Node", "a task from celery-node"]
    assert sorted(Announcement.objects.values_list("source", "key")) == [("celery", "celery-node-task"),
                                                                          ("celery", "node-task")]
    assert not DeadLetter.objects.exists()


def test_an_announce_only_user_is_posted_and_cannot_publish_a_slack_delivery(slack, channel, producers, broker,
                                                                              new_user):
    """The README's commands as typed (this run's vhost, a user name of its own, the test's channel): the three
    rabbitmqctl lines (the same in docs/announcements.md), then the three producers' lines — one source, one id:
    one post."""
    from kombu import Connection

    user, password = new_user("ci-announcer"), "a-long-test-password-" + channel
    lines = docs_commands(REPO / "README.md", "rabbitmqctl ")
    assert len(lines) == 3 and lines == docs_commands(REPO / "docs" / "announcements.md", "rabbitmqctl "), lines
    for line in lines:
        argv = [part.replace("ci-announcer", user)
                for part in shlex.split(line.replace("$ANNOUNCER_PASSWORD", password))]
        if "-p" in argv:
            argv[argv.index("-p") + 1] = broker.vhost
        subprocess.run(argv, check=True, capture_output=True, timeout=60)
    url = broker.url_for(user, password)
    env = producer_env(url)

    readme_url = "amqp://ci-announcer:PASSWORD@host/charlandero"
    typed = [line for line in docs_commands(REPO / "README.md", f"CELERY_BROKER_URL={readme_url} ")]
    assert [line.split()[1] for line in typed] == ["python", "node", "clients/go/announce"], typed
    for line in typed:
        command = line.replace(readme_url, shlex.quote(url)).replace("C0123ABCD", channel)
        done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60, cwd=REPO,
                              env={**env, "PATH": f"{CLIENTS.parent / '.venv' / 'bin'}:{env.get('PATH', '')}"})
        assert done.returncode == 0, (line, done.stdout, done.stderr)
        assert "confirmed announce.ci deploy-42" in done.stdout

    for language in LANGUAGES:  # its own source: posted
        done = _announce(producers, language, env, channel, f"ci-{language}", f"ci says {language}", source="ci")
        assert done.returncode == 0, (language, done.stdout, done.stderr)
    # another source's routing key: refused by the topic permission, and the producer says so
    done = _announce(producers, "node", env, channel, "ops-1", "pretending to be ops", source="ops")
    assert done.returncode == 1 and "not confirmed" in done.stderr, (done.stdout, done.stderr)

    forged = b'{"type": "event_callback", "event_id": "EvFORGED", "team_id": "T1", "event": {"type": "message"}}'
    for exchange, routing_key in ((layout.EXCHANGE.name, layout.DELIVERIES_ROUTING_KEY),
                                  ("", layout.DELIVERIES_QUEUE.name)):  # the default exchange, by queue name
        with Connection(url, transport_options={"confirm_publish": True}) as conn:
            with pytest.raises(Exception) as refused:
                conn.Producer(auto_declare=False).publish(forged, exchange=exchange, routing_key=routing_key,
                                                          content_type="application/json", retry=False)
        assert "ACCESS_REFUSED" in str(refused.value), (exchange, refused.value)
    with pytest.raises(Exception) as refused:  # nor declare anything
        with Connection(url) as conn:
            layout.ANNOUNCEMENTS_QUEUE(conn.default_channel).declare()
    assert "ACCESS_REFUSED" in str(refused.value)

    slack.wait_for_replies(channel, 1 + len(LANGUAGES))
    slack.settle(3)
    assert sorted(p["body"]["text"] for p in slack.replies(channel)) == sorted(
        ["Deploy finished", *(f"ci says {lang}" for lang in LANGUAGES)])
    assert not InboundEvent.objects.filter(key="EvFORGED").exists()
    listed = rabbitmqctl("list_topic_permissions", "-p", broker.vhost, "--silent").stdout
    assert f"{user}\tcharla\t^announce\\.ci$\t^$" in listed
