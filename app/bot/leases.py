"""Single-flight for periodic jobs: beat may send a job again while one run is still going (after an outage
several sends queue up), and two workers may take them at once. One conditional UPDATE picks one winner on
PostgreSQL and SQLite alike."""
from __future__ import annotations

import contextlib
from datetime import timedelta

from django.utils import timezone

from app.bot.models import JobLease


@contextlib.contextmanager
def single_flight(name: str, seconds: float = 120):
    """Yields True to the one run that holds the lease, False to any other run meanwhile."""
    now = timezone.now()
    JobLease.objects.get_or_create(name=name, defaults={"until": now})
    held = JobLease.objects.filter(name=name, until__lte=now).update(until=now + timedelta(seconds=seconds)) == 1
    try:
        yield held
    finally:
        if held:
            JobLease.objects.filter(name=name).update(until=timezone.now())
