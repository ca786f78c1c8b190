"""Every setting Charlandero reads, read here and only here, from the environment.

`load()` returns a frozen Config. A missing or malformed variable raises ConfigError with a
message naming the variable and the fix; `load_or_exit()` turns that into a one-line exit
(no traceback) for the processes' start-up paths.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
BROKER_VARIABLES = ("CELERY_BROKER_URL", "CLOUDAMQP_URL", "RABBITMQ_URL")
DATABASE_SCHEMES = ("postgres", "postgresql", "pgsql", "postgis", "sqlite")  # with the drivers we install
SUPPORTED_BROKER_SCHEMES = ("amqp", "amqps", "pyamqp", "sqla+sqlite", "charla-sqlite+sqlite")
EMBEDDED_BROKER_SCHEME = "charla-sqlite+sqlite"  # registered with kombu by app/queueing/embedded.py
DEFAULT_PORT = 8000
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
AMQP_SCHEMES = ("amqp", "amqps", "pyamqp")
QUEUE_TYPES = ("classic", "quorum")


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
    slack_app_token: str | None        # xapp-…: Socket Mode (the `socket` process); HTTP Slack endpoints off
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
    port: int                          # web's port (gunicorn binds it; `bin/process all` prints it)
    gunicorn_worker_class: str
    gunicorn_threads: int
    gunicorn_keepalive: int
    gunicorn_max_requests: int
    worker_embedded_beat: bool         # single-dyno mode: the worker runs the beat scheduler too
    queue_type: str                    # classic | quorum (RabbitMQ's queue type for every queue we declare)
    local: bool                        # started by ./charla on a developer's machine (CHARLA_LOCAL=1)
    console_enabled: bool = field(default=False)
    port_given: bool = field(default=False)  # PORT was set (a local run then never moves to a free port)

    @property
    def socket_mode(self) -> bool:
        """Slack reaches the bot over a WebSocket the `socket` process opens, not over HTTP."""
        return self.slack_app_token is not None

    @property
    def broker_is_embedded(self) -> bool:
        return self.broker_url.startswith(EMBEDDED_BROKER_SCHEME)

    @property
    def broker_is_amqp(self) -> bool:
        return urlsplit(self.broker_url).scheme in AMQP_SCHEMES

    @property
    def broker_urls(self) -> list[str]:
        """The broker's nodes, in order: kombu's failover list `amqp://a;amqp://b;...` has several."""
        return split_broker_url(self.broker_url)


def split_broker_url(url: str) -> list[str]:
    return [part.strip() for part in url.split(";") if part.strip()]


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


def _positive_int(env, name: str, default: int, minimum: int = 1, maximum: int | None = None) -> int:
    value = _get(env, name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = minimum - 1
    if number < minimum or (maximum is not None and number > maximum):
        bounds = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"
        raise ConfigError(f"{name}={value!r} is not a whole number {bounds}. "
                          f"Set {name} to e.g. {default or 1000}, or unset it to use {default}.")
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
    fix = "Use e.g. postgres://user:password@host:5432/dbname, or unset it for SQLite in DATA_DIR."
    scheme = urlsplit(url).scheme if "://" in url else ""
    if scheme not in DATABASE_SCHEMES:
        # Our own words: dj-database-url's message lists every scheme it knows, most of them not for this app.
        what = f"has scheme {scheme!r}, which" if scheme else "has no scheme (postgres://...), so it"
        raise ConfigError(f"DATABASE_URL {what} is not a database this app supports. {fix}")
    try:
        db = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except Exception:  # dj-database-url raises several types for bad URLs; the URL may hold a password
        raise ConfigError("DATABASE_URL is not a URL dj-database-url can read (a port that is not a number, or a "
                          f"character in the password that needs %-quoting?). {fix}") from None
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
        # Several nodes of one cluster: kombu's failover list, amqp://node1;amqp://node2;... (tried in turn).
        schemes = {urlsplit(part).scheme for part in split_broker_url(url)}
        if schemes & {"redis", "rediss"}:
            # "Nothing lost" rests on RabbitMQ's publisher confirms and its acknowledgements (README).
            raise ConfigError(f"{name} names a Redis server, which this app does not use as its broker: its "
                              "guarantees rest on RabbitMQ's publisher confirms. Use amqp://user:password@host:5672/"
                              "vhost (RabbitMQ, e.g. CloudAMQP), or unset it for the embedded broker.")
        for scheme in sorted(schemes):
            if scheme not in SUPPORTED_BROKER_SCHEMES:
                raise ConfigError(f"{name} has scheme {scheme!r}, which is not a broker this app supports. Use "
                                  "amqp://user:password@host:5672/vhost (RabbitMQ), or unset it for the embedded broker.")
        if len(schemes) > 1:
            raise ConfigError(f"{name} lists nodes of different kinds ({', '.join(sorted(schemes))}). A failover "
                              "list names nodes of one RabbitMQ cluster: amqp://u:p@node1/vhost;amqp://u:p@node2/vhost")
        return url, name
    # Embedded broker: kombu's SQLAlchemy transport on an SQLite file. Transactional (a message
    # is fully written or absent), survives restarts, and web, worker and beat share it as separate
    # processes with no server to run.
    return f"{EMBEDDED_BROKER_SCHEME}:///{data_dir / 'broker.sqlite3'}", "default (embedded SQLite broker in DATA_DIR)"


def _data_dir(env) -> Path:
    return Path(_get(env, "DATA_DIR") or PROJECT_ROOT / "data").expanduser().resolve()


def _allowed_hosts(env) -> list[str]:
    return [h.strip() for h in (_get(env, "ALLOWED_HOSTS") or "localhost,127.0.0.1,[::1]").split(",") if h.strip()]


def _port(env) -> int:
    return _positive_int(env, "PORT", DEFAULT_PORT, maximum=65535)


def _slack_app_token(env, bot_token: str | None) -> str | None:
    """SLACK_APP_TOKEN turns Socket Mode on: Slack's deliveries come over the WebSocket the `socket` process
    opens (no public URL needed), and replies still go out with the bot token."""
    app_token = _get(env, "SLACK_APP_TOKEN")
    if app_token is None:
        return None
    if not app_token.startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN does not look like an app-level token (it should start with xapp-). "
                          "Generate one with the connections:write scope under Basic Information > App-Level "
                          "Tokens in your Slack app, or unset SLACK_APP_TOKEN to receive Slack over HTTP.")
    if not bot_token:
        raise ConfigError("SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is not. Copy the Bot User OAuth Token "
                          "(xoxb-...) from your Slack app's OAuth & Permissions page into SLACK_BOT_TOKEN.")
    return app_token


def _queue_type(env, broker_url: str) -> str:
    value = (_get(env, "CHARLA_QUEUE_TYPE") or "classic").lower()
    if value not in QUEUE_TYPES:
        raise ConfigError(f"CHARLA_QUEUE_TYPE={value!r} is not a queue type. Use classic (one RabbitMQ node) or "
                          "quorum (a cluster of 3 or more nodes), or unset it for classic.")
    if value == "quorum" and urlsplit(broker_url).scheme not in AMQP_SCHEMES:
        raise ConfigError("CHARLA_QUEUE_TYPE=quorum needs RabbitMQ (quorum queues are RabbitMQ's), but the broker is "
                          f"{urlsplit(broker_url).scheme or 'not RabbitMQ'}. Set CELERY_BROKER_URL to amqp://... "
                          "(several nodes: amqp://node1;amqp://node2;...), or unset CHARLA_QUEUE_TYPE.")
    return value


def _console_signing_secret(secret_key: str) -> str:
    # With no Slack app, the console signs its events with a secret only this install knows.
    return hmac.new(secret_key.encode(), b"charlandero-local-console", hashlib.sha256).hexdigest()


def _console_enabled(env, debug: bool, local: bool, token: str | None) -> bool:
    """The console takes posts from anyone who reaches it: on where it is meant to be, off elsewhere."""
    wanted = _flag(env, "CONSOLE_ENABLED", debug or local)
    if wanted and token and _get(env, "CONSOLE_ENABLED") is not None:
        raise ConfigError("CONSOLE_ENABLED is on but SLACK_BOT_TOKEN is set: the local console only runs without a "
                          "Slack app. Unset CONSOLE_ENABLED, or unset SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET.")
    return wanted and token is None


def load(environ=None) -> Config:
    if environ is None:
        _read_dotenv()
        environ = os.environ
    env = environ

    # The local defaults, here and nowhere else: `./charla run|doctor|manifest` set CHARLA_LOCAL=1, and a
    # developer's machine with no SECRET_KEY then runs in DEBUG (a development key) with the console on.
    local = _flag(env, "CHARLA_LOCAL", False)
    secret_key = _get(env, "SECRET_KEY")
    debug = _flag(env, "DEBUG", local and secret_key is None)
    if secret_key is None:
        if not debug:
            raise ConfigError("SECRET_KEY is not set and DEBUG is off. Set SECRET_KEY to a long random string "
                              "(python -c 'import secrets; print(secrets.token_urlsafe(50))'); on a development "
                              "machine use ./charla run, ./charla doctor or ./charla manifest (DEBUG=1 for you).")
        secret_key = "insecure-local-development-key-do-not-use-in-production"
    elif not debug and len(secret_key) < 32:
        raise ConfigError("SECRET_KEY is shorter than 32 characters. Set SECRET_KEY to a long random string "
                          "(python -c 'import secrets; print(secrets.token_urlsafe(50))').")

    data_dir = _data_dir(env)
    database, database_source = _database(env, data_dir)
    broker_url, broker_source = _broker(env, data_dir)

    token = _get(env, "SLACK_BOT_TOKEN")
    signing_secret = _get(env, "SLACK_SIGNING_SECRET")
    app_token = _slack_app_token(env, token)
    if token and not signing_secret and not app_token:
        raise ConfigError("SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is not. Copy the signing secret from "
                          "your Slack app's Basic Information page into SLACK_SIGNING_SECRET (or, for Socket Mode, "
                          "an app-level token xapp-... into SLACK_APP_TOKEN).")
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

    hosts = _allowed_hosts(env)

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
        slack_app_token=app_token,
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
        port=_port(env),
        port_given=_get(env, "PORT") is not None,
        gunicorn_worker_class=_get(env, "GUNICORN_WORKER_CLASS") or "sync",
        gunicorn_threads=_positive_int(env, "GUNICORN_THREADS", 1),
        # gunicorn.conf.py says why 95 s and why 0 (no recycling) by default.
        gunicorn_keepalive=_positive_int(env, "GUNICORN_KEEPALIVE", 95, minimum=0),  # 0: close after each answer
        gunicorn_max_requests=_positive_int(env, "GUNICORN_MAX_REQUESTS", 0, minimum=0),
        worker_embedded_beat=_flag(env, "WORKER_EMBEDDED_BEAT", False),
        queue_type=_queue_type(env, broker_url),
        local=local,
        console_enabled=_console_enabled(env, debug, local, token),
    )


def load_or_exit() -> Config:
    try:
        return load()
    except ConfigError as exc:
        one_line = " ".join(str(exc).split())  # a value with a newline in it must not break the one line
        sys.stderr.write(f"charlandero: configuration error: {one_line}\n")
        raise SystemExit(2) from None


# ---- For the image's health check and entry point (deploy/docker/): read before a role starts ----------------

BROKER_PORTS = {"amqp": 5672, "pyamqp": 5672, "amqps": 5671}
IMAGE_ROLES = ("all", "web", "worker", "beat", "socket", "release")


@dataclass(frozen=True)
class Probe:
    """What the image's HEALTHCHECK looks at; readable without the secrets, which its process may not have."""
    port: int
    host: str                # a Host name web accepts
    broker_port: int | None  # None: the embedded broker (no connection to look for)
    data_dir: Path


def probe(environ=None) -> Probe:
    env = os.environ if environ is None else environ
    data_dir = _data_dir(env)
    broker = urlsplit(_broker(env, data_dir)[0])
    host = next((h.lstrip(".") for h in _allowed_hosts(env) if h.lstrip(".") and h != "*"), "localhost")
    port = broker.port or BROKER_PORTS.get(broker.scheme)
    return Probe(port=_port(env), host=host, broker_port=port if broker.scheme in BROKER_PORTS else None,
                 data_dir=data_dir)


def image_defaults(role: str, environ=None) -> tuple[dict[str, str], list[str]]:
    """What the image adds to a role's environment when it is not given, and a line to log for each.

    role: one of IMAGE_ROLES, or "command" (anything else run in the image, e.g. `IMAGE python manage.py
    doctor`, or a `docker exec` next to the all-in-one container)."""
    env = os.environ if environ is None else environ
    data_dir = _data_dir(env)
    add: dict[str, str] = {}
    notes: list[str] = []
    # `all` keeps SQLite, the embedded broker and its key in DATA_DIR, beat its schedule: they must write there.
    # (The other roles, on PostgreSQL and RabbitMQ, write nothing and run on a read-only file system.)
    if role in ("all", "beat"):
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
            writable = os.access(data_dir, os.W_OK)
        except OSError:
            writable = False
        if not writable:
            uid, gid = os.getuid(), os.getgid()
            raise ConfigError(f"DATA_DIR={data_dir} is not writable by uid {uid}. Mount a named volume there "
                              f"(-v charla-data:{data_dir}), or chown a bind-mounted folder to {uid}:{gid}.")
    # One container for a small team (`docker run ... IMAGE`) starts with no SECRET_KEY given: one is made,
    # once, in the data volume, and kept (sessions and the console's signing secret survive restarts). Only
    # for `all`: split roles share one key, which must come from the environment. A command run beside the
    # all-in-one container uses that key too.
    key_file = data_dir / "secret_key"
    if _get(env, "SECRET_KEY") is None:
        if role == "all":
            if not (key_file.is_file() and key_file.stat().st_size > 0):
                _write_private(key_file, secrets.token_urlsafe(50) + "\n")
                notes.append(f"no SECRET_KEY given; generated one in {key_file} (kept in the volume)")
            add["SECRET_KEY"] = key_file.read_text().strip()
        elif role == "command" and os.access(key_file, os.R_OK):
            add["SECRET_KEY"] = key_file.read_text().strip()
    # In `all`, honcho stops web, worker and beat on SIGTERM and SIGKILLs what is left 5 s later: the worker's
    # soft shutdown (time for running tasks before they go back to the queue) must end before that.
    if role == "all" and _get(env, "CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT") is None:
        add["CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT"] = "3"
    # With a Slack app, Slack reaches the bot under whatever public name a tunnel or proxy gives it, which the
    # image cannot know; every Slack request is authenticated by its signature, not its Host, so any name is
    # accepted (ALLOWED_HOSTS pins it; the compose stack does). In console mode the default (localhost) stays:
    # the console is meant for http://localhost:8000, and the Host check keeps other pages (DNS rebinding) away.
    # In Socket Mode (SLACK_APP_TOKEN) Slack never reaches web: nothing to widen.
    if (role in IMAGE_ROLES and role not in ("worker", "beat", "socket") and _get(env, "ALLOWED_HOSTS") is None
            and _get(env, "SLACK_BOT_TOKEN") and not _get(env, "SLACK_APP_TOKEN")):
        add["ALLOWED_HOSTS"] = "*"
        notes.append("ALLOWED_HOSTS not set; accepting any Host name (set ALLOWED_HOSTS=bot.example.com to pin it)")
    return add, notes


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, atomically (a reader never sees half of it)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


USAGE = "usage: python -m app.environment check | broker-variables | socket-mode | image-defaults ROLE"


def main(argv: list[str]) -> int:
    """For tools that are not Python (bin/process, ./charla, shell scripts): the same rules, not a copy.
    `check`: exit 2 with the one-line message if the configuration is wrong. `broker-variables`: the
    variables that can name the broker, in the order they are read. `socket-mode`: exit 0 when Slack
    comes over Socket Mode (SLACK_APP_TOKEN), 1 when over HTTP, 2 when the configuration is wrong.
    `image-defaults ROLE`: `export` lines for what the image adds to ROLE's environment (image_defaults)."""
    if argv == ["check"]:
        load_or_exit()
        return 0
    if argv == ["broker-variables"]:
        print(" ".join(BROKER_VARIABLES))
        return 0
    if argv == ["socket-mode"]:  # exit 0 when SLACK_APP_TOKEN is set (bin/process all then runs `socket`)
        return 0 if load_or_exit().socket_mode else 1
    if len(argv) == 2 and argv[0] == "image-defaults":
        # deploy/docker/entrypoint.sh evaluates what this prints (shell-quoted) before it starts the role.
        try:
            add, notes = image_defaults(argv[1])
        except ConfigError as exc:
            sys.stderr.write(f"charlandero: configuration error: {' '.join(str(exc).split())}\n")
            return 2
        for note in notes:
            sys.stderr.write(f"charlandero: {note}\n")
        for name, value in add.items():
            print(f"export {name}={shlex.quote(value)}")
        return 0
    sys.stderr.write(USAGE + "\n")
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
