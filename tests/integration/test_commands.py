"""Every command, by its Spanish and its English name, answered in that language."""
from __future__ import annotations

import pytest

from tests.support import slack_requests

pytestmark = pytest.mark.django_db(transaction=True)

CASES = [
    ("help", ["*Commands*", "• `next` — the next item on the agenda", "• `count &lt;@user&gt;` — how many"]),
    ("ayuda", ["*Comandos*", "• `siguiente` — la próxima cita de la agenda", "• `cuenta &lt;@usuario&gt;` — cuántos"]),
    ("status", ["Bot: up", "database: ok", "queues: deliveries"]),
    ("ve", ["Bot: en marcha", "base de datos: bien", "colas: deliveries"]),
    ("next", ["Next up: *"]),
    ("siguiente", ["Próximo: *"]),
    ("search celery", ["Found", "Introducción a Celery"]),
    ("busca CAFE", ["Encontré", "Café y código"]),
    ("search zzzunfindable", ["Nothing found for “zzzunfindable”"]),
    ("busca zzzinexistente", ["No encontré nada para «zzzinexistente»"]),
    ("count <@U0BOB>", ["<@U0BOB> has written 2 messages here (2 in all)"]),
    ("cuenta <@U0BOB>", ["<@U0BOB> ha escrito 2 mensajes aquí (2 en total)"]),
    ("count lucia", ["I don't know “lucia”: mention someone in this workspace with @, for example `count @ana`."]),
    ("cuenta @nadie", ["No conozco a «@nadie»: menciona con @ a alguien de este espacio, por ejemplo `cuenta @ana`."]),
    ("search <!channel>", ["Nothing found for “@channel”."]),  # echoed as a word: no notification for everyone
    ("stats", ["Command use: ", "help 1", "search 1"]),
    ("estadisticas", ["Uso de comandos: ", "ayuda 1", "busca 1"]),
    ("Estadísticas", ["Uso de comandos: "]),
    ("serch celery", ["I don't know “serch”. Did you mean `search`?"]),
    ("ayduda", ["No conozco «ayduda». ¿Querías decir `ayuda`?"]),
]


@pytest.mark.parametrize("text,expected", CASES, ids=[c[0] for c in CASES])
def test_command_answers_in_the_language_it_was_asked_in(slack, channel, text, expected):
    # Some history for count and stats: Bob wrote two messages here, and two commands were used before.
    slack.send_event(slack_requests.message("hola", channel=channel, user="U0BOB"))
    slack.send_event(slack_requests.message("qué tal", channel=channel, user="U0BOB"))
    earlier = channel + "X"
    slack.mention("help", earlier)
    slack.mention("search python", earlier)
    slack.wait_for_replies(earlier, 2)

    slack.mention(text, channel)
    [reply] = slack.wait_for_replies(channel)
    for fragment in expected:
        assert fragment in reply["body"]["text"]


def test_a_bare_mention_gets_help(slack, channel):
    slack.send_event(slack_requests.event_callback({
        "type": "app_mention", "user": "U0ALICE", "channel": channel, "text": "<@UCHARLABOT>",
        "ts": slack_requests.new_ts()}))
    [reply] = slack.wait_for_replies(channel)
    assert "*Commands*" in reply["body"]["text"]
