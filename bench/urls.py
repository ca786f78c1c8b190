"""The app's URLs plus two benchmark-only views (see bench/settings.py): /bench/floor and
/bench/events-apply-async (/slack/events with the previous hand-off, for a before/after in one run)."""
from django.urls import include, path

from bench.baseline import events_apply_async
from bench.floor import floor

urlpatterns = [
    path("bench/floor", floor, name="bench-floor"),
    path("bench/events-apply-async", events_apply_async, name="bench-events-apply-async"),
    path("", include("app.urls")),
]
