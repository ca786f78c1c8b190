"""Answering a recorded command: compute the text once and queue it for posting."""
from __future__ import annotations

from django.db import IntegrityError, transaction

from app.bot.commands import CommandContext, REGISTRY
from app.bot.commands.builtin import unknown_command
from app.bot.models import CommandUse, Reply


def compose_reply(use: CommandUse) -> str:
    if not use.command:
        return unknown_command(use.name_used)
    ctx = CommandContext(language=use.language, args=use.args, team=use.team, channel=use.channel, user=use.user)
    return REGISTRY.get(use.command).handler(ctx)


def answer(command_use_id: int) -> Reply | None:
    """Create the reply for a command (once). Returns it if it still has to be posted."""
    use = CommandUse.objects.select_related("reply").filter(pk=command_use_id).first()
    if use is None:
        return None
    existing = getattr(use, "reply", None)
    if existing is not None:
        return existing if existing.status == Reply.Status.PENDING else None
    text = compose_reply(use)  # read-only work, outside the write transaction
    try:
        with transaction.atomic():
            reply = Reply.objects.create(command_use=use, team=use.team, channel=use.channel,
                                         thread_ts=use.thread_ts, response_url=use.response_url, text=text)
    except IntegrityError:  # another attempt composed it first: post theirs
        reply = Reply.objects.get(command_use=use)
    return reply if reply.status == Reply.Status.PENDING else None
