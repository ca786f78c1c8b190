"""Socket Mode's configuration: SLACK_APP_TOKEN read with the rest, one clear line when it is wrong, the HTTP
Slack endpoints off while it is set, and the manifest for a Socket Mode app."""
from __future__ import annotations

import io
import json
import os
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from app.environment import ConfigError, load

REPO = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 50
APP_TOKEN = "xapp-1-A0001-123-" + "f" * 32


def test_an_app_token_means_socket_mode_without_a_signing_secret(tmp_path):
    config = load({"SECRET_KEY": GOOD_KEY, "DATA_DIR": str(tmp_path), "SLACK_BOT_TOKEN": "xoxb-1",
                   "SLACK_APP_TOKEN": APP_TOKEN})
    assert config.socket_mode and config.slack_app_token == APP_TOKEN
    assert not load({"SECRET_KEY": GOOD_KEY, "DATA_DIR": str(tmp_path)}).socket_mode


@pytest.mark.parametrize("env,names", [
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-2"}, ["SLACK_APP_TOKEN", "xapp-", "connections:write"]),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_APP_TOKEN": "hello"}, ["SLACK_APP_TOKEN"]),
    ({"SLACK_APP_TOKEN": APP_TOKEN}, ["SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is not", "xoxb"]),
    ({"SLACK_BOT_TOKEN": "xoxb-1"}, ["SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"]),
], ids=lambda v: ",".join(v) if isinstance(v, dict) else None)
def test_a_wrong_app_token_is_named_with_its_fix(env, names, tmp_path):
    with pytest.raises(ConfigError) as error:
        load({"SECRET_KEY": GOOD_KEY, "DATA_DIR": str(tmp_path), **env})
    for name in names:
        assert name in str(error.value)
    assert "\n" not in str(error.value)


def _process(role: str, tmp_path, **env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "SLACK_APP_TOKEN"}
    environment.update(DATA_DIR=str(tmp_path), **env)
    return subprocess.run([str(REPO / "bin" / "process"), role], cwd=REPO, env=environment, capture_output=True,
                          text=True, timeout=60)


def test_the_socket_process_without_an_app_token_stops_with_one_line(tmp_path):
    result = _process("socket", tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "charlandero: configuration error: bin/process socket needs SLACK_APP_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_wrong_app_token_stops_the_socket_process_with_one_line(tmp_path):
    result = _process("socket", tmp_path, SLACK_APP_TOKEN="xoxb-not-an-app-token")
    assert result.returncode == 2
    assert "charlandero: configuration error: SLACK_APP_TOKEN does not look like an app-level token" in result.stderr
    assert "Traceback" not in result.stderr and "xoxb-not-an-app-token" not in result.stderr


@pytest.mark.django_db
def test_the_http_slack_endpoints_are_not_there_in_socket_mode(settings):
    settings.CONFIG = load({**os.environ, "SLACK_APP_TOKEN": APP_TOKEN})
    client = Client()
    for path in ("/slack/events", "/slack/commands"):
        response = client.post(path, b"{}", content_type="application/json")
        assert response.status_code == 404, path
    assert client.get("/healthz").status_code == 200


def test_the_socket_mode_manifest_has_no_request_urls():
    out = io.StringIO()
    call_command("slack_manifest", "--socket-mode", stdout=out)
    manifest = json.loads(out.getvalue())
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in manifest["settings"]["event_subscriptions"]
    assert all("url" not in command for command in manifest["features"]["slash_commands"])
    assert "http" not in json.dumps(manifest)
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) >= {"app_mention", "message.im"}


def test_an_app_token_slack_refuses_stops_the_socket_process_with_one_line(tmp_path):
    from tests.support.fake_slack import FakeSlack

    fake = FakeSlack().start()
    try:
        fake.script("apps.connections.open", {"error": "invalid_auth"})
        result = _process("socket", tmp_path, SLACK_APP_TOKEN=APP_TOKEN, SLACK_API_URL=fake.api_url)
    finally:
        fake.stop()
    assert result.returncode == 2, result.stderr
    assert "charlandero: Slack refused SLACK_APP_TOKEN (invalid_auth)" in result.stderr
    assert "Traceback" not in result.stderr and APP_TOKEN not in result.stderr + result.stdout
    assert [c["authorization"] for c in fake.calls] == [f"Bearer {APP_TOKEN}"]
