"""Dead letters: messages the bot will not retry, kept with the reason so nothing vanishes without a trace."""
from __future__ import annotations

import json
import logging

from app.bot.models import DeadLetter
from app.bot.payload_checks import sanitized as _storable  # no NUL, no lone surrogates

log = logging.getLogger(__name__)
MAX_STORED_CHARS = 64 * 1024


def record(source: str, reason: str, *, payload=None, body: bytes | str | None = None, key: str = "",
           detail: str = "", attempts: int = 1) -> DeadLetter:
    """Store what could not be processed. Raises on a database error: the caller must then keep the
    message (not acknowledge it) so that it is not lost."""
    letter = DeadLetter.objects.create(
        source=source[:80], key=_storable(str(key))[:160], reason=_storable(reason)[:200],
        detail=_storable(detail)[:MAX_STORED_CHARS], payload=_as_text(payload, body), attempts=attempts)
    log.error("dead letter %s from %s (%s): %s", letter.pk, source, key or "no key", reason)
    return letter


def _as_text(payload, body) -> str:
    if body is not None:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    else:
        try:
            text = json.dumps(payload, ensure_ascii=False, default=repr)
        except (RecursionError, ValueError, TypeError) as exc:
            text = f"<not shown: {type(exc).__name__}>"
    return _storable(text)[:MAX_STORED_CHARS]
