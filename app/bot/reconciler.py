"""The reconciler: whatever crashed where, every recorded command gets its reply (or a recorded failure).

Tasks are acknowledged late and retried, and publishes are confirmed, so work is rarely lost in flight; this
is the net under that. It finds, in the database, work that should be moving and is not — a delivery
recorded but never processed, a command with no reply, a pending reply whose task is long overdue and that
nobody holds — and hands each on again. Every step it re-drives is idempotent, so a re-drive of something
that was merely slow costs a no-op.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from app.bot.models import CommandUse, InboundEvent, Reply

# How long work may sit before it counts as stuck: past Slack's retries of a delivery, and a queue that is
# merely busy, but well inside "a reply within a few minutes".
GRACE = timedelta(seconds=60)
# Older than this, a command is not answered any more (a reply a day late helps nobody).
TOO_OLD = timedelta(days=1)
BATCH = 500


@dataclass(frozen=True)
class Stuck:
    deliveries: list[dict]       # payloads recorded but never processed (parked ones: retry_parked_events)
    commands: list[int]          # command uses to answer
    replies: list[int]           # replies to post


def find_stuck(now=None) -> Stuck:
    now = now or timezone.now()
    cutoff, oldest = now - GRACE, now - TOO_OLD
    deliveries = list(InboundEvent.objects.filter(processed_at__isnull=True, parked=False, received_at__lt=cutoff,
                                                   received_at__gt=oldest)
                      .order_by("received_at").values_list("payload", flat=True)[:BATCH])
    commands = list(CommandUse.objects.filter(reply__isnull=True, created_at__lt=cutoff, created_at__gt=oldest)
                    .order_by("created_at").values_list("id", flat=True)[:BATCH])
    overdue = (Reply.objects.filter(status=Reply.Status.PENDING, created_at__gt=oldest)
               .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
               .filter(Q(next_attempt_at__lt=cutoff) | Q(next_attempt_at__isnull=True, created_at__lt=cutoff)))
    replies = list(overdue.order_by("created_at").values_list("id", flat=True)[:BATCH])
    return Stuck(deliveries=deliveries, commands=commands, replies=replies)
