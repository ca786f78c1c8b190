"""payload_checks: which bodies web refuses before answering Slack, and what the worker may store."""
from __future__ import annotations

import copy
import json

import pytest

from app.bot.payload_checks import (MAX_DEPTH, PayloadError, needs_sanitizing, parse_json_body, problem_with_delivery,
                                    sanitized)
from tests.support import slack_requests

# A message edit as Slack delivers it (message.channels, subtype message_changed): rich-text blocks
# (a nested list with a styled link) and an attachment with blocks of its own, in the new and the old
# message. Among the most deeply nested payloads Slack sends to this bot.
SECTION = {"type": "rich_text_section", "elements": [
    {"type": "text", "text": "see "},
    {"type": "link", "url": "https://example.com/a", "text": "the agenda", "style": {"bold": True, "italic": True}},
    {"type": "emoji", "name": "wave", "unicode": "1f44b"},
    {"type": "user", "user_id": "U0BOB"},
]}
BLOCKS = [{"type": "rich_text", "block_id": "Xy1", "elements": [
    SECTION,
    {"type": "rich_text_list", "style": "bullet", "indent": 1, "border": 0, "elements": [SECTION, SECTION]},
    {"type": "rich_text_quote", "elements": [{"type": "text", "text": "quoted", "style": {"code": True}}]},
]}]
MESSAGE = {
    "type": "message", "user": "U0ALICE", "text": "see <https://example.com/a|the agenda> :wave: <@U0BOB>",
    "ts": "1700000000.000100", "team": "TFAKE0001", "blocks": BLOCKS,
    "attachments": [{"id": 1, "fallback": "x", "blocks": BLOCKS, "from_url": "https://example.com/a"}],
    "edited": {"user": "U0ALICE", "ts": "1700000050.000000"},
    "files": [{"id": "F1", "shares": {"public": {"C0GENERAL": [{"reply_users": ["U0BOB"], "ts": "1.2"}]}}}],
}
REALISTIC_EDIT = slack_requests.event_callback({
    "type": "message", "subtype": "message_changed", "channel": "C0GENERAL", "channel_type": "channel",
    "hidden": True, "ts": "1700000050.000200", "event_ts": "1700000050.000200",
    "message": MESSAGE, "previous_message": {**MESSAGE, "text": "see the agenda"},
})


def depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


def nested(levels: int) -> dict:
    """A mention whose event carries `blocks` nested so that the whole payload is `levels` deep."""
    payload = slack_requests.mention("help", "C0GENERAL")
    inner: list = []
    payload["event"]["blocks"] = inner
    for _ in range(levels - 3):  # payload, event and blocks are the first three levels
        inner.append([])
        inner = inner[0]
    assert depth(payload) == levels
    return payload


def body_of(payload) -> bytes:
    return json.dumps(payload).encode()


def refusal(body: bytes) -> str:
    with pytest.raises(PayloadError) as raised:
        parse_json_body(body)
    return raised.value.reason


# ---- parse_json_body --------------------------------------------------------------------------------------

def test_a_slack_event_parses_to_the_same_dict():
    payload = slack_requests.mention("busca café ☕", "C0GENERAL")
    assert parse_json_body(json.dumps(payload, ensure_ascii=False).encode()) == payload
    assert parse_json_body(body_of(payload)) == payload


def test_a_realistic_slack_event_nests_well_inside_the_limit():
    assert depth(REALISTIC_EDIT) <= MAX_DEPTH // 2
    assert parse_json_body(body_of(REALISTIC_EDIT)) == REALISTIC_EDIT
    assert problem_with_delivery(REALISTIC_EDIT) is None


def test_nesting_up_to_the_limit_is_accepted_and_one_level_more_is_refused():
    deepest = nested(MAX_DEPTH)
    assert parse_json_body(body_of(deepest)) == deepest
    assert refusal(body_of(nested(MAX_DEPTH + 1))) == "too_deep"


@pytest.mark.parametrize("levels", [500, 5_000, 30_000])
def test_deep_nesting_is_refused_without_recursing(levels):
    # 500 deep parses (then stopped the worker); thousands deep made json.loads raise RecursionError
    assert refusal(b'{"a":' * levels + b"1" + b"}" * levels) == "too_deep"
    assert refusal(b'{"a":' + b"[" * levels + b"]" * levels + b"}") == "too_deep"


def test_brackets_inside_strings_do_not_count_as_nesting():
    payload = slack_requests.mention("[[[[" * 100 + "{{{{" * 100, "C0GENERAL")
    assert parse_json_body(body_of(payload)) == payload


def test_many_shallow_containers_are_fine():
    payload = slack_requests.mention("help", "C0GENERAL")
    payload["event"]["blocks"] = [{"type": "rich_text", "elements": [{"type": "text", "text": "x"}]}] * 500
    assert parse_json_body(body_of(payload)) == payload


def test_a_utf8_byte_order_mark_is_refused():
    # json.loads would accept it; kombu's decoder on the worker does not (the delivery was dropped)
    assert refusal(b"\xef\xbb\xbf" + body_of(slack_requests.mention("help"))) == "utf8_bom"


@pytest.mark.parametrize("body, reason", [
    (b"\xff\xfe{}", "body_not_utf8"),
    (b'{"text": "\xed\xa0\x80"}', "body_not_utf8"),  # a surrogate encoded as UTF-8 bytes: not UTF-8
    (b"{not json", "malformed_json"),
    (b"", "malformed_json"),
    (b'{"a": 1} trailing', "malformed_json"),
    (b'{"a": "raw \x00 control character"}', "malformed_json"),
    (b'{"a": ' + b"9" * 5000 + b"}", "malformed_json"),  # past Python's integer digit limit
    (b'{"a": NaN}', "non_finite_number"),
    (b'{"a": -Infinity}', "non_finite_number"),
    (b'{"a": 1e999}', "non_finite_number"),
    (b"[1, 2, 3]", "malformed_payload"),
    (b'"text"', "malformed_payload"),
    (b"null", "malformed_payload"),
])
def test_bodies_that_are_not_a_json_object_are_refused(body, reason):
    assert refusal(body) == reason


def test_payload_error_is_a_value_error_with_its_reason():
    error = PayloadError("too_deep")
    assert isinstance(error, ValueError) and error.reason == "too_deep" and str(error) == "too_deep"


def test_parsed_text_is_storable():
    body = (b'{"type": "event_callback", "a\\u0000b": ["x\\u0000y", {"k": "\\ud800 and \\udfff"}],'
            b' "pair": "\\ud83d\\ude00"}')
    assert parse_json_body(body) == {"type": "event_callback", "ab": ["xy", {"k": "\ufffd and \ufffd"}], "pair": "😀"}


# ---- sanitized ------------------------------------------------------------------------------------------

def test_sanitized_removes_nul_and_replaces_lone_surrogates_at_any_depth():
    dirty = {"te\x00am": "T\x00", "list": ["ok", "\ud800x", ["é\udc00\x00"]], "n": 1, "none": None, "b": True}
    assert sanitized(dirty) == {"team": "T", "list": ["ok", "\ufffdx", ["é\ufffd"]], "n": 1, "none": None, "b": True}
    assert "\x00" in dirty["te\x00am"]  # the input is left as it was


def test_sanitized_returns_the_same_objects_when_there_is_nothing_to_fix():
    clean = copy.deepcopy(REALISTIC_EDIT)
    clean["event"]["text"] = "ñandú ☕ 😀"
    assert sanitized(clean) is clean
    assert sanitized("plain") == "plain"
    assert sanitized(7) == 7 and sanitized(None) is None


def test_sanitized_keeps_the_untouched_parts():
    untouched = {"deep": [1, 2]}
    result = sanitized({"dirty": "\x00", "clean": untouched})
    assert result == {"dirty": "", "clean": untouched} and result["clean"] is untouched


@pytest.mark.parametrize("body, needed", [
    (b'{"text": "caf\\u00e9 \\u2028"}', False),
    ('{"text": "café 😀"}'.encode(), False),
    (b'{"text": "\\u0000"}', True),
    (b'{"text": "\\ud800"}', True),
    (b'{"text": "\\uDFFF"}', True),
    (b'{"text": "\\ud83d\\ude00"}', True),  # a pair (an emoji): sanitizing it changes nothing
])
def test_needs_sanitizing_tells_from_the_body(body, needed):
    assert needs_sanitizing(body) is needed
    payload = parse_json_body(body)
    assert (sanitized(json.loads(body)) != json.loads(body)) is (needed and b"d83d" not in body)
    assert not any(c == "\x00" or "\ud800" <= c <= "\udfff" for c in payload["text"])


# ---- problem_with_delivery: Slack's event_callback --------------------------------------------------------

def test_deliveries_the_worker_handles_have_no_problem():
    mention = slack_requests.mention("help", "C0GENERAL")
    dm = slack_requests.message("help", "D0ALICE", channel_type="im", thread_ts="1700000000.000001")
    deleted = slack_requests.message("", "C0GENERAL", subtype="message_deleted", deleted_ts="1700000000.000100",
                                     previous_message={"ts": "1700000000.000100", "text": "old"})
    bot = slack_requests.message("hi", "C0GENERAL", subtype="bot_message", bot_id="B01", user=None)
    del bot["event"]["user"]
    other = slack_requests.event_callback({"type": "reaction_added", "user": {"id": "U1"}, "item": [1, 2]})
    for payload in (mention, dm, deleted, bot, other, REALISTIC_EDIT):
        assert problem_with_delivery(payload) is None


def test_nulls_the_worker_reads_safely_are_accepted():
    payload = slack_requests.message("help", "C0GENERAL", subtype=None, bot_id=None, channel_type=None,
                                     deleted_ts=None, message=None, previous_message=None)
    payload["team_id"] = None
    payload["event"]["text"] = None
    payload["authorizations"] = None
    assert problem_with_delivery(payload) is None


def test_a_payload_that_is_not_a_delivery():
    assert problem_with_delivery([]) == "malformed_payload"
    assert problem_with_delivery({"type": "url_verification"}) == "unknown_type"
    assert problem_with_delivery({"event_id": "Ev1"}) == "unknown_type"


EVENT_FIELDS = ["user", "ts", "thread_ts", "subtype", "text", "bot_id", "team", "channel", "channel_type",
                "deleted_ts"]
WRONG_VALUES = [7, 1.5, True, ["C1"], {"id": "C1"}]


@pytest.mark.parametrize("wrong", WRONG_VALUES, ids=lambda v: type(v).__name__)
@pytest.mark.parametrize("field", ["event_id", "team_id"])
def test_wrong_types_in_the_envelope(field, wrong):
    payload = slack_requests.mention("help", "C0GENERAL")
    payload[field] = wrong
    assert problem_with_delivery(payload) == f"bad_field:{field}"


@pytest.mark.parametrize("wrong", WRONG_VALUES, ids=lambda v: type(v).__name__)
@pytest.mark.parametrize("field", EVENT_FIELDS + ["type"])
@pytest.mark.parametrize("kind", ["message", "app_mention"])
def test_wrong_types_in_the_event(kind, field, wrong):
    payload = slack_requests.message("help", "C0GENERAL")
    payload["event"]["type"] = kind
    payload["event"][field] = wrong
    assert problem_with_delivery(payload) == f"bad_field:event.{field}"


@pytest.mark.parametrize("field", ["user", "thread_ts", "team", "channel", "type"])
def test_null_where_the_worker_would_store_it_is_refused(field):
    payload = slack_requests.mention("help", "C0GENERAL")
    payload["event"][field] = None
    assert problem_with_delivery(payload) in (f"bad_field:event.{field}", f"missing_field:event.{field}")


@pytest.mark.parametrize("field", ["user", "ts", "thread_ts", "subtype", "text", "bot_id"])
@pytest.mark.parametrize("wrong", WRONG_VALUES, ids=lambda v: type(v).__name__)
def test_wrong_types_in_the_edited_message(field, wrong):
    payload = copy.deepcopy(REALISTIC_EDIT)
    payload["event"]["message"][field] = wrong
    assert problem_with_delivery(payload) == f"bad_field:event.message.{field}"


@pytest.mark.parametrize("wrong", WRONG_VALUES, ids=lambda v: type(v).__name__)
def test_wrong_types_in_the_deleted_message(wrong):
    payload = copy.deepcopy(REALISTIC_EDIT)
    payload["event"]["previous_message"]["ts"] = wrong
    assert problem_with_delivery(payload) == "bad_field:event.previous_message.ts"


@pytest.mark.parametrize("field", ["event", "event.message", "event.previous_message"])
@pytest.mark.parametrize("wrong", ["text", 7, ["a"], True])
def test_objects_that_are_not_objects(field, wrong):
    payload = copy.deepcopy(REALISTIC_EDIT)
    *path, name = field.split(".")
    container = payload
    for part in path:
        container = container[part]
    container[name] = wrong
    assert problem_with_delivery(payload) == f"bad_field:{field}"


def test_missing_required_fields():
    for field, reason in (("event_id", "missing_field:event_id"), ("event", "missing_field:event")):
        payload = slack_requests.mention("help")
        del payload[field]
        assert problem_with_delivery(payload) == reason
    payload = slack_requests.mention("help")
    payload["event_id"] = ""
    assert problem_with_delivery(payload) == "missing_field:event_id"
    del payload["event"]["type"]
    payload["event_id"] = "Ev1"
    assert problem_with_delivery(payload) == "missing_field:event.type"


@pytest.mark.parametrize("authorizations, reason", [
    ("U0BOT", "bad_field:authorizations"),
    ({"user_id": "U0BOT"}, "bad_field:authorizations"),
    (["U0BOT"], "bad_field:authorizations"),
    ([{"user_id": 7, "is_bot": True}], "bad_field:authorizations.user_id"),
    ([{"user_id": "U" * 33, "is_bot": True}], "too_long:authorizations.user_id"),
    ([{"user_id": "U0BOT", "is_bot": "yes"}], "bad_field:authorizations.is_bot"),
    ([{"user_id": "U0BOT", "is_bot": [True]}], "bad_field:authorizations.is_bot"),
])
def test_authorizations(authorizations, reason):
    payload = slack_requests.mention("help")
    payload["authorizations"] = authorizations
    assert problem_with_delivery(payload) == reason


@pytest.mark.parametrize("field, longest", [("user", 32), ("ts", 32), ("thread_ts", 32), ("subtype", 40),
                                            ("team", 32), ("channel", 32), ("deleted_ts", 32)])
def test_fields_longer_than_their_column_are_refused(field, longest):
    payload = slack_requests.message("help", "C0GENERAL")
    payload["event"][field] = "x" * longest
    assert problem_with_delivery(payload) is None
    payload["event"][field] = "x" * (longest + 1)
    assert problem_with_delivery(payload) == f"too_long:event.{field}"


def test_long_envelope_and_edit_fields_are_refused():
    payload = slack_requests.mention("help")
    payload["event_id"] = "E" * 120
    assert problem_with_delivery(payload) is None
    payload["event_id"] = "E" * 121
    assert problem_with_delivery(payload) == "too_long:event_id"
    payload = slack_requests.mention("help")
    payload["team_id"] = "T" * 33
    assert problem_with_delivery(payload) == "too_long:team_id"
    payload = copy.deepcopy(REALISTIC_EDIT)
    payload["event"]["message"]["ts"] = "1" * 33
    assert problem_with_delivery(payload) == "too_long:event.message.ts"
    payload = copy.deepcopy(REALISTIC_EDIT)
    payload["event"]["previous_message"]["ts"] = "1" * 33
    assert problem_with_delivery(payload) == "too_long:event.previous_message.ts"


def test_long_text_is_fine():
    payload = slack_requests.mention("x" * 60_000)
    assert problem_with_delivery(payload) is None


def test_fields_of_events_the_worker_does_not_read_are_not_checked():
    payload = slack_requests.event_callback({"type": "channel_created", "channel": {"id": "C1", "name": "x" * 99},
                                             "user": 7, "ts": ["x"]})
    assert problem_with_delivery(payload) is None


# ---- problem_with_delivery: the slash_command payload web builds --------------------------------------

def slash(**changes) -> dict:
    payload = {"type": "slash_command", "event_id": "slash:1234.5678.abcdef", "team_id": "TFAKE0001",
               "channel_id": "C0GENERAL", "user_id": "U0ALICE", "user_name": "alice", "command": "/charla",
               "text": "busca café", "response_url": "https://hooks.slack.com/commands/T1/1/abc"}
    payload.update(changes)
    return payload


def test_a_slash_command_payload_has_no_problem():
    assert problem_with_delivery(slash()) is None
    assert problem_with_delivery(slash(text="", user_name="", command="")) is None


SLASH_FIELDS = ["event_id", "team_id", "channel_id", "user_id", "user_name", "command", "text", "response_url"]


@pytest.mark.parametrize("wrong", WRONG_VALUES + [None], ids=lambda v: type(v).__name__)
@pytest.mark.parametrize("field", SLASH_FIELDS)
def test_wrong_types_in_a_slash_command(field, wrong):
    reason = problem_with_delivery(slash(**{field: wrong}))
    assert reason in (f"bad_field:{field}", f"missing_field:{field}")


@pytest.mark.parametrize("field", SLASH_FIELDS)
def test_missing_fields_in_a_slash_command(field):
    payload = slash()
    del payload[field]
    assert problem_with_delivery(payload) == f"missing_field:{field}"


@pytest.mark.parametrize("field, longest", [("event_id", 120), ("team_id", 32), ("channel_id", 32),
                                            ("user_id", 32)])
def test_long_fields_in_a_slash_command(field, longest):
    assert problem_with_delivery(slash(**{field: "x" * longest})) is None
    assert problem_with_delivery(slash(**{field: "x" * (longest + 1)})) == f"too_long:{field}"


def test_the_response_url_of_a_slash_command():
    url = "https://hooks.slack.com/commands/"
    assert problem_with_delivery(slash(response_url=url + "x" * (500 - len(url)))) is None
    assert problem_with_delivery(slash(response_url=url + "x" * (501 - len(url)))) == "too_long:response_url"
    assert problem_with_delivery(slash(response_url="javascript:alert(1)")) == "bad_field:response_url"
