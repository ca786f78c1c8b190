from django.apps import AppConfig


class BotConfig(AppConfig):
    name = "app.bot"
    label = "bot"
    verbose_name = "Slack bot"
