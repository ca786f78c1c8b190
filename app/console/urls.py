from django.urls import path

from app.console import views

urlpatterns = [
    path("", views.index, name="console"),
    path("console/send", views.send, name="console-send"),
    path("console/feed", views.feed, name="console-feed"),
    path("favicon.ico", views.favicon, name="favicon"),
]
