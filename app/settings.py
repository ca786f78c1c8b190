"""Django settings: every value comes from app.environment (the one place env is read)."""
from app.environment import PROJECT_ROOT, load_or_exit
from app.queueing import layout

CONFIG = load_or_exit()
# Before anything declares a queue: every process loads these settings first (web through Django, the worker
# and beat through the Celery app's configuration, manage.py commands).
layout.use_queue_type(CONFIG.queue_type)

BASE_DIR = PROJECT_ROOT
DEBUG = CONFIG.debug
SECRET_KEY = CONFIG.secret_key
ALLOWED_HOSTS = CONFIG.allowed_hosts
CONFIG.data_dir.mkdir(parents=True, exist_ok=True)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "app.bot",
    "app.agenda",
    "app.console",
    "app.ops",
    "app.queueing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "app.urls"
WSGI_APPLICATION = "app.wsgi.application"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]

DATABASES = {"default": CONFIG.database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
                    if not DEBUG else "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Only the hashed copies of static files are served (the templates name those); the others are not kept.
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
# Slack bodies are small; anything past this is refused with 413 before it is parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
SLACK_MAX_BODY_BYTES = 64 * 1024

# Behind Heroku's router or nginx, the original scheme arrives in X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
# The console (the no-Slack mode) is typically opened as http://host:8000/, where a Secure cookie would be
# dropped; its CSRF cookie holds no credential.
CSRF_COOKIE_SECURE = not DEBUG and not CONFIG.console_enabled
SECURE_CONTENT_TYPE_NOSNIFF = True
# Where TLS ends at a proxy we trust (Heroku's router, nginx with a certificate), turn these on: plain
# http is redirected and browsers are told to stay on https. Probes speak plain http inside the host.
SECURE_SSL_REDIRECT = CONFIG.secure_ssl_redirect
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = CONFIG.secure_hsts_seconds
SECURE_HSTS_INCLUDE_SUBDOMAINS = True  # only sent when SECURE_HSTS_SECONDS > 0
# Preloading is a commitment the domain's owner makes for every name under it, not an app default.
SECURE_HSTS_PRELOAD = False
SILENCED_SYSTEM_CHECKS = ["security.W021"]
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"one_line_warning": {"()": "app.log_filters.OneLineWarning"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": CONFIG.log_level},
    "loggers": {
        # Per-task "received/succeeded" lines cost a good share of worker throughput; keep them for DEBUG.
        "celery.app.trace": {"level": "DEBUG" if CONFIG.log_level == "DEBUG" else "WARNING"},
        "celery.worker.strategy": {"level": "DEBUG" if CONFIG.log_level == "DEBUG" else "WARNING"},
        "slack_sdk": {"level": "WARNING"},
        "django.security.DisallowedHost": {"filters": ["one_line_warning"]},
    },
}

# ---- Celery (read by app/queueing/celery_app.py with the CELERY_ namespace) -----------------
# The queue layout is defined once, in app/queueing/layout.py.
CELERY_BROKER_URL = CONFIG.broker_url
CELERY_TASK_QUEUES = layout.TASK_QUEUES
CELERY_TASK_DEFAULT_QUEUE = layout.DEFAULT_QUEUE
CELERY_TASK_DEFAULT_EXCHANGE = layout.EXCHANGE.name
CELERY_TASK_DEFAULT_EXCHANGE_TYPE = layout.EXCHANGE.type
CELERY_TASK_DEFAULT_ROUTING_KEY = layout.DEFAULT_ROUTING_KEY
CELERY_TASK_ROUTES = layout.TASK_ROUTES
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
# Acknowledge after the work is done and give the task back if the worker dies under it:
# every task is idempotent, so a redelivery is safe and nothing is lost.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CONCURRENCY = CONFIG.worker_concurrency
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = CONFIG.worker_soft_shutdown_timeout
# A pool child that grew past 200 MB is replaced after its current task (R14 safety net on 512 MB dynos).
CELERY_WORKER_MAX_MEMORY_PER_CHILD = 200_000
# Celery's Django fixup closes the database connection around every task (a new PostgreSQL connection,
# i.e. a new server process, for each of the three tasks of a reply). Reuse them instead; the Celery app
# (app/queueing/celery_app.py) applies Django's own per-request rule (CONN_MAX_AGE, health checks) around each task.
CELERY_DB_REUSE_MAX = 10**9
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_TASK_SEND_SENT_EVENT = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 10
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "app.queueing.scheduler:ResilientScheduler"
CELERY_BEAT_SCHEDULE_FILENAME = str(CONFIG.data_dir / "celerybeat-schedule")
CELERY_WORKER_CONSUMER = "app.queueing.reconnect:QuickReconnectConsumer"
CELERY_BEAT_SCHEDULE = {
    "refresh-agenda": {"task": "app.agenda.tasks.refresh_agenda", "schedule": float(CONFIG.agenda_refresh_seconds)},
    "retry-parked-events": {"task": "app.bot.tasks.retry_parked_events", "schedule": float(CONFIG.inbox_retry_seconds)},
    "reconcile": {"task": "app.bot.tasks.reconcile", "schedule": 30.0},
    "forget-old-events": {"task": "app.bot.tasks.forget_old_events", "schedule": 3600.0},
}
# A publisher that finds the broker gone tries once more, briefly, then reports it: web must answer Slack
# within 3 s and parks the event in the database instead (the worker's consumer has its own retry loop).
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
if CONFIG.broker_is_embedded:
    # Handed to SQLAlchemy's create_engine: how long SQLite waits for a lock before the transport
    # reports the broker unavailable.
    CELERY_BROKER_TRANSPORT_OPTIONS["connect_args"] = {"timeout": 2}
if CONFIG.broker_is_amqp:
    # Publisher confirms on every publish (web's hand-off, the worker's forward, every task and retry): a
    # message counts as sent only once RabbitMQ has it on disk, so a broker crash loses nothing accepted.
    CELERY_BROKER_TRANSPORT_OPTIONS["confirm_publish"] = True
    # CloudAMQP's guidance for Celery: few connections, fast failure, no chatter that eats the quota.
    # 2, not CloudAMQP's 1: a control round trip (`celery inspect ...`) needs two connections at once.
    CELERY_BROKER_POOL_LIMIT = 2
    CELERY_BROKER_HEARTBEAT = 30
    CELERY_EVENT_QUEUE_EXPIRES = 60
    # RabbitMQ 4.3+ refuses transient non-exclusive queues: control and event queues must be exclusive.
    CELERY_CONTROL_QUEUE_EXCLUSIVE = True
    CELERY_CONTROL_QUEUE_DURABLE = False
    CELERY_EVENT_QUEUE_EXCLUSIVE = True
    CELERY_EVENT_QUEUE_DURABLE = False
    CELERY_CONTROL_QUEUE_EXPIRES = 10.0
    CELERY_CONTROL_QUEUE_TTL = 300.0
    # Quorum queues (CHARLA_QUEUE_TYPE=quorum, layout.use_queue_type): the worker sees them in TASK_QUEUES and
    # switches off global QoS, which quorum queues refuse (540 NOT_IMPLEMENTED), for a per-consumer prefetch;
    # delayed tasks then go through the delay queues Celery declares, of the same type. Said here, not left to
    # the defaults, because without it a worker on quorum queues loops on that 540.
    CELERY_WORKER_DETECT_QUORUM_QUEUES = True
    CELERY_BROKER_NATIVE_DELAYED_DELIVERY_QUEUE_TYPE = CONFIG.queue_type
