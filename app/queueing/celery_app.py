"""The Celery app. Configuration comes from Django settings (CELERY_* names), which read the env."""
import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

from app.queueing import embedded

embedded.register()

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")

celery_app = Celery("charlandero")
celery_app.config_from_object("django.conf:settings", namespace="CELERY")
celery_app.autodiscover_tasks(["app.bot", "app.agenda"])
# Every worker also takes web's deliveries off the `deliveries` queue and starts their processing. Named,
# not imported: the step reaches the bot's tasks, which must not be loaded by whoever loads this app.
celery_app.steps["consumer"].add("app.queueing.deliveries:DeliveryConsumer")
# And services' announcements off the `announcements` queue (docs/announcements.md), the same way.
celery_app.steps["consumer"].add("app.queueing.announcements:AnnouncementConsumer")


@task_prerun.connect(weak=False)
@task_postrun.connect(weak=False)
def close_old_connections(task=None, **_):
    """What Django does around each web request: drop a connection that errored, is in a broken
    transaction or is older than CONN_MAX_AGE; keep a healthy one for the next task. Not for a task
    run eagerly (task.apply()): it runs inside its caller's connection and transaction."""
    if task is not None and task.request.is_eager:
        return
    from django.db import close_old_connections as close_old

    close_old()
