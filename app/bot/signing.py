"""Slack request verification (v0 signatures, 5-minute window) with slack_sdk's verifier."""
from __future__ import annotations

import functools
import re

from django.conf import settings
from slack_sdk.signature import SignatureVerifier

# The verifier calls int() on the timestamp, which takes '²' or '١٢٣' (Unicode digits), and compares
# signatures with hmac.compare_digest, which raises on non-ASCII text: only the forms Slack sends get
# that far. Header values arrive as latin-1 text, so any byte can be in them.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


@functools.lru_cache(maxsize=1)
def _verifier() -> SignatureVerifier:
    return SignatureVerifier(settings.CONFIG.slack_signing_secret)


def is_signed_by_slack(body: bytes, headers) -> bool:
    """True only for a body Slack signed in the last five minutes; False for anything else, whatever the
    bytes in the headers or the body."""
    timestamp = headers.get("X-Slack-Request-Timestamp")
    signature = headers.get("X-Slack-Signature")
    if not timestamp or not signature or not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
        return False
    try:
        return _verifier().is_valid(body=body, timestamp=timestamp, signature=signature)
    except UnicodeDecodeError:  # the verifier signs the body decoded as UTF-8; Slack's bodies always are
        return False
