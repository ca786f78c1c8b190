"""The Celery app. Configuration comes from Django settings (CELERY_* names), which read the env."""
import os

from celery import Celery

from app import embedded_broker

embedded_broker.register()

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")

celery_app = Celery("charlandero")
celery_app.config_from_object("django.conf:settings", namespace="CELERY")
celery_app.autodiscover_tasks(["app.bot", "app.agenda"])
