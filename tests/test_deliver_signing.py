"""Standard Webhooks signatures: ours verify with the reference package, and our verifier rejects forgeries."""

from __future__ import annotations

import time
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from daemon.deliver.signing import request_headers, sign, verify, webhook_headers
from daemon.models import WebhookConfig
from tests.helpers import SECRET


@settings(max_examples=50, deadline=None)
@given(msg_id=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40),
       body=st.text(max_size=300))
def test_reference_library_accepts_our_signature(msg_id: str, body: str) -> None:
    raw = body.encode("utf-8")
    headers = webhook_headers(msg_id, int(time.time()), raw, SECRET)
    Webhook(SECRET).verify(raw, headers, json_parse=False)
    assert verify(SECRET, headers, raw, time.time()) is None


def test_known_vector() -> None:
    """The example from the Standard Webhooks spec's reference tests."""
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    msg_id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    body = b'{"test": 2432232314}'
    assert sign(secret, msg_id, 1614265330, body) == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_reference_library_rejects_tampering() -> None:
    raw = '{"type":"article.matched","data":{"rule":"văn phòng"}}'.encode()
    headers = webhook_headers("al_1", int(time.time()), raw, SECRET)
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(raw.replace(b"rule", b"rulf"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "QUJDREVGR0hJSktMTU5PUA==").verify(raw, headers)


def test_our_verifier_names_the_problem() -> None:
    raw = b'{"x":1}'
    now = time.time()
    good = webhook_headers("al_1", int(now), raw, SECRET)
    assert verify(SECRET, good, raw, now) is None
    assert "does not match" in (verify(SECRET, good, b'{"x":2}', now) or "")
    assert "does not match" in (verify("whsec_QUJDREVGR0hJSktMTU5PUA==", good, raw, now) or "")
    assert "more than" in (verify(SECRET, good, raw, now + 3600) or "")
    assert "missing" in (verify(SECRET, {"webhook-id": "al_1"}, raw, now) or "")
    assert "bad webhook-timestamp" in (verify(SECRET, {**good, "webhook-timestamp": "x"}, raw, now) or "")
    several = {**good, "webhook-signature": "v1,AAAA " + good["webhook-signature"]}
    assert verify(SECRET, several, raw, now) is None


def test_unsigned_webhook_still_gets_id_and_timestamp() -> None:
    h = webhook_headers("al_9", 1700000000, b"{}", None)
    assert h == {"webhook-id": "al_9", "webhook-timestamp": "1700000000"}


def test_request_headers_extras_cannot_shadow_signing() -> None:
    hook = WebhookConfig(name="vp", url="http://127.0.0.1:1/", secret=SECRET,
                         headers=MappingProxyType({"X-Office": "VP Thành ủy", "webhook-id": "evil",
                                                   "content-type": "application/json; charset=utf-8"}))
    h = request_headers(hook, "al_1", b"{}", 1700000000, "newswatch/test")
    lower = {k.lower(): v for k, v in h.items()}
    assert len(lower) == len(h)  # no header twice under different case
    assert lower["webhook-id"] == "al_1"
    assert lower["x-office"] == "VP Thành ủy"
    assert lower["content-type"] == "application/json; charset=utf-8"
    assert lower["user-agent"] == "newswatch/test"
    assert lower["webhook-signature"].startswith("v1,")
    assert SECRET not in repr(hook)
