"""Configuration comes only from the environment; a wrong value stops the process with one clear line."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.environment import BROKER_VARIABLES, ConfigError, load

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
    assert load(env).broker_is_embedded  # REDIS_URL (a Heroku Redis add-on, say) is never taken as the broker


def test_a_redis_broker_url_stops_the_process_with_a_line_saying_why():
    with pytest.raises(ConfigError, match="CELERY_BROKER_URL names a Redis server, which this app does not use as "
                                          "its broker: its guarantees rest on RabbitMQ's publisher confirms"):
        load({"SECRET_KEY": GOOD_KEY, "CELERY_BROKER_URL": "rediss://:pw@r.example:6380/0"})


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
    ({"SECRET_KEY": GOOD_KEY, "PORT": "abc"}, ["PORT='abc'", "from 1 to 65535"]),
    ({"SECRET_KEY": GOOD_KEY, "PORT": "70000"}, ["PORT='70000'"]),
    ({"SECRET_KEY": GOOD_KEY, "CONSOLE_ENABLED": "sometimes"}, ["CONSOLE_ENABLED", "1/true/yes"]),
    ({"SECRET_KEY": GOOD_KEY, "WORKER_EMBEDDED_BEAT": "both"}, ["WORKER_EMBEDDED_BEAT='both'", "1/true/yes"]),
    ({"SECRET_KEY": GOOD_KEY, "CONSOLE_ENABLED": "1", "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"},
     ["CONSOLE_ENABLED", "SLACK_BOT_TOKEN"]),
    ({"SECRET_KEY": GOOD_KEY, "CELERY_WORKER_EVENTS": "maybe"}, ["CELERY_WORKER_EVENTS", "yes/no"]),
], ids=lambda v: ",".join(v) if isinstance(v, dict) else None)
def test_a_wrong_or_missing_variable_is_named_with_its_fix(env, names):
    with pytest.raises(ConfigError) as error:
        load(env)
    for name in names:
        assert name in str(error.value)


@pytest.mark.parametrize("url", ["garbage", "nonsense://x", "mysql://u:hunter2@db/x", "postgres://u:hunter2@db:port/x"])
def test_a_bad_database_url_gets_our_one_line_and_never_its_password(url):
    with pytest.raises(ConfigError) as error:
        load({"SECRET_KEY": GOOD_KEY, "DATABASE_URL": url})
    message = str(error.value)
    assert message.startswith("DATABASE_URL ") and "postgres://user:password@host:5432/dbname" in message
    assert "\n" not in message and "hunter2" not in message
    assert "cockroach" not in message and "registered" not in message  # not dj-database-url's list of schemes


def test_the_console_is_off_in_production_unless_asked_for(tmp_path):
    production = {"SECRET_KEY": GOOD_KEY, "DATA_DIR": str(tmp_path)}
    assert not load(production).console_enabled  # DEBUG off, no Slack app: still no posting surface
    assert load({**production, "CONSOLE_ENABLED": "1"}).console_enabled
    assert load({**production, "DEBUG": "1"}).console_enabled
    assert not load({**production, "DEBUG": "1", "CONSOLE_ENABLED": "0"}).console_enabled
    slack = {**production, "DEBUG": "1", "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    assert not load(slack).console_enabled  # never with a Slack app
    assert not load({**slack, "CHARLA_LOCAL": "1"}).console_enabled


def test_the_local_defaults_live_in_one_place(tmp_path):
    local = load({"CHARLA_LOCAL": "1", "DATA_DIR": str(tmp_path)})  # what ./charla run|doctor|manifest set
    assert local.debug and local.console_enabled and local.local and local.port == 8000
    with_key = load({"CHARLA_LOCAL": "1", "SECRET_KEY": GOOD_KEY, "DATA_DIR": str(tmp_path)})
    assert not with_key.debug and with_key.console_enabled  # a key given: not DEBUG, still the local console
    with pytest.raises(ConfigError):
        load({"DATA_DIR": str(tmp_path)})  # anywhere else, no SECRET_KEY is an error


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


def test_gunicorn_workers_are_not_recycled_unless_asked(tmp_path):
    env = {"SECRET_KEY": GOOD_KEY, "DATA_DIR": str(tmp_path)}
    assert gunicorn_settings(env)["max_requests"] == 0  # 0: gunicorn never recycles
    asked = gunicorn_settings({**env, "GUNICORN_MAX_REQUESTS": "5000"})
    assert (asked["max_requests"], asked["max_requests_jitter"]) == (5000, 500)


def test_gunicorn_reads_its_settings_from_the_one_configuration(tmp_path):
    env = {"SECRET_KEY": GOOD_KEY, "DATA_DIR": str(tmp_path)}
    assert gunicorn_settings(env)["bind"] == "0.0.0.0:8000"  # Heroku, Docker, nginx reach it from outside
    given = gunicorn_settings({**env, "PORT": "5123", "WEB_CONCURRENCY": "3", "GUNICORN_KEEPALIVE": "120"})
    assert (given["bind"], given["workers"], given["keepalive"]) == ("0.0.0.0:5123", 3, 120)
    assert gunicorn_settings({**env, "GUNICORN_KEEPALIVE": "0"})["keepalive"] == 0  # close after each answer
    local = gunicorn_settings({"CHARLA_LOCAL": "1", "DATA_DIR": str(tmp_path)})
    assert local["bind"] == "127.0.0.1:8000"  # ./charla run answers its own machine only


@pytest.mark.parametrize("name,value,expected", [
    ("GUNICORN_MAX_REQUESTS", "often", "GUNICORN_MAX_REQUESTS='often' is not a whole number >= 0"),
    ("PORT", "abc", "PORT='abc' is not a whole number from 1 to 65535"),
    ("GUNICORN_THREADS", "0", "GUNICORN_THREADS='0' is not a whole number >= 1"),
    ("GUNICORN_KEEPALIVE", "-1", "GUNICORN_KEEPALIVE='-1' is not a whole number >= 0"),
])
def test_a_wrong_web_setting_stops_gunicorn_with_one_line(name, value, expected, tmp_path, capsys):
    with pytest.raises(SystemExit) as error:
        gunicorn_settings({"SECRET_KEY": GOOD_KEY, "DATA_DIR": str(tmp_path), name: value})
    assert error.value.code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"charlandero: configuration error: {expected}")


def test_single_dyno_mode_is_read_with_the_rest(tmp_path):
    production = {"SECRET_KEY": GOOD_KEY, "DATA_DIR": str(tmp_path)}
    assert not load(production).worker_embedded_beat
    assert load({**production, "WORKER_EMBEDDED_BEAT": "1"}).worker_embedded_beat
    assert load({**production, "WORKER_EMBEDDED_BEAT": "Yes"}).worker_embedded_beat
    assert not load({**production, "WORKER_EMBEDDED_BEAT": "off"}).worker_embedded_beat


def test_a_worker_with_a_wrong_embedded_beat_value_stops_with_one_line(tmp_path):
    env = {**os.environ, "SECRET_KEY": GOOD_KEY, "DATA_DIR": str(tmp_path), "WORKER_EMBEDDED_BEAT": "both"}
    result = subprocess.run([str(REPO / "bin" / "process"), "worker"], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "charlandero: configuration error: WORKER_EMBEDDED_BEAT='both' is not a yes/no value. "
        "Set WORKER_EMBEDDED_BEAT to 1/true/yes or 0/false/no."]


def test_tools_outside_python_ask_the_environment_module(tmp_path):
    def environment(*args, **env):
        return subprocess.run([sys.executable, "-m", "app.environment", *args], cwd=REPO, capture_output=True,
                              text=True, timeout=60, env={**os.environ, "DATA_DIR": str(tmp_path), **env})

    listed = environment("broker-variables")
    assert listed.returncode == 0 and listed.stdout.split() == list(BROKER_VARIABLES)
    assert environment("check", SECRET_KEY=GOOD_KEY).returncode == 0
    wrong = environment("check", SECRET_KEY=GOOD_KEY, PORT="none")
    assert wrong.returncode == 2 and wrong.stderr.startswith("charlandero: configuration error: PORT='none'")
    assert environment("nonsense").returncode == 64
