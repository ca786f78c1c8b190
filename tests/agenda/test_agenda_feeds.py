from datetime import datetime, timedelta, timezone

import pytest

from app.agenda.feeds import FeedError, parse_feed, redact_url, scrub

from .feedkit import event, ics_feed, json_feed

UTC = timezone.utc


class TestJsonFeed:
    def test_items_object(self):
        body = json_feed(
            event("a", "Café y código", "2026-03-05T19:00:00+01:00", ends_at="2026-03-05T21:00:00+01:00",
                  location="La Nave", url="https://charlandero.example/a", description="Trae portátil"),
            {"uid": "b", "title": "Solo fecha", "starts_at": "2026-04-01"},
        )
        first, second = parse_feed(body, "application/json")
        assert first.uid == "a" and first.title == "Café y código"
        assert first.starts_at == datetime(2026, 3, 5, 18, 0, tzinfo=UTC)
        assert first.starts_at.tzinfo == UTC
        assert first.ends_at == datetime(2026, 3, 5, 20, 0, tzinfo=UTC)
        assert (first.location, first.url, first.description) == ("La Nave", "https://charlandero.example/a",
                                                                  "Trae portátil")
        assert second.starts_at == datetime(2026, 4, 1, 0, 0, tzinfo=UTC)
        assert (second.ends_at, second.location, second.url, second.description) == (None, "", "", "")

    def test_bare_list_numeric_id_naive_and_z_times(self):
        body = b'[{"id": 7, "title": "x", "starts_at": "2026-05-01T10:00:00"},' \
               b' {"id": "z", "title": "y", "starts_at": "2026-05-01T10:00:00Z"}]'
        entries = parse_feed(body, None)
        assert [e.uid for e in entries] == ["7", "z"]
        assert entries[0].starts_at == entries[1].starts_at == datetime(2026, 5, 1, 10, tzinfo=UTC)

    def test_non_web_links_are_dropped(self):
        (entry,) = parse_feed(json_feed(event("a", "t", "2026-01-01T10:00Z", url="javascript:alert(1)")), None)
        assert entry.url == ""

    @pytest.mark.parametrize("body, reason", [
        (b'{"items": [', "malformed JSON"),
        (b'{"events": []}', '"items"'),
        (b'{"items": {"id": 1}}', "list of events"),
        (b'{"items": []}', "no events"),
        (b'[]', "no events"),
        (b'[1]', "items[0] is not an object"),
        (json_feed({"title": "t", "starts_at": "2026-01-01"}), '"id"/"uid" is missing'),
        (json_feed({"id": "a", "starts_at": "2026-01-01"}), '"title" is missing'),
        (json_feed({"id": "a", "title": "  ", "starts_at": "2026-01-01"}), '"title" is missing'),
        (json_feed({"id": "a", "title": "t"}), '"starts_at" is missing'),
        (json_feed(event("a", "t", "next tuesday")), "not an ISO 8601"),
        (json_feed(event("a", "t", "2026-13-40T10:00")), "not an ISO 8601"),
        (json_feed(event("a", "t", 20260101)), "ISO 8601"),
        (json_feed(event("a", "t", "2026-01-02", ends_at="2026-01-01")), "ends before it starts"),
        (json_feed(event("a", "t", "2026-01-01", location=5)), '"location" must be text'),
        (json_feed(event("a", "t", "2026-01-01"), event("a", "u", "2026-01-02")), "more than once"),
        (json_feed(event("x" * 300, "t", "2026-01-01")), "longer than 255"),
    ])
    def test_malformed_json_is_rejected_with_a_reason(self, body, reason):
        with pytest.raises(FeedError) as error:
            parse_feed(body, "application/json")
        assert reason in str(error.value)

    def test_bad_item_names_the_item(self):
        body = json_feed(event("ok", "t", "2026-01-01"), event("bad", "t", "soon"))
        with pytest.raises(FeedError, match=r"items\[1\] \(id 'bad'\)"):
            parse_feed(body, None)


ICS_EVENTS = [
    """UID:tz@charlandero
    SUMMARY:Café y código\\, edición especial
    DTSTART;TZID=Europe/Madrid:20260305T190000
    DTEND;TZID=Europe/Madrid:20260305T210000
    LOCATION:La Nave\\, Valencia
    URL:https://charlandero.example/tz
    DESCRIPTION:Primera línea\\nSegunda línea""",
    """UID:allday@charlandero
    SUMMARY:Día completo
    DTSTART;VALUE=DATE:20260306
    DURATION:PT2H""",
    """UID:naive@charlandero
    SUMMARY:Hora flotante
    DTSTART:20260307T100000""",
    """UID:utc@charlandero
    SUMMARY:En UTC
    DTSTART:20260308T100000Z""",
    """UID:cancelled@charlandero
    SUMMARY:Se cancela
    STATUS:CANCELLED
    DTSTART:20260309T100000Z""",
]


class TestIcsFeed:
    def test_events_dates_and_text(self):
        entries = {e.uid: e for e in parse_feed(ics_feed(*ICS_EVENTS), "text/calendar; charset=utf-8")}
        assert set(entries) == {"tz@charlandero", "allday@charlandero", "naive@charlandero", "utc@charlandero"}
        madrid = entries["tz@charlandero"]
        assert madrid.title == "Café y código, edición especial"
        assert madrid.starts_at == datetime(2026, 3, 5, 18, 0, tzinfo=UTC)
        assert madrid.ends_at == datetime(2026, 3, 5, 20, 0, tzinfo=UTC)
        assert madrid.location == "La Nave, Valencia"
        assert madrid.url == "https://charlandero.example/tz"
        assert madrid.description == "Primera línea\nSegunda línea"
        all_day = entries["allday@charlandero"]
        assert all_day.starts_at == datetime(2026, 3, 6, 0, 0, tzinfo=UTC)
        assert all_day.ends_at == all_day.starts_at + timedelta(hours=2)
        assert entries["naive@charlandero"].starts_at == datetime(2026, 3, 7, 10, 0, tzinfo=UTC)
        assert entries["utc@charlandero"].starts_at == datetime(2026, 3, 8, 10, 0, tzinfo=UTC)

    def test_detected_from_body_whatever_the_content_type(self):
        body = b"\xef\xbb\xbf\r\n" + ics_feed(ICS_EVENTS[3])
        assert [e.uid for e in parse_feed(body, "application/octet-stream")] == ["utc@charlandero"]

    def test_moved_occurrence_of_a_repeating_event_gets_its_own_uid(self):
        body = ics_feed(
            "UID:rep\nSUMMARY:Mensual\nDTSTART:20260101T180000Z\nRRULE:FREQ=MONTHLY",
            "UID:rep\nSUMMARY:Mensual (movida)\nRECURRENCE-ID:20260201T180000Z\nDTSTART:20260203T180000Z",
        )
        assert [e.uid for e in parse_feed(body, None)] == ["rep", "rep#20260201T180000Z"]

    @pytest.mark.parametrize("body, reason", [
        (b"BEGIN:VCALENDAR\r\nthis is not ical\r\nEND:VCALENDAR\r\n", "malformed iCalendar"),
        (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n", "malformed iCalendar"),
        (ics_feed(), "no events"),
        (ics_feed(ICS_EVENTS[4]), "no events"),
        (ics_feed("SUMMARY:x\nDTSTART:20260101T100000Z"), "UID is missing"),
        (ics_feed("UID:a\nDTSTART:20260101T100000Z"), "SUMMARY is missing"),
        (ics_feed("UID:a\nSUMMARY:x"), "has no DTSTART"),
        (ics_feed("UID:a\nSUMMARY:x\nDTSTART:tomorrow"), "invalid DTSTART"),
        (ics_feed("UID:a\nSUMMARY:x\nDTSTART:20260102T100000Z\nDTEND:20260101T100000Z"), "ends before it starts"),
    ])
    def test_malformed_ics_is_rejected_with_a_reason(self, body, reason):
        with pytest.raises(FeedError) as error:
            parse_feed(body, "text/calendar")
        assert reason in str(error.value)


@pytest.mark.parametrize("body, content_type, reason", [
    (b"<html>Oops</html>", "text/html", "neither JSON nor iCalendar (text/html"),
    (b"", None, "neither JSON nor iCalendar (no Content-Type"),
    (b"not json", "application/json", "malformed JSON"),
    (b"not ics", "text/calendar", "malformed iCalendar"),
])
def test_format_detection(body, content_type, reason):
    with pytest.raises(FeedError) as error:
        parse_feed(body, content_type)
    assert reason in str(error.value)


@pytest.mark.parametrize("url, expected", [
    ("https://cal.example/feed.ics?token=s3cr3t#frag", "https://cal.example/feed.ics?***"),
    ("https://bob:hunter2@cal.example:8443/feed.json", "https://cal.example:8443/feed.json"),
    ("https://cal.example/ical/group/private-0a1b2c3d4e5f67890a1b2c3d/basic.ics",
     "https://cal.example/ical/group/***/basic.ics"),
    ("file:///srv/agenda/feed.json", "file:///srv/agenda/feed.json"),
    (None, ""),
])
def test_redact_url_removes_secrets(url, expected):
    assert redact_url(url) == expected


def test_scrub_removes_secret_parts_from_messages():
    url = "https://bob:hunter2@cal.example/feed?token=s3cr3t"
    message = scrub(f"failed for {url} (token=s3cr3t, password hunter2)", url)
    assert "s3cr3t" not in message and "hunter2" not in message
