"""Slack request verification (v0 signatures, 5-minute window) with slack_sdk's verifier."""
from __future__ import annotations

import functools

from django.conf import settings
from slack_sdk.signature import SignatureVerifier


@functools.lru_cache(maxsize=1)
def _verifier() -> SignatureVerifier:
    return SignatureVerifier(settings.CONFIG.slack_signing_secret)


def is_signed_by_slack(body: bytes, headers) -> bool:
    timestamp = headers.get("X-Slack-Request-Timestamp")
    signature = headers.get("X-Slack-Signature")
    if not timestamp or not signature or not timestamp.isdigit() or len(timestamp) > 12:
        return False  # the verifier would raise on a non-numeric timestamp
    return _verifier().is_valid(body=body, timestamp=timestamp, signature=signature)
