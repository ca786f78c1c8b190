"""Read-only queries over the bot's store."""
from __future__ import annotations

from django.db.models import Count

from app.bot.models import CommandUse, Message


# Subtypes a person writes; joins, topic changes and the like are not "messages written".
WRITTEN_SUBTYPES = ("", "thread_broadcast", "file_share", "me_message")


def message_count(team: str, user: str, channel: str | None = None) -> int:
    messages = Message.objects.filter(team=team, user=user, is_bot=False, deleted_at__isnull=True,
                                      subtype__in=WRITTEN_SUBTYPES)
    if channel is not None:
        messages = messages.filter(channel=channel)
    return messages.count()


def command_usage(team: str | None = None) -> list[tuple[str, int]]:
    """(command, times used), most used first; unknown words are not commands and are left out."""
    uses = CommandUse.objects.exclude(command="")
    if team is not None:
        uses = uses.filter(team=team)
    rows = uses.values("command").annotate(n=Count("id")).order_by("-n", "command")
    return [(row["command"], row["n"]) for row in rows]


def recent_messages(channel: str | None = None, after_id: int = 0, limit: int = 50) -> list[Message]:
    messages = Message.objects.filter(id__gt=after_id, deleted_at__isnull=True)
    if channel:
        messages = messages.filter(channel=channel)
    return list(messages.order_by("-id")[:limit])[::-1]
