"""Byte-compiles, at image build time, the modules the image's processes import when they start, and only those.

    python deploy/docker/precompile.py        # in the Dockerfile, as root, once the code is in place

At run time the root file system is read-only and PYTHONDONTWRITEBYTECODE is set, so a module with no .pyc in
the image is compiled in memory at every start of every process. Compiling every installed module would make
the image much bigger, compiling none makes every start slower (the measured trade-off is in
deploy/docker/README.md, "The image"). So this imports what release, web, worker, beat and `all` import
at start, on either database and either broker, and writes a .pyc for each of those modules — the
virtualenv's, the standard library's (the official python image ships none) and the app's (all of it). A module
missed here still works: it is compiled in memory when imported, as before.

The .pyc files are "unchecked-hash": Python loads them without comparing the source's timestamp, which
tools that rewrite file times in images (reproducible builds) would otherwise break; the sources in an image
never change after the build.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import py_compile
import sys
import tempfile
from pathlib import Path

APP_DIR = Path(__file__).resolve().parents[2]


def import_what_the_processes_import() -> None:
    # Throwaway settings: nothing is started, connected to or written outside a temporary folder.
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "app.settings",
        "SECRET_KEY": "precompile-" + "x" * 40,
        "DATA_DIR": tempfile.mkdtemp(prefix="precompile-"),
        "DEBUG": "0",
    })
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "CLOUDAMQP_URL", "RABBITMQ_URL"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(APP_DIR))

    import django
    django.setup()

    # release: manage.py's system checks (they import the URLconf, every view, the admin), migrate with
    # every app's migrations, the release command itself.
    from django.core import checks
    from django.core.management import load_command_class
    from django.db.migrations.loader import MigrationLoader
    checks.run_checks()
    MigrationLoader(None, ignore_no_migrations=True)
    for app_name, command in (("app.ops", "release"), ("django.core", "migrate"), ("app.ops", "doctor")):
        load_command_class(app_name, command)

    # web: gunicorn's master and sync workers, the WSGI app with its middleware, the template engines.
    from django.template import engines
    for module in ("gunicorn.app.wsgiapp", "gunicorn.arbiter", "gunicorn.workers.sync", "gunicorn.glogging",
                   "gunicorn.http.wsgi", "app.wsgi"):
        importlib.import_module(module)
    engines.all()

    # worker and beat: the Celery app and its tasks, the steps of the worker's and consumer's blueprints,
    # the prefork pool, beat, and the transports of RabbitMQ and of the embedded broker.
    from celery.utils.imports import symbol_by_name
    from celery.worker import WorkController
    from celery.worker.consumer import Consumer
    from kombu.transport import resolve_transport

    from app.celery import celery_app
    celery_app.loader.import_default_modules()
    for step in (*WorkController.Blueprint.default_steps, *Consumer.Blueprint.default_steps):
        symbol_by_name(step)
    for module in ("app.queueing.start", "celery.apps.worker", "celery.apps.beat", "celery.beat",
                   "celery.concurrency.prefork", "celery.worker.strategy", "celery.events.dispatcher"):
        importlib.import_module(module)
    for transport in ("amqp", "charla-sqlite"):
        symbol_by_name(resolve_transport(transport))

    # Both databases' drivers, and honcho for `all`.
    for module in ("django.db.backends.postgresql.base", "django.db.backends.sqlite3.base",
                   "honcho.command", "honcho.manager"):
        importlib.import_module(module)


def compile_module_file(source: str) -> bool:
    """Write source's .pyc where Python looks for it, unless one is there already (the stand-in base's
    standard library comes compiled by Debian). True when a file was written."""
    target = importlib.util.cache_from_source(source)
    if os.path.exists(target):
        return False
    py_compile.compile(source, cfile=target, doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    return True


def main() -> int:
    import_what_the_processes_import()
    sources = {m.__file__ for m in list(sys.modules.values())
               if getattr(m, "__file__", None) and m.__file__.endswith(".py")}
    sources |= {str(p) for p in (APP_DIR / "app").rglob("*.py")}   # the app's own code, all of it
    written = sum(compile_module_file(source) for source in sorted(sources) if os.path.exists(source))
    print(f"precompile: {written} modules compiled ({len(sources)} imported or in app/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
