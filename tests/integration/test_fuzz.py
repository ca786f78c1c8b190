"""Hostile input against the running bot (gunicorn, worker, beat): any bytes in any header or body of
/slack/events and /slack/commands, signed or not, get 4xx at worst — never 5xx — and nothing stops the
worker. A signed delivery is refused (400, X-Slack-No-Retry) exactly when payload_checks says the worker
could not process it; what is accepted, the worker processes without a task failing. Afterwards a normal
mention is still answered, once.

Hypothesis runs derandomized (the same examples on every run and in CI) and keeps no example database.
"""
from __future__ import annotations

import copy
import json
import time
import urllib.parse
import uuid

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from app.bot.payload_checks import MAX_DEPTH, problem_with_delivery, sanitized
from tests.support import slack_requests
from tests.support.raw_http import raw_post

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = 300
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
PATHS = ("/slack/events", "/slack/commands")


# ---- what goes in headers -------------------------------------------------------------------------------

def _one_line(value: bytes) -> bytes:
    # CR and LF end a header line: they are framing, not a value (the server would read a new header)
    return value.replace(b"\r", b"").replace(b"\n", b"")


any_bytes = st.binary(max_size=120).map(_one_line)
latin1_text = st.text(st.characters(max_codepoint=0xFF), max_size=80).map(lambda s: _one_line(s.encode("latin-1")))
utf8_text = st.text(max_size=40).map(lambda s: _one_line(s.encode("utf-8")))
header_value = st.one_of(any_bytes, latin1_text, utf8_text)

TIMESTAMPS = ["²", "¹²³", "١٢٣٤٥٦٧٨٩٠", "𝟏𝟕𝟎𝟎𝟎𝟎𝟎𝟎𝟎𝟎", "+1700000000", "-1", " 1700000000", "1700000000 ",
              "1_700_000_000", "0x10", "1e9", "9" * 13, "0", "", "\x00", "1700000000\x00"]
SIGNATURES = ["v0=" + "é" * 64, "v0=" + "g" * 64, "V0=" + "a" * 64, "v0=" + "a" * 63, "v0=" + "a" * 65,
              "v1=" + "a" * 64, "v0=" + "A" * 64, "v0=" + "a" * 63 + "\xff", "v0=", "=", "\x00" * 67, "v0=" + "²" * 64]


def _as_sent(texts: list[str]) -> list[bytes]:
    """Each text as UTF-8 bytes and, where it can be, as latin-1 bytes (what an HTTP client would send)."""
    return [t.encode("utf-8") for t in texts] + [t.encode("latin-1") for t in texts if max(t or "a") <= "\xff"]


timestamp_value = st.one_of(st.sampled_from(_as_sent(TIMESTAMPS)), header_value,
                            st.integers().map(lambda n: str(n).encode()))
signature_value = st.one_of(st.sampled_from(_as_sent(SIGNATURES)), header_value)
header_name = st.one_of(st.sampled_from([b"Content-Type", b"X-Slack-Retry-Num", b"X-Slack-Retry-Reason",
                                         b"Transfer-Encoding", b"Cookie", b"X-Forwarded-Proto", b"X-Forwarded-For",
                                         b"Expect", b"Accept-Encoding", b"SCRIPT_NAME", b"X-Forwarded-Ssl"]),
                        st.binary(min_size=1, max_size=20).map(lambda b: _one_line(b).replace(b":", b"") or b"X"))
extra_headers = st.lists(st.tuples(header_name, header_value), max_size=3)
content_lengths = st.sampled_from([None] * 6 + [b"\xb2", b"-1", b"+10", b"0x10", b"1e3", b" 12", b"12 ", b"",
                                                b"99999999999999999999", b"\xd9\xa1\xd9\xa2", b"5, 5"])
bodies = st.one_of(st.binary(max_size=2048), st.text(max_size=300).map(str.encode),
                   st.just(json.dumps(slack_requests.mention("help")).encode()))


# ---- what goes in payloads ------------------------------------------------------------------------------

# NUL and lone surrogates (the database cannot store them), a BOM, accents, an emoji, a line separator
TRICKY = ["\x00", "\ud800", "\udbff", "\udc00", "\udfff", "\ufeff", "é", "😀", "\u2028"]
hostile_text = st.one_of(
    st.lists(st.one_of(st.text(max_size=12), st.sampled_from(TRICKY)), max_size=6).map("".join),
    st.integers(0, 600).map(lambda n: "x" * n),  # over-long for any column
    st.sampled_from(["", " ", "1700000000.000100", "U" * 32, "U" * 33, "C" * 40, "C" * 41, "javascript:alert(1)"]),
)
json_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                        hostile_text)
json_value = st.recursive(json_scalar, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                               st.dictionaries(hostile_text, inner, max_size=3)),
                          max_leaves=8)
REMOVE = object()

MESSAGE_FIELDS = ["user", "ts", "thread_ts", "subtype", "text", "bot_id"]
EVENT_PATHS = ([("event_id",), ("team_id",), ("type",), ("authorizations",), ("authorizations", 0),
                ("authorizations", 0, "user_id"), ("authorizations", 0, "is_bot"), ("event",), ("event", "type")]
               + [("event", f) for f in MESSAGE_FIELDS + ["team", "channel", "channel_type", "deleted_ts"]]
               + [("event", "message")] + [("event", "message", f) for f in MESSAGE_FIELDS]
               + [("event", "previous_message"), ("event", "previous_message", "ts")])


def _events(channel: str) -> list[dict]:
    """A mention, a DM, an edit and a deletion, as Slack sends them: what the fuzz starts from."""
    edited = slack_requests.message("", channel, subtype="message_changed",
                                    message={"type": "message", "user": "U0ALICE", "text": "help",
                                             "ts": slack_requests.new_ts()})
    deleted = slack_requests.message("", channel, subtype="message_deleted", deleted_ts=slack_requests.new_ts(),
                                     previous_message={"ts": slack_requests.new_ts(), "text": "old"})
    return [slack_requests.mention("help", channel), slack_requests.message("help", "D" + channel[1:],
                                                                            channel_type="im"), edited, deleted]


def _with(payload: dict, path: tuple, value) -> dict:
    changed = copy.deepcopy(payload)
    container = changed
    for step in path[:-1]:
        container = container[step]
    if value is REMOVE:
        if isinstance(container, list) or path[-1] in container:
            del container[path[-1]]
    else:
        container[path[-1]] = value
    return changed


def _deep_body(levels: int, closer: str) -> bytes:
    """A channel message (stored, not answered) whose blocks nest so that the whole payload is `levels`
    deep (payload, event and blocks are the first three); written as bytes, past what json.dumps recurses."""
    payload = slack_requests.message("hello", "CFUZZDEEP")
    payload["event"]["blocks"] = "DEEP"
    opener = b'{"a":' if closer == "}" else b"["
    inner = opener * (levels - 3) + b"1" + closer.encode() * (levels - 3)
    return json.dumps(payload).encode().replace(b'"DEEP"', b"[" + inner + b"]")


# ---- sending --------------------------------------------------------------------------------------------

class Edge:
    """Sends to the running web and records every status it answers."""

    def __init__(self, slack):
        self.slack, self.statuses = slack, []

    def send(self, path: str, headers: list[tuple[bytes, bytes]], body: bytes, content_length=None):
        response = raw_post(self.slack.stack.web_url, path, headers, body, content_length)
        self.statuses.append(response.status)
        assert response.status != 0, f"no answer to {headers!r} {body[:200]!r}"
        assert response.status < 500, f"{response.status}: {path} {headers!r} {body[:200]!r}: {response.body[:300]!r}"
        return response

    def signed(self, path: str, body: bytes, content_type: bytes = b"application/json"):
        signature = slack_requests.sign(self.slack.secret, body)
        return self.send(path, [(b"Content-Type", content_type)]
                         + [(k.encode(), v.encode()) for k, v in signature.items()], body)

    def delivery(self, payload: dict):
        """A signed event: refused with 400 and X-Slack-No-Retry exactly when the worker could not process it."""
        response = self.signed("/slack/events", json.dumps(payload).encode())
        problem = problem_with_delivery(sanitized(payload))
        if problem:
            assert response.status == 400, (problem, payload)
            assert response.headers.get("x-slack-no-retry") == "1"
            assert json.loads(response.body)["error"] == problem
        else:
            assert response.status == 200, (response.status, response.body, payload)
        return response


@pytest.fixture
def edge(slack):
    return Edge(slack)


def test_hostile_input_never_gets_a_5xx_and_the_bot_keeps_answering(slack, edge, channel):
    started = time.monotonic()
    worker_log_before = len(slack.stack.log("worker"))

    @FUZZ
    @given(path=st.sampled_from(PATHS), timestamp=st.one_of(st.none(), timestamp_value),
           signature=st.one_of(st.none(), signature_value), extra=extra_headers, body=bodies,
           content_length=content_lengths)
    def unsigned_requests_are_refused(path, timestamp, signature, extra, body, content_length):
        headers = [(b"X-Slack-Request-Timestamp", timestamp)] if timestamp is not None else []
        headers += [(b"X-Slack-Signature", signature)] if signature is not None else []
        response = edge.send(path, headers + extra, body, content_length)
        assert 400 <= response.status < 500

    @FUZZ
    @given(path=st.sampled_from(PATHS), timestamp=timestamp_value, signature=signature_value,
           which=st.sampled_from(["timestamp", "signature", "both"]))
    def a_signed_body_with_garbled_signature_headers_is_refused(path, timestamp, signature, which):
        body = json.dumps(slack_requests.mention("help", channel + "X")).encode()
        real = {k: v.encode() for k, v in slack_requests.sign(slack.secret, body).items()}
        if which in ("timestamp", "both"):
            real["X-Slack-Request-Timestamp"] = timestamp
        if which in ("signature", "both"):
            real["X-Slack-Signature"] = signature
        response = edge.send(path, [(b"Content-Type", b"application/json")]
                             + [(k.encode(), v) for k, v in real.items()], body)
        assert response.status in (400, 401)

    @FUZZ
    @given(path=st.sampled_from(PATHS), body=bodies, bom=st.booleans())
    def signed_bodies_of_any_bytes_are_refused(path, body, bom):
        body = (b"\xef\xbb\xbf" if bom else b"") + body
        response = edge.signed(path, body)
        if path == "/slack/events" and body.startswith(b"{"):
            assert response.status in (200, 400)  # the one valid mention among them is accepted
        else:
            assert 400 <= response.status < 500

    @FUZZ
    @given(base=st.integers(0, 3), path=st.sampled_from(EVENT_PATHS),
           value=st.one_of(st.just(REMOVE), json_value))
    def signed_events_with_hostile_fields(base, path, value):
        payload = _events("CF" + uuid.uuid4().hex[:10].upper())[base]  # a channel each: no pacing between them
        if path[0] == "event" and len(path) > 2 and not isinstance(payload["event"].get(path[1]), dict):
            path = path[:2]  # the mention has no edited message: change the field itself
        edge.delivery(_with(payload, path, value))

    @FUZZ
    @given(levels=st.one_of(st.integers(MAX_DEPTH - 2, MAX_DEPTH + 2), st.integers(4, 8_000)),
           closer=st.sampled_from(["]", "}"]), bom=st.booleans())
    def signed_deep_or_bom_deliveries(levels, closer, bom):
        response = edge.signed("/slack/events", (b"\xef\xbb\xbf" if bom else b"") + _deep_body(levels, closer))
        if bom or levels > MAX_DEPTH:
            assert response.status == 400 and response.headers.get("x-slack-no-retry") == "1"
            assert json.loads(response.body)["error"] == ("utf8_bom" if bom else "too_deep")
        else:
            assert response.status == 200

    fields = {"team_id": "TFAKE0001", "channel_id": channel + "S", "user_id": "U0ALICE", "user_name": "alice",
              "command": "/charla", "text": "help", "trigger_id": "", "response_url": slack.fake.url + "/response/x"}

    @FUZZ
    @given(changes=st.dictionaries(st.sampled_from(list(fields)), st.one_of(hostile_text, any_bytes), max_size=3),
           duplicate=st.booleans())
    def signed_slash_commands_with_hostile_fields(changes, duplicate):
        form = {**fields, "trigger_id": uuid.uuid4().hex, **changes}
        pairs = list(form.items()) + (list(changes.items()) if duplicate else [])
        body = "&".join(f"{urllib.parse.quote(k)}={_quoted(v)}" for k, v in pairs).encode()
        response = edge.signed("/slack/commands", body, b"application/x-www-form-urlencoded")
        assert response.status in (200, 400)
        if response.status == 400:
            assert response.headers.get("x-slack-no-retry") == "1"

    for fuzz in (unsigned_requests_are_refused, a_signed_body_with_garbled_signature_headers_is_refused,
                 signed_bodies_of_any_bytes_are_refused, signed_events_with_hostile_fields,
                 signed_deep_or_bom_deliveries, signed_slash_commands_with_hostile_fields):
        fuzz()
    fuzzing = time.monotonic() - started
    print(f"\nfuzz: {len(edge.statuses)} requests in {fuzzing:.1f} s; answers: "
          + ", ".join(f"{s}×{edge.statuses.count(s)}" for s in sorted(set(edge.statuses))))
    assert max(edge.statuses) < 500

    # The bot still does its job, and no process stopped on what it was sent.
    slack.mention("help", channel)
    slack.assert_each_answered_once([channel], timeout=120)
    print(f"fuzz: then a mention answered once, {time.monotonic() - started - fuzzing:.1f} s later")
    for role in ("web", "worker", "beat"):
        assert slack.stack.procs[role].poll() is None, f"{role} exited:\n{slack.stack.log(role)[-3000:]}"
    worker_log = slack.stack.log("worker")[worker_log_before:]
    assert "Unrecoverable error" not in worker_log
    # what web accepted, the worker could process: no task failed on it
    assert "raised unexpected" not in worker_log, worker_log[-5000:]
    assert "Internal Server Error" not in slack.stack.log("web")


def _quoted(value) -> str:
    return urllib.parse.quote_from_bytes(value) if isinstance(value, bytes) else urllib.parse.quote(
        value, errors="surrogatepass")
