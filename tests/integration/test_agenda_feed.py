"""The worker refreshes the agenda from the feed (the task beat sends), and a broken feed changes nothing."""
from __future__ import annotations

import pytest

from app.agenda.models import AgendaItem, FeedStatus
from app.agenda.tasks import refresh_agenda
from tests.agenda.feedkit import event, ics_feed, json_feed
from tests.support.waiting import eventually

pytestmark = pytest.mark.django_db(transaction=True)


def test_agenda_follows_a_json_then_an_ics_feed_and_survives_a_broken_one(slack, agenda_feed):
    agenda_feed.serve("/agenda", json_feed(event("json-1", "Charla desde JSON", "2030-01-15T18:00:00Z",
                                                 location="Sala Norte")))
    refresh_agenda.delay()
    eventually(lambda: set(AgendaItem.objects.values_list("uid", flat=True)) == {"json-1"}, timeout=30)
    slack.mention("next", "CAGENDA1")
    [reply] = slack.wait_for_replies("CAGENDA1")
    assert "Next up: *Charla desde JSON* — 2030-01-15 18:00 UTC · Sala Norte" in reply["body"]["text"]

    agenda_feed.serve("/agenda", ics_feed("UID:ics-1\nSUMMARY:Taller desde iCalendar\nDTSTART:20300201T170000Z"),
                      content_type="text/calendar")
    refresh_agenda.delay()
    eventually(lambda: set(AgendaItem.objects.values_list("uid", flat=True)) == {"ics-1"}, timeout=30)
    slack.mention("siguiente", "CAGENDA2")
    [reply] = slack.wait_for_replies("CAGENDA2")
    assert "Próximo: *Taller desde iCalendar* — 2030-02-01 17:00 UTC" in reply["body"]["text"]

    agenda_feed.serve("/agenda", b"<html>oops</html>", content_type="text/html", status=500)
    refresh_agenda.delay()
    eventually(lambda: FeedStatus.objects.filter(last_error__contains="500").exists(), timeout=30)
    assert set(AgendaItem.objects.values_list("uid", flat=True)) == {"ics-1"}, "the last good agenda stays"
