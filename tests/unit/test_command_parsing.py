"""How a message becomes a command: names in two languages, accents, mentions, suggestions."""
import pytest

from app.bot.commands import REGISTRY, parse_invocation
from app.bot.commands.registry import CommandContext
from app.bot.commands.builtin import unknown_command

BOT = "UBOT1"


@pytest.mark.parametrize("text,key,language,args", [
    (f"<@{BOT}> help", "help", "en", ""),
    (f"<@{BOT}> AYUDA", "help", "es", ""),
    (f"<@{BOT}> Estadísticas", "stats", "es", ""),
    (f"<@{BOT}> busca  Café con leche ", "search", "es", "Café con leche"),
    (f"hey <@{BOT}> next", "next", "en", ""),
    (f"<@{BOT}> count <@U0BOB>", "count", "en", "<@U0BOB>"),
    ("cuenta <@U0BOB>", "count", "es", "<@U0BOB>"),   # a DM: no bot mention, the argument stays
    (f"<@{BOT}>", "help", "en", ""),
])
def test_parse(text, key, language, args):
    invocation = parse_invocation(text, BOT)
    assert (invocation.command.key, invocation.language, invocation.args) == (key, language, args)


def test_every_command_has_a_name_and_usage_in_both_languages():
    assert {c.key for c in REGISTRY.commands} == {"help", "status", "next", "search", "count", "stats"}
    for command in REGISTRY.commands:
        assert set(command.names) == set(command.usage) == set(command.about) == {"es", "en"}
        for language in ("es", "en"):
            assert command.usage[language].startswith(command.names[language])
            assert command.about[language] and "—" not in command.usage[language]


def test_a_name_can_only_be_registered_once():
    with pytest.raises(ValueError):
        REGISTRY.command("again", es="ayuda", en="helpme", usage_es="x", usage_en="y", about_es="x",
                         about_en="y")(lambda ctx: "")


@pytest.mark.parametrize("word,suggestion", [("hlep", "`help`"), ("estadistica", "`estadisticas`"),
                                             ("sigiente", "`siguiente`")])
def test_unknown_words_get_the_closest_command(word, suggestion):
    assert suggestion in unknown_command(word)


def test_a_word_nothing_like_a_command_gets_both_languages():
    reply = unknown_command("xyzzy")
    assert "ayuda" in reply and "help" in reply


@pytest.mark.parametrize("language,args,reply", [
    ("en", "lucia", "I don't know “lucia”: mention someone in this workspace with @, for example `count @ana`."),
    ("es", "@nadie", "No conozco a «@nadie»: menciona con @ a alguien de este espacio, por ejemplo `cuenta @ana`."),
    ("en", "<!here> <#C1|general> <https://x.example|x>", "I don't know “@here #general x”"),
])
def test_count_of_a_name_that_is_no_mention_says_so_and_counts_nobody(language, args, reply):
    count = REGISTRY.get("count").handler
    answer = count(CommandContext(language=language, args=args, team="T1", channel="C1", user="U0ASKER"))
    assert answer.startswith(reply) and "U0ASKER" not in answer
