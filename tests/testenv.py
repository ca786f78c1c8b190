"""Loaded as a pytest plugin (-p tests.testenv) before Django starts: the test run's environment.

Every run gets a fresh data folder (Hypothesis's storage too) and fresh Slack secrets. DATABASE_URL and
CELERY_BROKER_URL are kept when given (the second pass of `./charla test` runs on PostgreSQL and RabbitMQ);
otherwise the embedded defaults are used.
"""
import os
import secrets
import tempfile

os.environ["DATA_DIR"] = tempfile.mkdtemp(prefix="charla-test-")
# Hypothesis keeps caches (and, unless told not to, examples) in ./.hypothesis: not in the repository.
os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = os.path.join(os.environ["DATA_DIR"], "hypothesis")
os.environ["SECRET_KEY"] = secrets.token_urlsafe(48)
os.environ["SLACK_BOT_TOKEN"] = "xoxb-test-" + secrets.token_hex(8)
os.environ["SLACK_SIGNING_SECRET"] = secrets.token_hex(16)
os.environ["DEBUG"] = "0"
os.environ["LOG_LEVEL"] = "INFO"
for name in ("CLOUDAMQP_URL", "RABBITMQ_URL", "REDIS_URL", "AGENDA_FEED_URL", "SLACK_API_URL", "PORT", "CHARLA_LOCAL",
             "CONSOLE_ENABLED", "SLACK_APP_TOKEN"):
    os.environ.pop(name, None)
