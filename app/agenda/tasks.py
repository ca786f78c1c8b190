"""Celery entry points: thin wrappers that read the config and call the services."""
from celery import shared_task
from django.conf import settings

from app.agenda import services


@shared_task(name="app.agenda.tasks.refresh_agenda")
def refresh_agenda() -> dict:
    # Failures are handled (and recorded) by the service and beat runs this again next period,
    # so there is nothing to retry here.
    return services.refresh_agenda(settings.CONFIG.agenda_feed_url).as_dict()
