"""Slack's text rules, in one place: how a person is mentioned, how <, > and & are escaped, and the
accent folding that makes `Estadísticas` and `estadisticas` (or "Café" and "cafe") the same word.

Imports nothing of the project: the bot, the agenda and the console all use it.
"""
from __future__ import annotations

import re
import unicodedata

_MENTION = r"<@[A-Z0-9]+(?:\|[^>]*)?>"
# `<@U123>` or `<@U123|name>`: group 1 is the user id.
USER_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")
LEADING_MENTIONS = re.compile(rf"^(?:\s*{_MENTION})+")
# Any of Slack's tokens: <@U123>, <#C123|general>, <!channel>, <https://…|label>.
TOKEN = re.compile(r"<([^<>]*)>")


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def mention_of(user_id: str) -> re.Pattern:
    """A mention of this one user, with or without a label."""
    return re.compile(rf"<@{re.escape(user_id)}(?:\|[^>]*)?>")


def mentions(text: str, user_id: str) -> bool:
    return mention_of(user_id).search(text) is not None


def escape(text: str) -> str:
    """Text shown as typed: Slack reads <, > and & as markup, so they are sent (and arrive) as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(word: str) -> str:
    """Lowercase without accents, so `Estadísticas` and `estadisticas` name the same command."""
    return strip_accents(word.lower())
