"""Every setting Charlandero reads, read here and only here, from the environment.

`load()` returns a frozen Config. A missing or malformed variable raises ConfigError with a
message naming the variable and the fix; `load_or_exit()` turns that into a one-line exit
(no traceback) for the processes' start-up paths.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
BROKER_VARIABLES = ("CELERY_BROKER_URL", "CLOUDAMQP_URL", "RABBITMQ_URL", "REDIS_URL")
SUPPORTED_BROKER_SCHEMES = ("amqp", "amqps", "pyamqp", "redis", "rediss", "sqla+sqlite", "charla-sqlite+sqlite")
EMBEDDED_BROKER_SCHEME = "charla-sqlite+sqlite"  # see app/embedded_broker.py
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """A setting is missing or wrong; the message says which and how to fix it."""


@dataclass(frozen=True)
class Config:
    debug: bool
    secret_key: str
    allowed_hosts: list[str]
    data_dir: Path
    database: dict
    database_url_source: str          # where the database URL came from (for `doctor`)
    broker_url: str
    broker_url_source: str
    slack_bot_token: str | None
    slack_signing_secret: str          # the real one, or a local one derived for the console
    slack_api_url: str
    agenda_feed_url: str | None
    agenda_refresh_seconds: int
    inbox_retry_seconds: int
    web_concurrency: int
    worker_concurrency: int
    log_level: str
    worker_soft_shutdown_timeout: float
    worker_events: bool
    secure_ssl_redirect: bool
    secure_hsts_seconds: int
    app_url: str | None
    console_enabled: bool = field(default=False)

    @property
    def broker_is_embedded(self) -> bool:
        return self.broker_url.startswith(EMBEDDED_BROKER_SCHEME)

    @property
    def broker_is_amqp(self) -> bool:
        return urlsplit(self.broker_url).scheme in ("amqp", "amqps", "pyamqp")


def _read_dotenv() -> None:
    """Local convenience only: values from ./.env never override the real environment."""
    dotenv = PROJECT_ROOT / ".env"
    if dotenv.is_file():
        from dotenv import load_dotenv

        load_dotenv(dotenv, override=False)


def _get(env, name: str) -> str | None:
    value = env.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def _flag(env, name: str, default: bool) -> bool:
    value = _get(env, name)
    if value is None:
        return default
    if value.lower() in TRUE_WORDS:
        return True
    if value.lower() in FALSE_WORDS:
        return False
    raise ConfigError(f"{name}={value!r} is not a yes/no value. Set {name} to 1/true/yes or 0/false/no.")


def _positive_int(env, name: str, default: int, minimum: int = 1) -> int:
    value = _get(env, name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = minimum - 1
    if number < minimum:
        raise ConfigError(f"{name}={value!r} is not a whole number >= {minimum}. "
                          f"Set {name} to e.g. {default}, or unset it to use {default}.")
    return number


def _seconds(env, name: str, default: float, below: float) -> float:
    value = _get(env, name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 <= number < below:
        raise ConfigError(f"{name}={value!r} is not a number of seconds from 0 to below {below:g}. "
                          f"Set it below the platform's stop grace period (e.g. {default:g}), or unset it.")
    return number


def _app_url(env) -> str | None:
    url = _get(env, "APP_URL")
    if url is None and _get(env, "HEROKU_APP_DEFAULT_DOMAIN_NAME"):
        url = "https://" + env["HEROKU_APP_DEFAULT_DOMAIN_NAME"].strip()  # Heroku's dyno metadata
    if url is not None and urlsplit(url).scheme not in ("http", "https"):
        raise ConfigError(f"APP_URL={url!r} is not an http(s) URL. Set it to the app's public base URL, "
                          "e.g. https://my-bot.example.org.")
    return url


def _database(env, data_dir: Path) -> tuple[dict, str]:
    url = _get(env, "DATABASE_URL")
    source = "DATABASE_URL"
    if url is None:
        url = f"sqlite:///{data_dir / 'charla.sqlite3'}"
        source = "default (SQLite in DATA_DIR)"
    try:
        db = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except Exception as exc:  # dj-database-url raises several types for bad URLs
        raise ConfigError(f"DATABASE_URL is not a database URL ({exc}). "
                          "Use e.g. postgres://user:password@host:5432/dbname, or unset it for SQLite.") from None
    if db["ENGINE"].endswith("sqlite3"):
        db["CONN_MAX_AGE"] = 0
        # WAL + IMMEDIATE transactions let web, worker and beat share one file without "database is locked".
        db["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE",
                         "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    elif db["ENGINE"].endswith("postgresql"):
        db.setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
    return db, source


def _broker(env, data_dir: Path) -> tuple[str, str]:
    for name in BROKER_VARIABLES:
        url = _get(env, name)
        if url is None:
            continue
        scheme = urlsplit(url).scheme
        if scheme not in SUPPORTED_BROKER_SCHEMES:
            raise ConfigError(f"{name} has scheme {scheme!r}, which is not a broker this app supports. "
                              f"Use amqp://user:password@host:5672/vhost (RabbitMQ) or redis://host:6379/0.")
        return url, name
    # Embedded broker: kombu's SQLAlchemy transport on an SQLite file. Transactional (a message
    # is fully written or absent), survives restarts, and web, worker and beat share it as separate
    # processes with no server to run.
    return f"{EMBEDDED_BROKER_SCHEME}:///{data_dir / 'broker.sqlite3'}", "default (embedded SQLite broker in DATA_DIR)"


def _console_signing_secret(secret_key: str) -> str:
    # With no Slack app, the console signs its events with a secret only this install knows.
    return hmac.new(secret_key.encode(), b"charlandero-local-console", hashlib.sha256).hexdigest()


def load(environ=None) -> Config:
    if environ is None:
        _read_dotenv()
        environ = os.environ
    env = environ

    debug = _flag(env, "DEBUG", False)
    secret_key = _get(env, "SECRET_KEY")
    if secret_key is None:
        if not debug:
            raise ConfigError("SECRET_KEY is not set and DEBUG is off. Set SECRET_KEY to a long random string "
                              "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
                              "or set DEBUG=1 for local development.")
        secret_key = "insecure-local-development-key-do-not-use-in-production"
    elif not debug and len(secret_key) < 32:
        raise ConfigError("SECRET_KEY is shorter than 32 characters. Set SECRET_KEY to a long random string "
                          "(python -c 'import secrets; print(secrets.token_urlsafe(50))').")

    data_dir = Path(_get(env, "DATA_DIR") or PROJECT_ROOT / "data").expanduser().resolve()
    database, database_source = _database(env, data_dir)
    broker_url, broker_source = _broker(env, data_dir)

    token = _get(env, "SLACK_BOT_TOKEN")
    signing_secret = _get(env, "SLACK_SIGNING_SECRET")
    if token and not signing_secret:
        raise ConfigError("SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is not. Copy the signing secret from "
                          "your Slack app's Basic Information page into SLACK_SIGNING_SECRET.")
    if signing_secret and not token:
        raise ConfigError("SLACK_SIGNING_SECRET is set but SLACK_BOT_TOKEN is not. Copy the Bot User OAuth Token "
                          "(xoxb-...) from your Slack app's OAuth & Permissions page into SLACK_BOT_TOKEN.")
    if token and not token.startswith("xox"):
        raise ConfigError("SLACK_BOT_TOKEN does not look like a Slack token (it should start with xoxb-). "
                          "Copy the Bot User OAuth Token from your Slack app's OAuth & Permissions page.")
    slack_api_url = _get(env, "SLACK_API_URL") or DEFAULT_SLACK_API_URL
    if urlsplit(slack_api_url).scheme not in ("http", "https"):
        raise ConfigError(f"SLACK_API_URL={slack_api_url!r} is not an http(s) URL. "
                          f"Unset it to use {DEFAULT_SLACK_API_URL}.")
    if not slack_api_url.endswith("/"):
        slack_api_url += "/"

    feed = _get(env, "AGENDA_FEED_URL")
    if feed and urlsplit(feed).scheme not in ("http", "https", "file"):
        raise ConfigError(f"AGENDA_FEED_URL={feed!r} is not an http(s) or file URL. "
                          "Point it at a JSON or iCalendar (.ics) feed, or unset it to keep the sample agenda.")

    log_level = (_get(env, "LOG_LEVEL") or "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL={log_level!r} is not a log level. Use one of {', '.join(LOG_LEVELS)}.")

    hosts = [h.strip() for h in (_get(env, "ALLOWED_HOSTS") or "localhost,127.0.0.1,[::1]").split(",") if h.strip()]

    return Config(
        debug=debug,
        secret_key=secret_key,
        allowed_hosts=hosts,
        data_dir=data_dir,
        database=database,
        database_url_source=database_source,
        broker_url=broker_url,
        broker_url_source=broker_source,
        slack_bot_token=token,
        slack_signing_secret=signing_secret or _console_signing_secret(secret_key),
        slack_api_url=slack_api_url,
        agenda_feed_url=feed,
        agenda_refresh_seconds=_positive_int(env, "AGENDA_REFRESH_SECONDS", 900, minimum=10),
        inbox_retry_seconds=_positive_int(env, "INBOX_RETRY_SECONDS", 15, minimum=1),
        web_concurrency=_positive_int(env, "WEB_CONCURRENCY", 2),
        worker_concurrency=_positive_int(env, "CELERY_WORKER_CONCURRENCY", 2),
        log_level=log_level,
        # Seconds a running task gets after SIGTERM before the worker hands it back (Heroku kills at 30 s).
        worker_soft_shutdown_timeout=_seconds(env, "CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT", 15.0, below=300),
        # The worker's own events (heartbeats; task events too while Flower asks for them): off by default,
        # each costs broker messages (CloudAMQP counts them); Flower's Workers and Tasks pages need them.
        worker_events=_flag(env, "CELERY_WORKER_EVENTS", False),
        secure_ssl_redirect=_flag(env, "SECURE_SSL_REDIRECT", False),
        secure_hsts_seconds=_positive_int(env, "SECURE_HSTS_SECONDS", 0, minimum=0),
        app_url=_app_url(env),
        console_enabled=token is None,
    )


def load_or_exit() -> Config:
    try:
        return load()
    except ConfigError as exc:
        sys.stderr.write(f"charlandero: configuration error: {exc}\n")
        raise SystemExit(2) from None
