"""A command is answered once; posts to a channel are spaced and pushed back after a 429."""
from __future__ import annotations

import pytest

from app.bot import answers, pacing
from app.bot.models import Reply
from tests.services.conftest import deliver
from tests.support import slack_requests

pytestmark = pytest.mark.django_db


def recorded_command(text: str) -> int:
    return deliver(slack_requests.mention(text)).command_use_id


def test_a_command_is_answered_once_in_the_language_it_was_asked_in():
    use_id = recorded_command("ayuda")
    reply = answers.answer(use_id)
    assert reply.status == Reply.Status.PENDING and "Comandos" in reply.text
    assert answers.answer(use_id).pk == reply.pk  # asked again (a redelivered task): the same reply
    Reply.objects.filter(pk=reply.pk).update(status=Reply.Status.SENT)
    assert answers.answer(use_id) is None  # posted already: nothing to post
    assert Reply.objects.count() == 1


def test_an_unknown_command_gets_a_suggestion():
    reply = answers.answer(recorded_command("hepl"))
    assert "help" in reply.text


def test_an_answer_for_a_command_that_is_gone_is_nothing():
    assert answers.answer(10**9) is None


def test_posts_to_one_channel_are_spaced_and_other_channels_are_not_held_up():
    waits = [pacing.reserve_slot("T1", "C1") for _ in range(3)]
    assert waits[0] == 0.0
    assert 0.9 < waits[1] <= 1.0 and 1.9 < waits[2] <= 2.0
    assert pacing.reserve_slot("T1", "C2") == 0.0


def test_a_429_pushes_back_every_later_post_to_that_channel():
    pacing.reserve_slot("T1", "C1")
    pacing.push_back("T1", "C1", 30)
    assert 29 < pacing.reserve_slot("T1", "C1") <= 30
    pacing.push_back("T1", "C1", 1)  # a shorter push-back never brings the slot forward
    assert pacing.reserve_slot("T1", "C1") > 29


def test_on_quorum_queues_a_slot_a_fraction_of_a_second_away_moves_to_a_second_and_the_next_one_with_it():
    from datetime import timedelta

    from django.utils import timezone

    from app.bot.models import ChannelPace
    from app.queueing import layout

    before = layout.queue_type()
    layout.use_queue_type("quorum")  # a delayed task on quorum queues waits whole seconds, at least one
    try:
        assert pacing.reserve_slot("T1", "C1") == 0.0  # now: no countdown at all
        ChannelPace.objects.filter(team="T1", channel="C1").update(next_free_at=timezone.now() + timedelta(seconds=0.3))
        assert pacing.reserve_slot("T1", "C1") == pytest.approx(1.0, abs=0.05)
        assert 1.9 < pacing.reserve_slot("T1", "C1") <= 2.0  # a second after the moved slot, not 1.3
    finally:
        layout.use_queue_type(before)
