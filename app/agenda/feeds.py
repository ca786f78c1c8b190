"""Reading an agenda feed: fetch it (http, https or file URL) and parse JSON or iCalendar into entries.

Parsing is all-or-nothing: one bad event rejects the whole feed with a FeedError saying why, so a
half-broken feed never replaces a good agenda.
"""
from __future__ import annotations

import http.client
import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from urllib.parse import urljoin, urlsplit, urlunsplit


FETCH_TIMEOUT_SECONDS = 10
MAX_FEED_BYTES = 5 * 1024 * 1024
ALLOWED_SCHEMES = ("http", "https", "file")
MAX_UID_LENGTH = 255
USER_AGENT = "Charlandero-agenda/1"


class FeedError(Exception):
    """The feed could not be fetched or is not a usable agenda; the message says why."""


@dataclass(frozen=True)
class AgendaEntry:
    uid: str
    title: str
    starts_at: datetime          # aware, UTC
    ends_at: datetime | None = None
    location: str = ""
    url: str = ""
    description: str = ""


@dataclass(frozen=True)
class FetchedFeed:
    body: bytes
    content_type: str | None


# ---- URLs in logs ------------------------------------------------------------------------------

# A path segment this long with this many digits is most likely a secret (e.g. a calendar's
# "private-<hash>" export link), so it is masked too.
_SECRET_LOOKING_SEGMENT = re.compile(r"^(?=(?:.*\d){4})[^/]{20,}$")


def redact_url(url: str | None) -> str:
    """The URL without credentials, query, fragment or secret-looking path segments: safe to log/store."""
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<unparseable URL>"
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    segments = ["***" if _SECRET_LOOKING_SEGMENT.match(segment) else segment
                for segment in parts.path.split("/")]
    query = "***" if parts.query else ""
    return urlunsplit((parts.scheme, netloc, "/".join(segments), query, ""))


def scrub(message: str, url: str | None) -> str:
    """Remove from an error message any part of the URL that may be secret (some errors quote it)."""
    if not url:
        return message
    try:
        parts = urlsplit(url)
        secrets = [url, parts.query, parts.fragment, parts.password or "",
                   *[s for s in parts.path.split("/") if _SECRET_LOOKING_SEGMENT.match(s)]]
    except ValueError:
        secrets = [url]
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        message = message.replace(secret, "***")
    return message


# ---- fetching ----------------------------------------------------------------------------------

class _SchemeCheckingRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect may only lead to another web address: never to file: on this machine, nor ftp:."""

    def http_error_302(self, req, fp, code, msg, headers):
        target = urljoin(req.full_url, headers.get("Location") or headers.get("URI") or "")
        if urlsplit(target).scheme.lower() not in ("http", "https"):
            raise FeedError(f"redirected to a non-http(s) URL ({urlsplit(target).scheme or 'no scheme'}:)")
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


def fetch_feed(url: str, timeout: float = FETCH_TIMEOUT_SECONDS, max_bytes: int = MAX_FEED_BYTES) -> FetchedFeed:
    """Download the feed. Raises FeedError (with secrets scrubbed) on any failure."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise FeedError(f"unsupported URL scheme {scheme or '(none)'!r}; use http, https or file")
    request = urllib.request.Request(url, headers={
        "User-Agent": USER_AGENT,
        "Accept": "application/json, text/calendar;q=0.9, */*;q=0.5",
    })
    opener = urllib.request.build_opener(_SchemeCheckingRedirects())
    try:
        with opener.open(request, timeout=timeout) as response:
            body = response.read(max_bytes + 1)
            content_type = response.headers.get("Content-Type")
    except FeedError:
        raise
    except urllib.error.HTTPError as exc:
        raise FeedError(f"the server answered HTTP {exc.code} {scrub(str(exc.reason), url)}") from None
    except urllib.error.URLError as exc:
        raise FeedError(f"cannot open the feed: {scrub(str(exc.reason), url)}") from None
    except TimeoutError:
        raise FeedError(f"no answer within {timeout:g} s") from None
    except (OSError, ValueError, http.client.HTTPException) as exc:  # reset, bad port, invalid URL, ...
        raise FeedError(f"cannot read the feed: {scrub(str(exc), url)}") from None
    if len(body) > max_bytes:
        raise FeedError(f"the feed is larger than the {max_bytes:,}-byte limit")
    if not content_type and urlsplit(url).path.lower().endswith(".ics"):
        content_type = "text/calendar"
    return FetchedFeed(body=body, content_type=content_type)


# ---- parsing -----------------------------------------------------------------------------------

def parse_feed(body: bytes, content_type: str | None) -> list[AgendaEntry]:
    """Parse a JSON or iCalendar agenda. The body decides when it is recognisable, else the Content-Type."""
    kind = _detect_kind(body, content_type)
    entries = _parse_ics(body) if kind == "ics" else _parse_json(body)
    if not entries:
        # An empty feed is far more often a publishing accident than a real empty agenda.
        raise FeedError("the feed has no events")
    seen: set[str] = set()
    for entry in entries:
        if entry.uid in seen:
            raise FeedError(f"the id {entry.uid!r} appears more than once")
        seen.add(entry.uid)
    return entries


def _detect_kind(body: bytes, content_type: str | None) -> str:
    start = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:15]
    if start.upper().startswith(b"BEGIN:VCALENDAR"):
        return "ics"
    if start[:1] in (b"{", b"["):
        return "json"
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type == "text/calendar":
        return "ics"
    if media_type.endswith("json"):
        return "json"
    shown = media_type or "no Content-Type"
    raise FeedError(f"the feed is neither JSON nor iCalendar ({shown}, starts with {start[:15]!r})")


def _parse_json(body: bytes) -> list[AgendaEntry]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FeedError(f"malformed JSON: {exc}") from None
    if isinstance(data, dict):
        if "items" not in data:
            raise FeedError('JSON feed has no "items" list')
        data = data["items"]
    if not isinstance(data, list):
        raise FeedError('JSON feed must be a list of events or {"items": [...]}')
    return [_json_entry(item, index) for index, item in enumerate(data)]


def _json_entry(item, index: int) -> AgendaEntry:
    where = f"items[{index}]"
    if not isinstance(item, dict):
        raise FeedError(f"{where} is not an object")
    uid = item.get("uid", item.get("id"))
    if isinstance(uid, int) and not isinstance(uid, bool):
        uid = str(uid)
    uid = _required_text(uid, f'{where} "id"/"uid"')
    if len(uid) > MAX_UID_LENGTH:
        raise FeedError(f"{where} id is longer than {MAX_UID_LENGTH} characters")
    where = f"{where} (id {uid!r})"
    title = _required_text(item.get("title"), f'{where} "title"')
    starts_at = _iso_datetime(item.get("starts_at"), f'{where} "starts_at"', required=True)
    ends_at = _iso_datetime(item.get("ends_at"), f'{where} "ends_at"', required=False)
    return _entry(uid, title, starts_at, ends_at, where,
                  location=_optional_text(item.get("location"), f'{where} "location"'),
                  url=_optional_text(item.get("url"), f'{where} "url"'),
                  description=_optional_text(item.get("description"), f'{where} "description"'))


def _parse_ics(body: bytes) -> list[AgendaEntry]:
    import icalendar  # here, not at the top: memory that only a process parsing an .ics feed needs

    try:
        calendar = icalendar.Calendar.from_ical(body)
    except (ValueError, IndexError, KeyError, UnicodeDecodeError) as exc:
        raise FeedError(f"malformed iCalendar: {exc}") from None
    entries = []
    for index, event in enumerate(calendar.walk("VEVENT")):
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        entries.append(_ics_entry(event, index))
    return entries


def _ics_entry(event, index: int) -> AgendaEntry:
    where = f"VEVENT #{index + 1}"
    uid = _required_text(_ics_text(event, "UID"), f"{where} UID")
    if "RECURRENCE-ID" in event:
        # An edited occurrence of a repeating event shares its UID; keep both apart.
        uid = f"{uid}#{_as_utc(_ics_date(event, 'RECURRENCE-ID', where)).strftime('%Y%m%dT%H%M%SZ')}"
    if len(uid) > MAX_UID_LENGTH:
        raise FeedError(f"{where} UID is longer than {MAX_UID_LENGTH} characters")
    where = f"{where} (UID {uid!r})"
    title = _required_text(_ics_text(event, "SUMMARY"), f"{where} SUMMARY")
    if "DTSTART" not in event:
        raise FeedError(f"{where} has no DTSTART")
    starts_at = _as_utc(_ics_date(event, "DTSTART", where))
    ends_at = None
    if "DTEND" in event:
        ends_at = _as_utc(_ics_date(event, "DTEND", where))
    elif "DURATION" in event:
        duration = event.decoded("DURATION")
        if not isinstance(duration, timedelta):
            raise FeedError(f"{where} has a DURATION that is not a duration")
        ends_at = starts_at + duration
    return _entry(uid, title, starts_at, ends_at, where,
                  location=_ics_text(event, "LOCATION"), url=_ics_text(event, "URL"),
                  description=_ics_text(event, "DESCRIPTION"))


def _ics_text(event, name: str) -> str:
    value = event.get(name)
    if value is None:
        return ""
    if isinstance(value, list):  # a property given twice: keep the first
        value = value[0]
    return str(value).strip()


def _ics_date(event, name: str, where: str) -> date | datetime:
    try:
        value = event.decoded(name)
    except (ValueError, TypeError, KeyError) as exc:
        raise FeedError(f"{where} has an invalid {name}: {exc}") from None
    if not isinstance(value, (date, datetime)):  # icalendar keeps unparseable values as text
        raise FeedError(f"{where} has an invalid {name}: {str(event.get(name))!r}")
    return value


# ---- shared helpers ----------------------------------------------------------------------------

def _entry(uid, title, starts_at, ends_at, where, *, location, url, description) -> AgendaEntry:
    if ends_at is not None and ends_at < starts_at:
        raise FeedError(f"{where} ends before it starts")
    if url and urlsplit(url).scheme.lower() not in ("http", "https"):
        url = ""  # only web links are worth showing; anything else is dropped, not trusted
    return AgendaEntry(uid=uid, title=title, starts_at=starts_at, ends_at=ends_at,
                       location=location, url=url, description=description)


def _required_text(value, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FeedError(f"{what} is missing or empty")
    return value.strip()


def _optional_text(value, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise FeedError(f"{what} must be text")
    return value.strip()


def _iso_datetime(value, what: str, required: bool) -> datetime | None:
    if value is None or value == "":
        if required:
            raise FeedError(f"{what} is missing")
        return None
    if not isinstance(value, str):
        raise FeedError(f"{what} must be an ISO 8601 date-time string")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise FeedError(f"{what} is not an ISO 8601 date-time: {value!r}") from None
    return _as_utc(parsed)


def _as_utc(value: date | datetime) -> datetime:
    """Dates become midnight UTC; naive times are taken as UTC; aware times are converted to UTC."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.min)
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)
