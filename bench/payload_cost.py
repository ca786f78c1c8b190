"""CPU per request of what /slack/events does to a verified body before handing it on, in process:
json.loads and two isinstance checks (before app/bot/payload_checks.py) against parse_json_body +
problem_with_delivery (now), with the signature check alongside for scale. Prints µs per call (best of 5).

    DEBUG=1 python -m bench.payload_cost
"""
from __future__ import annotations

import json
import os
import timeit

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")
django.setup()

from app.bot.payload_checks import PayloadError, parse_json_body, problem_with_delivery  # noqa: E402
from app.bot.signing import is_signed_by_slack  # noqa: E402
from django.conf import settings  # noqa: E402
from tests.support import slack_requests  # noqa: E402

KIB_64 = settings.SLACK_MAX_BODY_BYTES


def fill_to(payload: dict, grow, ascii_only: bool = True) -> bytes:
    """The payload grown (by `grow(payload, n)`) to the largest body under 64 KiB."""
    def body(n: int) -> bytes:
        return json.dumps(grow(payload, n), ensure_ascii=ascii_only).encode()

    n = 1
    while len(body(n * 2)) < KIB_64:
        n *= 2
    low, high = n, n * 2
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if len(body(mid)) < KIB_64 else (low, mid)
    return body(low)


def with_text(payload: dict, n: int) -> dict:
    return {**payload, "event": {**payload["event"], "text": "¿café o té? " * n}}


def with_blocks(payload: dict, n: int) -> dict:
    section = {"type": "rich_text_section", "elements": [{"type": "text", "text": "word"}] * 4}
    block = {"type": "rich_text", "block_id": "b1", "elements": [section]}
    return {**payload, "event": {**payload["event"], "blocks": [block] * n}}


def before(body: bytes) -> None:
    payload = json.loads(body)
    if not isinstance(payload, dict):
        return
    if not isinstance(payload.get("event_id"), str) or not isinstance(payload.get("event"), dict):
        return


def now(body: bytes) -> None:
    try:
        problem_with_delivery(parse_json_body(body))
    except PayloadError:
        pass


def per_call(fn, *args) -> float:
    number = max(20, int(0.2 / max(1e-7, timeit.timeit(lambda: fn(*args), number=3) / 3)))
    return min(timeit.repeat(lambda: fn(*args), number=number, repeat=5)) / number * 1e6


def main() -> None:
    mention = slack_requests.mention("busca café", "C0GENERAL")
    deep = b'{"type":"event_callback","a":' + b"[" * 30_000 + b"]" * 30_000 + b"}"
    bodies = {
        "mention": json.dumps(mention).encode(),
        "64 KiB of text, UTF-8": fill_to(mention, with_text, ascii_only=False),
        "64 KiB of text, \\u escapes": fill_to(mention, with_text),
        "64 KiB of blocks": fill_to(mention, with_blocks),
        "64 KiB nested 30,000 deep": deep[:KIB_64 - 1] + b"}",
    }
    print(f"{'body':28} {'bytes':>7} {'before µs':>10} {'now µs':>8} {'verify µs':>10}")
    for name, body in bodies.items():
        headers = slack_requests.sign(settings.CONFIG.slack_signing_secret, body)
        try:
            old = f"{per_call(before, body):10.1f}"
        except RecursionError:
            old = f"{'500':>10}"  # what /slack/events answered
        print(f"{name:28} {len(body):7} {old} {per_call(now, body):8.1f} "
              f"{per_call(is_signed_by_slack, body, headers):10.1f}")


if __name__ == "__main__":
    main()
