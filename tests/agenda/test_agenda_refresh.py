"""refresh_agenda against real feeds: files and a local HTTP server."""
import logging
import socket
import threading
from datetime import datetime, timezone

import pytest
from django.db.models import F

from app.agenda import services
from app.agenda.feeds import FeedError, fetch_feed
from app.agenda.models import AgendaItem, FeedStatus
from app.agenda.services import refresh_agenda

from .feedkit import event, ics_feed, json_feed

pytestmark = pytest.mark.django_db

UTC = timezone.utc
FIRST = json_feed(
    event("a", "Introducción a Celery", "2026-03-05T19:00:00+01:00"),
    event("b", "Café y código", "2026-04-09T10:00:00+02:00", location="El Grano"),
    event("c", "Diseño de APIs", "2026-05-14T19:00:00+02:00"),
)
SECOND = json_feed(
    event("b", "Café y código (nuevo horario)", "2026-04-09T11:00:00+02:00", location="El Grano"),
    event("c", "Diseño de APIs", "2026-05-14T19:00:00+02:00"),
    event("d", "Testing con pytest", "2026-06-11T19:00:00+02:00"),
)


def feed_status() -> FeedStatus | None:
    """The most recently attempted feed's health, or None if no refresh has been attempted."""
    # nulls_last: PostgreSQL would otherwise put never-attempted rows first in a descending sort.
    return FeedStatus.objects.order_by(F("last_attempt_at").desc(nulls_last=True), "-id").first()


def agenda_snapshot():
    return list(AgendaItem.objects.order_by("uid").values_list("uid", "title", "starts_at", "location"))


def test_refresh_from_json_file(tmp_path):
    feed = tmp_path / "agenda.json"
    feed.write_bytes(FIRST)
    result = refresh_agenda(feed.as_uri())
    assert result.ok and (result.item_count, result.created) == (3, 3)
    assert [i.uid for i in AgendaItem.objects.all()] == ["a", "b", "c"]  # ordered by starts_at
    assert AgendaItem.objects.get(uid="a").starts_at == datetime(2026, 3, 5, 18, 0, tzinfo=UTC)


def test_refresh_from_ics_file(tmp_path):
    feed = tmp_path / "agenda.ics"   # a file URL has no Content-Type header: the body tells
    feed.write_bytes(ics_feed("UID:x1\nSUMMARY:Bots de Slack\nDTSTART;VALUE=DATE:20260701\nLOCATION:Online"))
    assert refresh_agenda(feed.as_uri()).ok
    item = AgendaItem.objects.get()
    assert (item.uid, item.title, item.location) == ("x1", "Bots de Slack", "Online")
    assert item.starts_at == datetime(2026, 7, 1, tzinfo=UTC)


def test_refresh_from_json_over_http(feed_server):
    url = feed_server.serve("/agenda.json", FIRST, "application/json; charset=utf-8")
    result = refresh_agenda(url)
    assert result.ok and result.item_count == 3
    assert feed_server.requests == ["/agenda.json"]
    assert AgendaItem.objects.get(uid="b").location == "El Grano"


def test_refresh_from_ics_over_http(feed_server):
    body = ics_feed(
        "UID:m1\nSUMMARY:PostgreSQL para desarrolladores\nDTSTART;TZID=Europe/Madrid:20260917T183000\n"
        "DTEND;TZID=Europe/Madrid:20260917T203000\nURL:https://charlandero.example/m1",
        "UID:m2\nSUMMARY:Tipado gradual\nDTSTART:20261015T163000Z",
    )
    url = feed_server.serve("/calendar", body, "text/calendar; charset=utf-8")
    assert refresh_agenda(url).ok
    first, second = AgendaItem.objects.all()
    assert (first.uid, first.starts_at, first.ends_at, first.url) == (
        "m1", datetime(2026, 9, 17, 16, 30, tzinfo=UTC), datetime(2026, 9, 17, 18, 30, tzinfo=UTC),
        "https://charlandero.example/m1")
    assert (second.uid, second.starts_at) == ("m2", datetime(2026, 10, 15, 16, 30, tzinfo=UTC))


def test_refresh_replaces_updates_and_removes(feed_server):
    url = feed_server.serve("/agenda.json", FIRST)
    assert refresh_agenda(url).ok
    untouched_before = AgendaItem.objects.get(uid="c")

    feed_server.serve("/agenda.json", SECOND)
    result = refresh_agenda(url)

    assert (result.created, result.updated, result.deleted, result.item_count) == (1, 1, 1, 3)
    assert [uid for uid, *_ in agenda_snapshot()] == ["b", "c", "d"]
    changed = AgendaItem.objects.get(uid="b")
    assert changed.title == "Café y código (nuevo horario)"
    assert changed.starts_at == datetime(2026, 4, 9, 9, 0, tzinfo=UTC)
    untouched_after = AgendaItem.objects.get(uid="c")
    assert untouched_after.pk == untouched_before.pk
    assert untouched_after.updated_at == untouched_before.updated_at  # unchanged rows are not rewritten

    status = feed_status()
    assert status.item_count == 3 and status.last_error == "" and status.consecutive_failures == 0
    assert status.last_success_at is not None


@pytest.mark.parametrize("break_feed, reason", [
    (lambda server: server.serve("/agenda.json", b"oops", "text/plain", status=500), "HTTP 500"),
    (lambda server: server.serve("/agenda.json", b'{"items": [{"id": "a"', "application/json"), "malformed JSON"),
    (lambda server: server.serve("/agenda.json", b'{"items": []}', "application/json"), "no events"),
    (lambda server: server.serve("/agenda.json", ics_feed("UID:a\nSUMMARY:x\nDTSTART:soon"), "text/calendar"),
     "invalid DTSTART"),
    (lambda server: server.serve("/agenda.json", b"<html>login</html>", "text/html"), "neither JSON nor iCalendar"),
])
def test_broken_feed_keeps_the_last_good_agenda(feed_server, caplog, break_feed, reason):
    url = feed_server.serve("/agenda.json", FIRST) + "?token=s3cr3t-token"
    assert refresh_agenda(url).ok
    before = agenda_snapshot()
    succeeded_at = feed_status().last_success_at

    break_feed(feed_server)
    with caplog.at_level(logging.WARNING, logger="app.agenda.services"):
        result = refresh_agenda(url)

    assert result.status == "failed" and reason in result.error
    assert agenda_snapshot() == before
    status = feed_status()
    assert reason in status.last_error
    assert status.last_success_at == succeeded_at
    assert status.last_attempt_at > succeeded_at
    assert (status.consecutive_failures, status.item_count) == (1, 3)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert reason in warnings[0] and f"{feed_server.base_url}/agenda.json" in warnings[0]
    assert "s3cr3t" not in caplog.text and "s3cr3t" not in status.last_error and "s3cr3t" not in status.url


def test_unreachable_feed_keeps_data_and_counts_failures(feed_server, closed_port, caplog):
    assert refresh_agenda(feed_server.serve("/agenda.json", FIRST)).ok
    before = agenda_snapshot()
    url = f"http://127.0.0.1:{closed_port}/agenda.json?key=abc123secret"

    with caplog.at_level(logging.WARNING, logger="app.agenda.services"):
        first = refresh_agenda(url)
        second = refresh_agenda(url)

    assert not first.ok and "cannot open the feed" in first.error
    assert agenda_snapshot() == before
    status = FeedStatus.objects.get(url=f"http://127.0.0.1:{closed_port}/agenda.json?***")
    assert status.consecutive_failures == 2 and status.last_success_at is None
    assert feed_status() == status  # the most recent attempt
    assert "abc123secret" not in caplog.text
    assert not second.ok


def test_credentials_in_the_url_never_reach_logs_or_the_database(closed_port, caplog):
    url = f"http://bob:hunter2-pass@127.0.0.1:{closed_port}/feed.json"
    with caplog.at_level(logging.WARNING):
        result = refresh_agenda(url)
    assert not result.ok
    assert "hunter2" not in caplog.text and "hunter2" not in result.error
    assert "hunter2" not in FeedStatus.objects.get().url + FeedStatus.objects.get().last_error


def test_failure_while_writing_rolls_back_everything(feed_server, monkeypatch):
    url = feed_server.serve("/agenda.json", FIRST)
    assert refresh_agenda(url).ok
    before = agenda_snapshot()
    feed_server.serve("/agenda.json", SECOND)
    real_values = services._model_values
    calls = []

    def fail_on_the_third_entry(entry):
        calls.append(entry.uid)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real_values(entry)

    monkeypatch.setattr(services, "_model_values", fail_on_the_third_entry)
    result = refresh_agenda(url)

    assert not result.ok and "RuntimeError: disk full" in result.error
    assert agenda_snapshot() == before  # the update of "b" before the failure was rolled back too
    assert feed_status().last_error == "RuntimeError: disk full"


def test_over_long_values_are_clipped_to_fit(feed_server):
    url = feed_server.serve("/agenda.json", json_feed(event("long", "T" * 400, "2026-01-01T10:00Z",
                                                               location="L" * 400)))
    assert refresh_agenda(url).ok
    item = AgendaItem.objects.get()
    assert len(item.title) == 300 and item.title.endswith("…")
    assert len(item.location) == 300


def test_no_feed_configured_does_nothing(tmp_path):
    AgendaItem.objects.create(uid="keep", title="x", starts_at=datetime(2026, 1, 1, tzinfo=UTC))
    result = refresh_agenda(None)
    assert result.status == "skipped" and "AGENDA_FEED_URL" in result.error
    assert list(AgendaItem.objects.values_list("uid", flat=True)) == ["keep"]
    assert not FeedStatus.objects.exists()


def test_unsupported_scheme_is_refused():
    result = refresh_agenda("ftp://example.org/agenda.json")
    assert not result.ok and "unsupported URL scheme 'ftp'" in result.error


def test_redirect_to_a_local_file_is_refused(feed_server, tmp_path):
    secret = tmp_path / "secret.json"
    secret.write_bytes(FIRST)
    url = feed_server.serve("/moved", b"", None, status=302, Location=secret.as_uri())
    result = refresh_agenda(url)
    assert not result.ok and "redirected to a non-http(s) URL" in result.error
    assert not AgendaItem.objects.exists()


def test_redirect_to_http_is_followed(feed_server):
    target = feed_server.serve("/new.json", FIRST)
    url = feed_server.serve("/old.json", b"", None, status=301, Location=target)
    assert refresh_agenda(url).ok
    assert feed_server.requests == ["/old.json", "/new.json"]


def test_fetch_refuses_feeds_over_the_size_limit(feed_server):
    url = feed_server.serve("/big.json", b"[" + b" " * 5000 + b"]")
    with pytest.raises(FeedError, match="larger than the 1,000-byte limit"):
        fetch_feed(url, max_bytes=1000)


def test_fetch_gives_up_on_a_silent_server():
    # Accepts the connection but never answers.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    accepted = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True)
    thread.start()
    try:
        with pytest.raises(FeedError, match="no answer within 0.5 s"):
            fetch_feed(f"http://127.0.0.1:{listener.getsockname()[1]}/feed.json", timeout=0.5)
    finally:
        thread.join(2)
        for conn, _ in accepted:
            conn.close()
        listener.close()
