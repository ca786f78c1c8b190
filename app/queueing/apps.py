from django.apps import AppConfig


class QueueingConfig(AppConfig):
    name = "app.queueing"
    label = "queueing"

    def ready(self):
        # Load the Celery app with Django, so that shared tasks sent from any process (web included) are
        # bound to it and its broker, not to Celery's default app.
        from app.queueing import celery_app  # noqa: F401
