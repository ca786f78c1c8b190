"""Configuration comes only from the environment; a wrong value stops the process with one clear line."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from app.environment import ConfigError, load

REPO = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 50


def test_no_environment_means_embedded_defaults_in_debug(tmp_path):
    config = load({"DEBUG": "1", "DATA_DIR": str(tmp_path)})
    assert config.database["ENGINE"] == "django.db.backends.sqlite3"
    assert config.database["NAME"] == str(tmp_path / "charla.sqlite3")
    assert config.broker_is_embedded and str(tmp_path / "broker.sqlite3") in config.broker_url
    assert config.console_enabled and config.slack_bot_token is None


def test_broker_precedence_follows_the_documented_order():
    env = {"SECRET_KEY": GOOD_KEY, "REDIS_URL": "redis://r:6379/0", "RABBITMQ_URL": "amqp://u:p@rabbit:5672/v",
           "CLOUDAMQP_URL": "amqps://u:p@cloud/v", "CELERY_BROKER_URL": "amqp://u:p@explicit:5672/v"}
    assert load(env).broker_url == "amqp://u:p@explicit:5672/v"
    del env["CELERY_BROKER_URL"]
    assert (load(env).broker_url, load(env).broker_url_source) == ("amqps://u:p@cloud/v", "CLOUDAMQP_URL")
    del env["CLOUDAMQP_URL"]
    assert load(env).broker_url == "amqp://u:p@rabbit:5672/v"
    del env["RABBITMQ_URL"]
    assert load(env).broker_url == "redis://r:6379/0"


def test_database_url_is_parsed_with_dj_database_url():
    config = load({"SECRET_KEY": GOOD_KEY, "DATABASE_URL": "postgres://u:pw@db.example:6543/charla"})
    db = config.database
    assert (db["ENGINE"], db["HOST"], db["PORT"], db["NAME"], db["USER"]) == (
        "django.db.backends.postgresql", "db.example", 6543, "charla", "u")


@pytest.mark.parametrize("env,names", [
    ({}, ["SECRET_KEY", "DEBUG=1"]),
    ({"SECRET_KEY": "short"}, ["SECRET_KEY", "32"]),
    ({"SECRET_KEY": GOOD_KEY, "DEBUG": "maybe"}, ["DEBUG", "1/true/yes"]),
    ({"SECRET_KEY": GOOD_KEY, "SLACK_BOT_TOKEN": "xoxb-1"}, ["SLACK_SIGNING_SECRET", "Basic Information"]),
    ({"SECRET_KEY": GOOD_KEY, "SLACK_SIGNING_SECRET": "s"}, ["SLACK_BOT_TOKEN", "xoxb"]),
    ({"SECRET_KEY": GOOD_KEY, "SLACK_BOT_TOKEN": "hello", "SLACK_SIGNING_SECRET": "s"}, ["SLACK_BOT_TOKEN"]),
    ({"SECRET_KEY": GOOD_KEY, "CELERY_BROKER_URL": "kafka://k:9092"}, ["CELERY_BROKER_URL", "amqp://"]),
    ({"SECRET_KEY": GOOD_KEY, "DATABASE_URL": "nonsense://"}, ["DATABASE_URL", "postgres://"]),
    ({"SECRET_KEY": GOOD_KEY, "WEB_CONCURRENCY": "lots"}, ["WEB_CONCURRENCY", "whole number"]),
    ({"SECRET_KEY": GOOD_KEY, "CELERY_WORKER_CONCURRENCY": "0"}, ["CELERY_WORKER_CONCURRENCY"]),
    ({"SECRET_KEY": GOOD_KEY, "AGENDA_REFRESH_SECONDS": "5"}, ["AGENDA_REFRESH_SECONDS", ">= 10"]),
    ({"SECRET_KEY": GOOD_KEY, "AGENDA_FEED_URL": "ftp://x/feed"}, ["AGENDA_FEED_URL", "JSON or iCalendar"]),
    ({"SECRET_KEY": GOOD_KEY, "LOG_LEVEL": "LOUD"}, ["LOG_LEVEL", "DEBUG, INFO"]),
    ({"SECRET_KEY": GOOD_KEY, "SLACK_API_URL": "slack.com"}, ["SLACK_API_URL"]),
    ({"SECRET_KEY": GOOD_KEY, "CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT": "soon"}, ["CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT"]),
    ({"SECRET_KEY": GOOD_KEY, "CELERY_WORKER_EVENTS": "maybe"}, ["CELERY_WORKER_EVENTS", "yes/no"]),
], ids=lambda v: ",".join(v) if isinstance(v, dict) else None)
def test_a_wrong_or_missing_variable_is_named_with_its_fix(env, names):
    with pytest.raises(ConfigError) as error:
        load(env)
    for name in names:
        assert name in str(error.value)


@pytest.mark.parametrize("role", ["web", "worker", "beat", "release"])
def test_every_process_stops_at_start_with_one_line_naming_the_variable(role, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    env.update(DATA_DIR=str(tmp_path), CELERY_WORKER_CONCURRENCY="two")
    result = subprocess.run([str(REPO / "bin" / "process"), role], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "charlandero: configuration error: SECRET_KEY is not set and DEBUG is off" in output
    assert "Traceback" not in output


def test_the_secret_key_never_appears_in_doctor_output(tmp_path):
    secret, token = "s3cr3t-" + "x" * 40, "xoxb-123456789-abcdefghijklmnop"
    env = {**os.environ, "SECRET_KEY": secret, "SLACK_BOT_TOKEN": token, "SLACK_SIGNING_SECRET": "shh-signing",
           "DATA_DIR": str(tmp_path), "DATABASE_URL": "postgres://user:hunter2@127.0.0.1:1/nope",
           "CELERY_BROKER_URL": "amqp://guest:brokerpass@127.0.0.1:1/x"}
    result = subprocess.run(["python", "manage.py", "doctor"], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode != 0, "doctor must fail when the database and broker do not answer"
    assert "database does not answer" in output and "broker does not answer" in output
    for leaked in (secret, token, "shh-signing", "hunter2", "brokerpass"):
        assert leaked not in output


@pytest.mark.parametrize("role", ["worker", "beat"])
def test_worker_and_beat_refuse_command_line_options(role, tmp_path):
    """Every setting is an environment variable, the same on every target; an option would be silently
    different from one target to the next, so it is refused before anything starts."""
    env = {**os.environ, "DATA_DIR": str(tmp_path)}
    result = subprocess.run([str(REPO / "bin" / "process"), role, "--concurrency", "8"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 64
    assert f"bin/process {role} takes no arguments (got: --concurrency 8)" in result.stderr
    assert "environment variables" in result.stderr


def gunicorn_settings(env: dict) -> dict:
    """gunicorn.conf.py evaluated as gunicorn does (a Python file of settings), with `env` as the environment."""
    import runpy
    from unittest import mock

    with mock.patch.dict(os.environ, env, clear=True):
        return runpy.run_path(str(REPO / "gunicorn.conf.py"))


def test_gunicorn_workers_are_not_recycled_unless_asked():
    assert gunicorn_settings({})["max_requests"] == 0  # 0: gunicorn never recycles
    asked = gunicorn_settings({"GUNICORN_MAX_REQUESTS": "5000"})
    assert (asked["max_requests"], asked["max_requests_jitter"]) == (5000, 500)
    with pytest.raises(SystemExit) as error:
        gunicorn_settings({"GUNICORN_MAX_REQUESTS": "often"})
    assert "GUNICORN_MAX_REQUESTS='often' is not a whole number >= 0" in str(error.value)
