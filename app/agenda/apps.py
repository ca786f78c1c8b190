from django.apps import AppConfig


class AgendaConfig(AppConfig):
    name = "app.agenda"
    label = "agenda"
    verbose_name = "Agenda and catalogue"
    default_auto_field = "django.db.models.BigAutoField"
