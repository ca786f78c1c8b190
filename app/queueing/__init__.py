"""The broker plumbing, in one room: the Celery app, worker and beat start-up, the embedded broker, the
queue layout, web's delivery publisher and the worker's delivery consumer (docs/architecture.md).

Every use of a private Celery/kombu/py-amqp API is in this package, each marked "Private API" with the
upstream version it was checked against. Importing the package itself loads nothing.
"""
