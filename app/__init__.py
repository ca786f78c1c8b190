"""Charlandero. Importing this package loads nothing: the Celery app is loaded by Django's start-up
(app/queueing/apps.py) or by whoever imports app.celery, so a tool can import app.environment alone."""
