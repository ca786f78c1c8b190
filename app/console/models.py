from django.db import models


class ConsoleUser(models.Model):
    """A name someone typed in the local console, and the Slack-style user id derived from it.

    Kept in the database (not in process memory) so every web worker renders the same names.
    """

    user_id = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=40)
    last_seen = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.user_id})"
