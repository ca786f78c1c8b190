"""One registry of commands: names (Spanish and English), usage lines, what they do, and a handler each.

Adding a command is one decorated function in `builtin.py`; help and suggestions follow from here.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Callable

from app.slack_text import LEADING_MENTIONS, fold, mention_of


@dataclass(frozen=True)
class CommandContext:
    language: str
    args: str
    team: str
    channel: str
    user: str

    def say(self, *, es: str, en: str) -> str:
        return es if self.language == "es" else en


@dataclass(frozen=True)
class Command:
    key: str
    names: dict[str, str]
    usage: dict[str, str]   # what to type: `busca <texto>`
    about: dict[str, str]   # what it does, in a few words
    handler: Callable[[CommandContext], str]


@dataclass(frozen=True)
class Invocation:
    """What the user asked: the command (or None if unknown), the word used, its language, the rest."""

    command: Command | None
    name_used: str
    language: str
    args: str


@dataclass
class Registry:
    commands: list[Command] = field(default_factory=list)
    _by_name: dict[str, tuple[Command, str]] = field(default_factory=dict)

    def command(self, key: str, *, es: str, en: str, usage_es: str, usage_en: str, about_es: str, about_en: str):
        def register(handler: Callable[[CommandContext], str]):
            cmd = Command(key, {"es": es, "en": en}, {"es": usage_es, "en": usage_en},
                          {"es": about_es, "en": about_en}, handler)
            for language, name in cmd.names.items():
                if fold(name) in self._by_name:
                    raise ValueError(f"command name {name!r} is registered twice")
                self._by_name[fold(name)] = (cmd, language)
            self.commands.append(cmd)
            return handler
        return register

    def lookup(self, word: str) -> tuple[Command, str] | None:
        return self._by_name.get(fold(word))

    def closest(self, word: str) -> tuple[Command, str] | None:
        match = difflib.get_close_matches(fold(word), list(self._by_name), n=1, cutoff=0.5)
        return self._by_name[match[0]] if match else None

    def get(self, key: str) -> Command:
        return next(c for c in self.commands if c.key == key)


REGISTRY = Registry()


def _split_once(pattern: re.Pattern, text: str) -> tuple[str, str, str]:
    match = pattern.search(text)
    if match is None:
        return text, "", ""
    return text[:match.start()], match.group(0), text[match.end():]


def parse_invocation(text: str, bot_user: str | None = None, registry: Registry = REGISTRY) -> Invocation:
    """`<@BOT> busca café` → (search, "busca", es, "café"). A bare mention asks for help.

    Mentions of the bot are removed wherever they stand ("hey <@BOT> help"); other mentions stay,
    because they are arguments (`count <@U123>`).
    """
    text = text or ""
    if bot_user:
        bot_mention = mention_of(bot_user)
        before, _, after = _split_once(bot_mention, text)
        text = bot_mention.sub(" ", after if after.strip() else before)
    else:
        text = LEADING_MENTIONS.sub(" ", text)
    words = text.strip().split(maxsplit=1)
    if not words:
        return Invocation(registry.get("help"), "help", "en", "")
    name, args = words[0], (words[1] if len(words) > 1 else "")
    found = registry.lookup(name)
    if found:
        return Invocation(found[0], name, found[1], args.strip())
    return Invocation(None, name, "en", args.strip())
