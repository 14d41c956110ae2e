"""Standard Webhooks signatures (https://www.standardwebhooks.com/), both ends.

The sender signs ``{id}.{timestamp}.{body}`` with HMAC-SHA256 under the decoded ``whsec_`` secret, so
a receiver can check the message came from us, is not replayed from long ago (timestamp), and can drop
a retry it already processed (id). The id is the alert id, identical on every retry of that alert.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping

from daemon.models import WebhookConfig

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix, not a secret
TOLERANCE_S = 300  # how far a receiver accepts the timestamp from its own clock


def _key(secret: str) -> bytes:
    raw = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a webhook secret looks like whsec_<base64>") from None
    if not key:
        raise ValueError("the webhook secret is empty")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value (``v1,<base64>``)."""
    message = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), message, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def webhook_headers(msg_id: str, timestamp: int, body: bytes, secret: str | None) -> dict[str, str]:
    """id and timestamp always (receivers dedupe on the id even unsigned); the signature when we can."""
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(timestamp)}
    if secret:
        headers["webhook-signature"] = sign(secret, msg_id, timestamp, body)
    return headers


def request_headers(
    webhook: WebhookConfig, msg_id: str, body: bytes, timestamp: int, user_agent: str
) -> dict[str, str]:
    """Everything a webhook POST carries; the signing headers last so configured extras cannot shadow them."""
    merged: dict[str, str] = {}
    for layer in ({"Content-Type": "application/json", "User-Agent": user_agent}, webhook.headers,
                  webhook_headers(msg_id, timestamp, body, webhook.secret)):
        for name, value in layer.items():
            merged = {k: v for k, v in merged.items() if k.lower() != name.lower()}
            merged[name] = value
    return merged


def verify(
    secret: str, headers: Mapping[str, str], body: bytes, now: float, tolerance: int = TOLERANCE_S
) -> str | None:
    """None when the message is authentic and fresh, else the reason it is not (for the 401 answer).

    ``headers`` must be case-insensitive or lower-cased (the names are looked up in lower case).
    """
    msg_id = headers.get("webhook-id")
    stamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not (msg_id and stamp and signatures):
        return "missing webhook-id, webhook-timestamp or webhook-signature header"
    try:
        ts = int(stamp)
    except ValueError:
        return f"bad webhook-timestamp {stamp!r}"
    if abs(now - ts) > tolerance:
        return f"webhook-timestamp {ts} is more than {tolerance} s away from this clock"
    expected = sign(secret, msg_id, ts, body).split(",", 1)[1].encode("ascii")
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode("ascii", "replace"), expected):
            return None
    return "signature does not match (wrong secret, or the body was changed)"
