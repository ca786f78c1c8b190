"""Logging filters named in settings.LOGGING."""
from __future__ import annotations

import logging

MAX_MESSAGE = 300


class OneLineWarning(logging.Filter):
    """A refusal anyone can provoke (a wrong Host header) is one warning line, not an error with a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = " ".join(record.getMessage().split())
        record.msg = message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE] + "…"
        record.args = None
        record.exc_info = record.exc_text = record.stack_info = None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True
