"""`manage.py doctor`: the effective configuration (secrets masked) and whether its services answer."""
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.management import BaseCommand, CommandError

from app.environment import BROKER_VARIABLES
from app.ops import health


def mask_url(url: str) -> str:
    if ";" in url:  # a failover list (a broker cluster's nodes): each one's password is masked
        return ";".join(mask_url(part) for part in url.split(";"))
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":****@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def mask_secret(value: str | None) -> str:
    """Enough to tell which kind of token is set (xoxb-, xoxp-), nothing that helps to guess it."""
    if not value:
        return "(not set)"
    kind = value[:5] if value.startswith(("xox", "xapp")) else ""
    return f"{kind}**** (set, {len(value)} characters)"


def _mode(c) -> str:
    if c.socket_mode:
        return "Slack app over Socket Mode (the socket process; web's Slack endpoints are off)"
    if c.slack_bot_token:
        return "Slack app"
    if c.console_enabled:
        return "local console at / (no Slack app configured)"
    return "no Slack app configured; the local console is off (CONSOLE_ENABLED=1 turns it on)"


class Command(BaseCommand):
    help = "Print the effective configuration (secrets masked) and check the database and broker."

    def handle(self, *args, **options):
        c = settings.CONFIG
        db = c.database
        db_desc = (f"{db['ENGINE'].rsplit('.', 1)[-1]} {db.get('NAME')}"
                   + (f" on {db.get('HOST')}:{db.get('PORT')}" if db.get("HOST") else ""))
        rows = [
            ("DEBUG", str(c.debug)),
            ("SECRET_KEY", mask_secret(c.secret_key)),
            ("ALLOWED_HOSTS", ", ".join(c.allowed_hosts)),
            ("DATA_DIR", str(c.data_dir)),
            ("database", f"{db_desc}  [from {c.database_url_source}]"),
            ("broker", f"{mask_url(c.broker_url)}  [from {c.broker_url_source}]"),
            ("CHARLA_QUEUE_TYPE", c.queue_type),
            ("SLACK_BOT_TOKEN", mask_secret(c.slack_bot_token)),
            ("SLACK_SIGNING_SECRET", "(not used: Socket Mode)" if c.socket_mode else
             "(set)" if c.slack_bot_token else "(not set: local console signs its own)"),
            ("SLACK_APP_TOKEN", mask_secret(c.slack_app_token) + ("" if c.socket_mode else ": Slack comes over HTTP")),
            ("SLACK_API_URL", c.slack_api_url),
            ("mode", _mode(c)),
            ("PORT", str(c.port)),
            ("AGENDA_FEED_URL", mask_url(c.agenda_feed_url) if c.agenda_feed_url else "(not set: sample agenda)"),
            ("AGENDA_REFRESH_SECONDS", str(c.agenda_refresh_seconds)),
            ("INBOX_RETRY_SECONDS", str(c.inbox_retry_seconds)),
            ("WEB_CONCURRENCY", str(c.web_concurrency)),
            ("CELERY_WORKER_CONCURRENCY", str(c.worker_concurrency)),
            ("WORKER_EMBEDDED_BEAT", str(c.worker_embedded_beat)),
            ("LOG_LEVEL", c.log_level),
        ]
        width = max(len(k) for k, _ in rows)
        for key, value in rows:
            self.stdout.write(f"{key.ljust(width)}  {value}")

        problems = []
        database, broker = health.database_check(), health.broker_check()
        self.stdout.write("")
        self.stdout.write(f"database: {'ok' if database.ok else 'NOT REACHABLE'} ({database.millis:.0f} ms) "
                          f"{database.detail}")
        self.stdout.write(f"broker:   {'ok' if broker.ok else 'NOT REACHABLE'} ({broker.millis:.0f} ms) {broker.detail}")
        if not database.ok:
            problems.append("the database does not answer: check DATABASE_URL and that the server is running")
        if not broker.ok:
            problems.append(f"the broker does not answer: check {'/'.join(BROKER_VARIABLES)}")
        if c.slack_bot_token is None:
            self.stdout.write("note: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not set; replies stay in the "
                              "database (the local console shows them). Set both to connect a Slack app.")
        if problems:
            raise CommandError("; ".join(problems))
        self.stdout.write(self.style.SUCCESS("all good"))
