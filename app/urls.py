from django.contrib import admin
from django.urls import include, path

from app.bot import views as slack_views
from app.ops import views as ops_views

urlpatterns = [
    path("slack/events", slack_views.slack_events, name="slack-events"),
    path("slack/commands", slack_views.slack_commands, name="slack-commands"),
    path("healthz", ops_views.healthz, name="healthz"),
    path("readyz", ops_views.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("", include("app.console.urls")),
]
