from django.urls import path

from app.console import views

urlpatterns = [
    path("", views.index, name="console"),
]
