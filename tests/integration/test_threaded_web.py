"""Web as bench/README.md's ingest option runs it: gunicorn's threaded workers, connections closed after each
answer (GUNICORN_WORKER_CLASS=gthread, GUNICORN_THREADS, GUNICORN_KEEPALIVE=0). Many signed deliveries at
once — on RabbitMQ the request threads share confirmed batches — each answered 200 and handled once."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support import slack_requests
from tests.support.stack import free_port, http_request
from tests.support.waiting import eventually

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_threaded_web_without_keep_alive_takes_concurrent_deliveries_and_each_is_answered_once(slack):
    stack = slack.stack
    port = free_port()
    stack.start("web", name="web-threads", extra_env={
        "PORT": str(port), "WEB_CONCURRENCY": "2", "GUNICORN_WORKER_CLASS": "gthread", "GUNICORN_THREADS": "8",
        "GUNICORN_KEEPALIVE": "0"})
    url = f"http://127.0.0.1:{port}"
    try:
        stack.wait_for_log("web-threads", "Using worker: app.gunicorn_workers.ThreadWorker")
        eventually(lambda: http_request(url + "/healthz", "GET").status == 200, timeout=60)

        channels = [f"CTHREAD{i}{int(time.time() * 1000) % 100000}" for i in range(24)]

        def send(channel: str):
            body, headers = slack_requests.signed_json(slack.secret, slack_requests.mention("help", channel=channel))
            return http_request(url + "/slack/events", "POST", body, headers)

        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(send, channels))
        assert [a.status for a in answers] == [200] * len(channels)
        # Keep-alive off: every answer closes its connection, as a sync worker's does.
        assert {a.headers.get("Connection", "").lower() for a in answers} == {"close"}
        slack.assert_each_answered_once(channels)
        assert "Traceback" not in stack.log("web-threads")
    finally:
        stack.stop("web-threads")

