"""Benchmark-only settings: the app's settings plus one extra URL, /bench/floor.

Used only by bench/run.sh (DJANGO_SETTINGS_MODULE=bench.settings for the web process); production
never imports this module, so the floor view is not part of the shipped URLs.
"""
from app.settings import *  # noqa: F401,F403  (the benchmark measures the real configuration)

ROOT_URLCONF = "bench.urls"
