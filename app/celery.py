"""Celery's entry point at the path its command line and the deployment docs name
(`celery --app app.celery:celery_app inspect ...`); the app itself is built in app/queueing/celery_app.py."""
from app.queueing.celery_app import celery_app

__all__ = ("celery_app",)
