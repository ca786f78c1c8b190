"""What the image's entry point and health check read, through app/environment.py (deploy/docker/)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from app.environment import PROJECT_ROOT, ConfigError, image_defaults, probe


def test_all_without_a_secret_key_makes_one_in_the_volume_once_and_keeps_it(tmp_path):
    env = {"DATA_DIR": str(tmp_path)}
    first, notes = image_defaults("all", env)
    assert len(first["SECRET_KEY"]) >= 50 and notes == [f"no SECRET_KEY given; generated one in {tmp_path / 'secret_key'} "
                                                         "(kept in the volume)"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    again, notes = image_defaults("all", env)
    assert again["SECRET_KEY"] == first["SECRET_KEY"] and notes == []
    # a command run beside the all-in-one container uses the same key; split roles never invent one
    assert image_defaults("command", env)[0] == {"SECRET_KEY": first["SECRET_KEY"]}
    assert "SECRET_KEY" not in image_defaults("web", env)[0]
    assert "SECRET_KEY" not in image_defaults("all", {**env, "SECRET_KEY": "k" * 50})[0]


def test_any_host_name_only_for_roles_that_answer_slack_and_only_when_not_pinned(tmp_path):
    env = {"DATA_DIR": str(tmp_path), "SECRET_KEY": "k" * 50, "SLACK_BOT_TOKEN": "xoxb-1"}
    assert image_defaults("web", env)[0] == {"ALLOWED_HOSTS": "*"}
    assert image_defaults("worker", env)[0] == {}
    assert image_defaults("web", {**env, "ALLOWED_HOSTS": "bot.example.org"})[0] == {}
    assert image_defaults("web", {"DATA_DIR": str(tmp_path), "SECRET_KEY": "k" * 50})[0] == {}  # console mode
    assert image_defaults("all", env)[0]["CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT"] == "3"


def test_a_data_dir_that_cannot_be_written_stops_all_and_beat_with_a_line_naming_it(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    for role in ("all", "beat"):
        with pytest.raises(ConfigError, match=r"DATA_DIR=.*a-file/data is not writable by uid \d+\. Mount a named"):
            image_defaults(role, {"DATA_DIR": str(blocked / "data"), "SECRET_KEY": "k" * 50})
    assert image_defaults("web", {"DATA_DIR": str(blocked / "data"), "SECRET_KEY": "k" * 50}) == ({}, [])


def test_the_entry_point_evaluates_shell_quoted_exports(tmp_path):
    env = {**os.environ, "DATA_DIR": str(tmp_path), "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    for name in ("SECRET_KEY", "ALLOWED_HOSTS", "CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT"):
        env.pop(name, None)
    script = (f'eval "$({sys.executable} -m app.environment image-defaults all)" && '
              'printf "%s|%s|%s" "$ALLOWED_HOSTS" "$CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT" "${#SECRET_KEY}"')
    done = subprocess.run(["sh", "-c", script], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("|")[:2] == ["*", "3"] and int(done.stdout.split("|")[2]) >= 50  # '*' not globbed
    assert "charlandero: ALLOWED_HOSTS not set; accepting any Host name" in done.stderr

    bad = subprocess.run([sys.executable, "-m", "app.environment", "image-defaults", "beat"], cwd=PROJECT_ROOT,
                         env={**env, "DATA_DIR": "/proc/charla"}, capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.startswith("charlandero: configuration error: DATA_DIR=/proc/charla is not writable")


def test_the_health_check_reads_the_port_host_and_broker_as_the_app_does(tmp_path):
    seen = probe({"DATA_DIR": str(tmp_path), "PORT": "9001", "ALLOWED_HOSTS": "*,.example.org",
                  "CLOUDAMQP_URL": "amqps://u:p@mq.example.org/vhost"})
    assert (seen.port, seen.host, seen.broker_port, seen.data_dir) == (9001, "example.org", 5671, tmp_path)
    assert probe({"DATA_DIR": str(tmp_path)}).broker_port is None  # the embedded broker
    assert probe({"DATA_DIR": str(tmp_path), "CELERY_BROKER_URL": "amqp://mq:5673//"}).broker_port == 5673
    with pytest.raises(ConfigError, match="PORT='http' is not a whole number"):
        probe({"PORT": "http"})
