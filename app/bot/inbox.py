"""The worker's side of the inbox: each delivery is handled once, in one transaction.

Dedupe is by Slack's event_id (retries), and a command is counted by its message (team, channel,
ts), because a mention arrives twice — as `message` and as `app_mention` — with two event_ids.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from app.bot.commands import parse_invocation
from app.bot.message_store import apply_message_event
from app.bot.models import CommandUse, InboundEvent
from app.bot.slack_payloads import CommandRequest, Delivery

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    duplicate: bool
    message: str | None = None         # stored / edited / deleted
    command_use_id: int | None = None  # set when a new command was recorded: answer it


def handle_delivery(delivery: Delivery) -> Outcome:
    """Record the delivery once; store its message; record the command it carries, if any.

    Almost every delivery is new: it is first tried as plain inserts in one transaction (a handful of
    round trips). Any unique-key conflict — a retry, a parked delivery, a message seen before, a second
    worker with the same event — rolls that back and takes the careful path, which checks each record.
    """
    try:
        with transaction.atomic():
            InboundEvent.objects.create(key=delivery.event_id, payload=delivery.payload, processed_at=timezone.now())
            stored = apply_message_event(delivery, assume_new=True) if delivery.is_event else None
            command_use = _record_command(delivery.command, assume_new=True)
        return Outcome(duplicate=False, message=stored, command_use_id=command_use.id if command_use else None)
    except IntegrityError:
        pass
    with transaction.atomic():
        record, _ = InboundEvent.objects.select_for_update().get_or_create(
            key=delivery.event_id, defaults={"payload": delivery.payload})
        if record.processed_at is not None:
            return Outcome(duplicate=True, command_use_id=_unanswered_command(delivery.command))
        stored = apply_message_event(delivery) if delivery.is_event else None
        command_use = _record_command(delivery.command)
        record.processed_at = timezone.now()
        record.save(update_fields=["processed_at"])
    return Outcome(duplicate=False, message=stored, command_use_id=command_use.id if command_use else None)


def _record_command(request: CommandRequest | None, assume_new: bool = False) -> CommandUse | None:
    if request is None:
        return None
    invocation = parse_invocation(request.text, request.bot_user)
    values = {
        "team": request.team, "channel": request.channel, "user": request.user,
        "command": invocation.command.key if invocation.command else "",
        "name_used": invocation.name_used[:80], "language": invocation.language, "args": invocation.args,
        "via": request.via, "thread_ts": request.thread_ts, "response_url": request.response_url,
    }
    if assume_new:
        return CommandUse.objects.create(source_key=request.source_key, **values)
    use, created = CommandUse.objects.get_or_create(source_key=request.source_key, defaults=values)
    return use if created else None


def _unanswered_command(request: CommandRequest | None) -> int | None:
    """A redelivery after a crash between commit and hand-off: the command may still need its answer."""
    if request is None:
        return None
    use = CommandUse.objects.filter(source_key=request.source_key).select_related("reply").first()
    if use is None:
        return None
    # Only when no reply exists: a pending one is already on its way (maybe waiting out a 429).
    return use.id if getattr(use, "reply", None) is None else None


def parked_deliveries(limit: int = 500) -> list[InboundEvent]:
    """Deliveries web kept while the broker was down and nobody has handed on yet."""
    return list(InboundEvent.objects.filter(parked=True, processed_at__isnull=True).order_by("received_at")[:limit])


def unpark(delivery: InboundEvent) -> None:
    InboundEvent.objects.filter(pk=delivery.pk).update(parked=False)


def forget_old_deliveries(days: int = 3) -> int:
    """Slack stops retrying after minutes; the dedupe records are not needed for long."""
    cutoff = timezone.now() - timezone.timedelta(days=days)
    deleted, _ = InboundEvent.objects.filter(processed_at__lt=cutoff).delete()
    return deleted
