"""Sample content, next_item, the Celery task and admin wiring."""
import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from django.contrib import admin

from app.agenda import tasks
from app.agenda.models import AgendaItem, CatalogueItem, FeedStatus
from app.agenda.selectors import next_item, search_catalogue, upcoming_items
from app.agenda.services import SAMPLE_AGENDA, SAMPLE_CATALOGUE, load_sample_if_empty

from .feedkit import event, json_feed

UTC = timezone.utc


@pytest.mark.django_db
class TestLoadSample:
    def test_loads_both_once(self):
        agenda_size = len(json.loads(SAMPLE_AGENDA.read_text())["items"])
        catalogue_size = len(json.loads(SAMPLE_CATALOGUE.read_text()))
        assert agenda_size >= 25 and catalogue_size >= 15

        assert load_sample_if_empty() == {"agenda": agenda_size, "catalogue": catalogue_size}
        assert (AgendaItem.objects.count(), CatalogueItem.objects.count()) == (agenda_size, catalogue_size)
        assert load_sample_if_empty() == {"agenda": 0, "catalogue": 0}
        assert (AgendaItem.objects.count(), CatalogueItem.objects.count()) == (agenda_size, catalogue_size)

    def test_only_fills_the_empty_table(self):
        AgendaItem.objects.create(uid="ours", title="Nuestro evento", starts_at=datetime(2026, 1, 1, tzinfo=UTC))
        loaded = load_sample_if_empty()
        assert loaded["agenda"] == 0 and loaded["catalogue"] > 0
        assert list(AgendaItem.objects.values_list("uid", flat=True)) == ["ours"]

    def test_agenda_can_be_left_to_the_real_feed(self):
        loaded = load_sample_if_empty(include_agenda=False)
        assert loaded["agenda"] == 0 and loaded["catalogue"] > 0
        assert not AgendaItem.objects.exists()

    def test_sample_catalogue_is_searchable_without_accents(self):
        load_sample_if_empty()
        titles = [item.title for item in search_catalogue("cafe")]
        assert "Café y código" in titles
        assert [item.title for item in search_catalogue("INTRODUCCION celery")] == ["Introducción a Celery"]
        assert "Diseño de APIs" in [item.title for item in search_catalogue("diseno apis")]

    def test_sample_agenda_always_has_something_coming_up(self):
        load_sample_if_empty()
        month = datetime(2026, 1, 1, tzinfo=UTC)
        while month < datetime(2028, 11, 1, tzinfo=UTC):
            upcoming = next_item(now=month)
            assert upcoming is not None, month
            assert upcoming.starts_at - month < timedelta(days=62), month
            month = (month + timedelta(days=32)).replace(day=1)


@pytest.mark.django_db
class TestNextItem:
    @pytest.fixture
    def agenda(self):
        for uid, day in [("past", 1), ("soon", 10), ("later", 20)]:
            AgendaItem.objects.create(uid=uid, title=uid, starts_at=datetime(2026, 6, day, 18, tzinfo=UTC))

    def test_picks_the_first_upcoming_item(self, agenda):
        assert next_item(now=datetime(2026, 6, 5, tzinfo=UTC)).uid == "soon"
        assert next_item(now=datetime(2026, 6, 10, 18, 0, 1, tzinfo=UTC)).uid == "later"

    def test_an_item_starting_right_now_counts(self, agenda):
        assert next_item(now=datetime(2026, 6, 10, 18, tzinfo=UTC)).uid == "soon"

    def test_none_when_everything_is_past(self, agenda):
        assert next_item(now=datetime(2027, 1, 1, tzinfo=UTC)) is None

    def test_defaults_to_the_current_time(self, agenda):
        AgendaItem.objects.create(uid="tomorrow", title="t", starts_at=datetime.now(UTC) + timedelta(days=1))
        assert next_item().uid == "tomorrow"

    def test_upcoming_items_in_order(self, agenda):
        assert [i.uid for i in upcoming_items(now=datetime(2026, 6, 2, tzinfo=UTC))] == ["soon", "later"]


@pytest.mark.django_db
def test_task_refreshes_from_the_configured_feed(settings, tmp_path):
    feed = tmp_path / "feed.json"
    feed.write_bytes(json_feed(event("t1", "Desde la tarea", "2027-02-18T18:30:00+01:00")))
    settings.CONFIG = replace(settings.CONFIG, agenda_feed_url=feed.as_uri())

    outcome = tasks.refresh_agenda.apply().get()

    assert outcome["status"] == "ok" and outcome["item_count"] == 1
    assert AgendaItem.objects.get().title == "Desde la tarea"
    assert FeedStatus.objects.get().last_success_at is not None


@pytest.mark.django_db
def test_task_without_a_feed_is_a_no_op(settings):
    settings.CONFIG = replace(settings.CONFIG, agenda_feed_url=None)
    assert tasks.refresh_agenda.apply().get()["status"] == "skipped"


def test_task_name_matches_beat_schedule_and_route(settings):
    assert tasks.refresh_agenda.name == "app.agenda.tasks.refresh_agenda"
    assert settings.CELERY_BEAT_SCHEDULE["refresh-agenda"]["task"] == tasks.refresh_agenda.name
    from app.celery import celery_app
    assert celery_app.amqp.router.route({}, tasks.refresh_agenda.name)["queue"].name == "periodic"


def test_admin_registrations():
    for model in (AgendaItem, CatalogueItem, FeedStatus):
        model_admin = admin.site._registry[model]
        assert model_admin.list_display and model_admin.search_fields
