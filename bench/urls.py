"""The app's URLs plus /bench/floor (benchmark only; see bench/settings.py)."""
from django.urls import include, path

from bench.floor import floor

urlpatterns = [
    path("bench/floor", floor, name="bench-floor"),
    path("", include("app.urls")),
]
