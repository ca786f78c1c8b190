"""Posting replies: once each, honouring Slack's rate limits and telling transient from permanent errors."""
from __future__ import annotations

import logging
import socket
import urllib.error

from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from slack_sdk.errors import SlackApiError

from app.bot import pacing, retrying, slack_client
from app.bot.models import Reply

log = logging.getLogger(__name__)

# Slack errors worth another try; anything else (channel_not_found, invalid_auth, not_in_channel, ...)
# will not get better by retrying.
TRANSIENT_SLACK_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable",
                          "request_timeout", "team_added_to_org"}


CONNECTION_ERRORS = (urllib.error.URLError, socket.timeout, ConnectionError, TimeoutError, OSError)

# Longer than one Slack call can take (slack_client's timeout) plus recording the result through a
# database restart (MARK_SENT_WAITS), so a live claim is never stolen.
CLAIM_SECONDS = timedelta(seconds=30)
MARK_SENT_WAITS = (0.2, 0.5, 1.0, 2.0, 3.0, 5.0)


class RetryLater(Exception):
    def __init__(self, reason: str, seconds: float | None = None):
        super().__init__(reason)
        self.reason, self.seconds = reason, seconds


def deliver(reply_id: int) -> str:
    """Post one pending reply. Returns 'sent', 'failed' or 'skipped'; raises RetryLater to be retried."""
    now = timezone.now()
    pending = Reply.objects.filter(pk=reply_id, status=Reply.Status.PENDING)
    claim = {"attempts": F("attempts") + 1, "claimed_until": now + CLAIM_SECONDS}
    uncertain = False
    if not pending.filter(claimed_until__isnull=True).update(**claim):
        # A claim that ran out without being released: the attempt holding it died, maybe after Slack
        # had the message. Claimed again only under that condition, and then checked before posting.
        uncertain = bool(pending.filter(claimed_until__lt=now).update(**claim))
        if not uncertain:
            reply = Reply.objects.filter(pk=reply_id).first()
            if reply is not None and reply.status == Reply.Status.PENDING:
                # Another attempt holds it: look again when that claim runs out, so a worker killed
                # mid-post cannot leave the reply pending for ever.
                raise RetryLater("another attempt holds this reply",
                                 seconds=max(1.0, (reply.claimed_until - now).total_seconds() + 0.5))
            return "skipped"  # already posted or given up
    reply = Reply.objects.get(pk=reply_id)
    if slack_client.is_local():
        # No Slack app: the reply becomes the bot's message in our own store, in the same transaction that
        # marks it sent, so it is recorded exactly once whatever dies when.
        with transaction.atomic():
            posted = slack_client.record_locally(reply.team, reply.channel, reply.text, reply.thread_ts)
            _mark_sent(reply.pk, posted.ts)
        return "sent"
    if uncertain:
        earlier = _posted_by_a_dead_attempt(reply)
        if earlier is not None:
            log.warning("reply %s was posted by an attempt that died before recording it; not posting again",
                        reply.pk)
            retrying.with_database_retries(_mark_sent, reply.pk, earlier.ts, waits=MARK_SENT_WAITS)
            return "sent"
    try:
        posted = _post(reply)
    except RetryLater:
        release_claim(reply_id)
        raise
    if posted is None:
        return "failed"
    # Posted: recording it must not fail now, or the reply would be posted again once the claim runs out.
    # A database restart is ridden out here, well inside the claim.
    retrying.with_database_retries(_mark_sent, reply.pk, posted.ts, waits=MARK_SENT_WAITS)
    return "sent"


def _posted_by_a_dead_attempt(reply: Reply):
    """Slack has no idempotency key, but each post carries the reply's id as message metadata: look for it
    in the channel before posting again. An answer to a slash command goes to a response_url and cannot be
    looked up; it is posted again (a rare duplicate, ephemeral)."""
    if reply.response_url:
        return None
    try:
        return slack_client.find_reply(reply.channel, reply.pk, reply.thread_ts, since=reply.created_at)
    except SlackApiError as exc:
        status, error = exc.response.status_code, _api_error(exc)
        if status == 429 or _is_transient(status, error):
            # Keep the claim (not released): the next attempt finds it run out and checks again.
            raise RetryLater(f"could not check for an earlier post: {status} {error}".strip(),
                             seconds=CLAIM_SECONDS.total_seconds() + 0.5) from None
        log.warning("reply %s: cannot check for an earlier post (%s); posting, which may repeat it", reply.pk,
                    error or status)
        return None
    except CONNECTION_ERRORS as exc:
        raise RetryLater(f"could not check for an earlier post: {exc}",
                         seconds=CLAIM_SECONDS.total_seconds() + 0.5) from None


def _mark_sent(reply_id: int, slack_ts: str) -> None:
    Reply.objects.filter(pk=reply_id).update(status=Reply.Status.SENT, slack_ts=slack_ts, sent_at=timezone.now(),
                                             error="", claimed_until=None, next_attempt_at=None)


def expect_attempt(reply_id: int, seconds: float) -> None:
    """A post_reply task is scheduled for this reply in `seconds`: the reconciler leaves it alone till then."""
    Reply.objects.filter(pk=reply_id, status=Reply.Status.PENDING).update(
        next_attempt_at=timezone.now() + timedelta(seconds=seconds))


def _post(reply: Reply):
    try:
        if reply.response_url:
            return slack_client.post_to_response_url(reply.response_url, reply.text)
        return slack_client.post_message(reply.channel, reply.text, reply.thread_ts, reply_id=reply.pk)
    except SlackApiError as exc:
        return _slack_error(reply, exc.response.status_code, exc.response.headers or {}, _api_error(exc))
    except slack_client.SlackHTTPError as exc:
        return _slack_error(reply, exc.status, exc.headers, exc.body.strip())
    except CONNECTION_ERRORS as exc:
        raise RetryLater(f"connection error: {exc}") from None


def _api_error(exc: SlackApiError) -> str:
    data = exc.response.data
    return data.get("error", "") if isinstance(data, dict) else ""


def _is_transient(status: int, error: str) -> bool:
    return status >= 500 or error in TRANSIENT_SLACK_ERRORS


def release_claim(reply_id: int) -> None:
    """This attempt failed and a retry is scheduled: let the next attempt claim the reply."""
    Reply.objects.filter(pk=reply_id, status=Reply.Status.PENDING).update(claimed_until=None)


def _slack_error(reply: Reply, status: int, headers, error: str) -> None:
    if status == 429:
        wait = _retry_after(headers)
        if not reply.response_url:
            pacing.push_back(reply.team, reply.channel, wait)
        raise RetryLater("rate limited (429)", seconds=wait)
    if _is_transient(status, error):
        raise RetryLater(f"Slack answered {status} {error}".strip())
    give_up(reply.pk, f"{error or 'HTTP ' + str(status)}")
    return None


def give_up(reply_id: int, reason: str) -> None:
    reply = Reply.objects.filter(pk=reply_id).first()
    log.error("reply %s to channel %s not posted: %s", reply_id, reply.channel if reply else "?", reason)
    Reply.objects.filter(pk=reply_id, status=Reply.Status.PENDING).update(status=Reply.Status.FAILED,
                                                                           error=reason[:200], claimed_until=None)


def _retry_after(headers) -> float:
    for key, value in dict(headers).items():
        if key.lower() == "retry-after":
            try:
                return max(1.0, float(value if not isinstance(value, list) else value[0]))
            except ValueError:
                break
    return 1.0
