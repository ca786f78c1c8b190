"""Static checks of the Heroku deployment files (run by deploy/heroku/smoke.sh with pytest).

app.json against a JSON Schema written from Heroku's app.json reference, then cross-checked with the
rest of the repo: Procfile, the settings (what app/environment.py really reads), runtime files,
heroku.yml and the Slack app manifest.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
HEROKU = ROOT / "deploy" / "heroku"

# The smallest CloudAMQP plan (Little Lemur) allows 20 connections; keep the default formation
# at most half of it, so a `heroku run` one-off dyno and a scale-up still fit.
CLOUDAMQP_SMALLEST_PLAN_CONNECTIONS = 20
BUDGET_SHARE = 0.5


def load_app_json() -> dict:
    return json.loads((ROOT / "app.json").read_text(encoding="utf-8"))


def procfile_types() -> dict[str, str]:
    types = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            types[name.strip()] = command.strip()
    return types


def env_value(app: dict, name: str, default: str) -> str:
    entry = app.get("env", {}).get(name)
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict) and "value" in entry:
        return entry["value"]
    return default


class RecordingEnv(dict):
    """A mapping that remembers which names were asked for."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.read: set[str] = set()

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.read.add(key)
        return super().__contains__(key)


def heroku_like_env(**extra) -> RecordingEnv:
    env = RecordingEnv({
        "SECRET_KEY": "x" * 50,
        "SLACK_BOT_TOKEN": "xoxb-static-check",
        "SLACK_SIGNING_SECRET": "0123456789abcdef0123456789abcdef",
        "DATABASE_URL": "postgres://u:p@db.example:5432/d",
        "CLOUDAMQP_URL": "amqps://u:p@lemur.cloudamqp.example/vhost",
        "PORT": "5000",
        "DYNO": "web.1",
        "DATA_DIR": "/tmp/charla-heroku-static-check",
    })
    env.update(extra)
    return env


# ---- app.json ------------------------------------------------------------------------------

def test_app_json_matches_the_schema():
    schema = json.loads((HEROKU / "app-json.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(load_app_json()), key=str)
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def test_the_schema_rejects_typical_mistakes():
    schema = json.loads((HEROKU / "app-json.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    good = load_app_json()
    bad_cases = {
        "unknown top-level key": dict(good, adons=[]),
        "generator other than secret": dict(good, env={"SECRET_KEY": {"generator": "random"}}),
        "value and generator together": dict(good, env={"SECRET_KEY": {"generator": "secret", "value": "x"}}),
        "formation quantity as text": dict(good, formation={"web": {"quantity": "1"}}),
        "release in the formation": dict(good, formation={"release": {"quantity": 1}}),
        "buildpack without url": dict(good, buildpacks=[{"name": "heroku/python"}]),
        "add-on object without plan": dict(good, addons=[{"as": "DATABASE"}]),
    }
    for case, document in bad_cases.items():
        assert list(validator.iter_errors(document)), f"schema accepted: {case}"


def test_required_fields_for_the_deploy_button():
    app = load_app_json()
    for key in ("name", "description", "repository", "keywords", "env", "addons", "formation",
                "buildpacks", "environments"):
        assert key in app, f"app.json has no {key}"
    assert app["buildpacks"] == [{"url": "heroku/python"}]
    env = app["env"]
    assert env["SECRET_KEY"].get("generator") == "secret"
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"):
        assert env[name].get("required") is True and "value" not in env[name], name
    for name, entry in env.items():
        assert isinstance(entry, dict) and entry.get("description"), f"{name} needs a description"
        if not entry.get("required") and "generator" not in entry:
            assert entry.get("required") is False, f"{name}: say required: false for optional variables"


def test_addons_are_postgres_and_cloudamqp_on_their_smallest_plans():
    plans = [a if isinstance(a, str) else a["plan"] for a in load_app_json()["addons"]]
    assert "heroku-postgresql:essential-0" in plans
    assert "cloudamqp:lemur" in plans


def test_heroku_ci_runs_the_tests():
    test = load_app_json()["environments"]["test"]
    assert "pytest" in test["scripts"]["test"]
    assert any(str(a).startswith("heroku-postgresql") for a in test.get("addons", []))
    assert "SECRET_KEY" in test.get("env", {}), "settings refuse to start without SECRET_KEY"


def test_every_formation_process_type_is_in_the_procfile():
    types = procfile_types()
    formation = load_app_json()["formation"]
    assert formation["web"]["quantity"] == 1 and formation["worker"]["quantity"] == 1
    assert formation.get("beat", {}).get("quantity", 0) <= 1, "beat must run exactly once"
    for name in formation:
        assert name in types, f"formation has {name!r}, the Procfile does not"
    test_formation = load_app_json()["environments"]["test"].get("formation", {})
    for name in test_formation:
        assert name == "test" or name in types


def test_procfile_uses_the_shared_entry_point():
    types = procfile_types()
    assert set(types) == {"release", "web", "worker", "beat", "socket"}
    for name, command in types.items():
        assert command == f"bin/process {name}", f"{name}: {command}"


def test_every_app_json_variable_is_read_by_the_settings():
    from app.environment import load

    app = load_app_json()
    env = heroku_like_env(**{name: entry.get("value", "1") for name, entry in app["env"].items()
                             if isinstance(entry, dict) and entry.get("value")})
    config = load(env)
    assert config.slack_bot_token == "xoxb-static-check"
    assert config.slack_signing_secret == "0123456789abcdef0123456789abcdef"
    assert config.secret_key == "x" * 50
    assert config.broker_is_amqp, "CLOUDAMQP_URL must select the RabbitMQ broker"
    assert config.database["ENGINE"].endswith("postgresql")
    process_level = (ROOT / "bin" / "process").read_text() + (ROOT / "gunicorn.conf.py").read_text()
    for name, entry in app["env"].items():
        if entry.get("required") or entry.get("generator"):
            assert name in env.read, f"{name} is required by app.json but app/environment.py never reads it"
        else:
            assert name in env.read or re.search(rf"\b{name}\b", process_level), \
                f"{name} is in app.json but nothing reads it"


def test_default_formation_stays_well_under_the_cloudamqp_connection_limit():
    """Connections in steady operation: one per web process that publishes, per worker process (consumer +
    one publisher in the parent, one publisher per pool child), and beat. broker_pool_limit is 2 only so
    that a control round trip (`celery inspect`) can hold two at once (app/settings.py)."""
    app = load_app_json()
    formation = app["formation"]
    web = formation["web"]["quantity"] * int(env_value(app, "WEB_CONCURRENCY", "2"))
    concurrency = int(env_value(app, "CELERY_WORKER_CONCURRENCY", "2"))
    worker = formation["worker"]["quantity"] * (2 + concurrency)
    beat = formation.get("beat", {}).get("quantity", 0)
    budget = web + worker + beat
    print(f"connection budget of the default formation: {budget} (web {web} + worker {worker} + beat {beat}) "
          f"of {CLOUDAMQP_SMALLEST_PLAN_CONNECTIONS}")
    assert budget <= CLOUDAMQP_SMALLEST_PLAN_CONNECTIONS * BUDGET_SHARE


# ---- Python version and dependencies --------------------------------------------------------

def test_runtime_txt_and_python_version_name_the_same_python():
    runtime = (ROOT / "runtime.txt").read_text().strip()
    python_version = (ROOT / ".python-version").read_text().strip()
    match = re.fullmatch(r"python-(3\.\d+)(\.\d+)?", runtime)
    assert match, f"runtime.txt: {runtime!r} is not python-3.N or python-3.N.N"
    assert re.fullmatch(r"3\.\d+(\.\d+)?", python_version), python_version
    assert match.group(1) == ".".join(python_version.split(".")[:2]), (runtime, python_version)
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert python_version.startswith(here), f".python-version {python_version} but this machine runs {here}"


def test_dependencies_come_from_requirements_txt_only():
    assert (ROOT / "requirements.txt").is_file()
    for other in ("Pipfile", "Pipfile.lock", "poetry.lock", "uv.lock"):
        assert not (ROOT / other).exists(), f"{other} next to requirements.txt: the buildpack refuses two"
    requirements = (ROOT / "requirements.txt").read_text().lower()
    for package in ("gunicorn", "celery", "psycopg", "dj-database-url"):
        assert package in requirements, package


# ---- heroku.yml (container stack) ------------------------------------------------------------

def test_heroku_yml_runs_the_same_processes_from_the_dockerfile():
    manifest = yaml.safe_load((ROOT / "heroku.yml").read_text())
    assert manifest["build"]["docker"]["web"] == "Dockerfile"
    types = procfile_types()
    release = manifest["release"]
    assert release["image"] == "web"
    assert " ".join(release["command"]) == types["release"]
    run = manifest["run"]
    assert set(run) == set(types) - {"release"}
    for name, spec in run.items():
        command = spec if isinstance(spec, str) else " ".join(spec["command"])
        assert command == types[name], name
        if isinstance(spec, dict):
            assert spec.get("image", "web") == "web"
    addons = [a["plan"] for a in manifest["setup"]["addons"]]
    assert "heroku-postgresql:essential-0" in addons and "cloudamqp:lemur" in addons


