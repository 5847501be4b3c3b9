"""Webhook signature helpers: Standard Webhooks (Replicate, OpenAI) and fal's Ed25519 + JWKS."""

from __future__ import annotations

import base64
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from generation.providers.webhooks import (
    JwksCache,
    WebhookSignatureError,
    ed25519_jwk,
    ed25519_keys_from_jwks,
    fal_webhook_headers,
    fal_webhook_verify,
    standard_webhook_headers,
    standard_webhook_sign,
    standard_webhook_verify,
)

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
BODY = b'{"id":"p1","status":"succeeded"}'


def test_it_matches_the_standard_webhooks_reference_vector():
    # The worked example published with the Standard Webhooks specification.
    signature = standard_webhook_sign(
        secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
        timestamp=1614265330, body=b'{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_it_accepts_a_valid_standard_webhook_and_returns_its_id():
    headers = standard_webhook_headers(secret=SECRET, body=BODY, msg_id="msg_1")
    assert standard_webhook_verify(secret=SECRET, headers=headers, body=BODY) == "msg_1"


def test_it_accepts_any_matching_entry_of_a_rotated_signature_header():
    headers = standard_webhook_headers(secret=SECRET, body=BODY, msg_id="msg_2")
    headers["webhook-signature"] = "v1,AAAAbadbadbad= " + headers["webhook-signature"] + " v2,zzz"
    assert standard_webhook_verify(secret=SECRET, headers={k.upper(): v for k, v in headers.items()}, body=BODY) == "msg_2"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h, b: (h, b + b" "),  # body changed after signing
        lambda h, b: ({**h, "webhook-id": "msg_other"}, b),  # id swapped
        lambda h, b: ({**h, "webhook-signature": h["webhook-signature"].replace("v1,", "v0,")}, b),
        lambda h, b: ({k: v for k, v in h.items() if k != "webhook-signature"}, b),
    ],
)
def test_it_refuses_a_tampered_standard_webhook(tamper):
    headers, body = tamper(standard_webhook_headers(secret=SECRET, body=BODY, msg_id="msg_3"), BODY)
    with pytest.raises(WebhookSignatureError) as caught:
        standard_webhook_verify(secret=SECRET, headers=headers, body=body)
    assert caught.value.permanent and caught.value.code == "invalid_signature"


@pytest.mark.parametrize("offset", [-301, 301])
def test_it_refuses_a_standard_webhook_outside_the_tolerance_window(offset):
    now = 1_800_000_000
    headers = standard_webhook_headers(secret=SECRET, body=BODY, msg_id="msg_4", timestamp=now + offset)
    with pytest.raises(WebhookSignatureError):
        standard_webhook_verify(secret=SECRET, headers=headers, body=BODY, now=now)
    assert standard_webhook_verify(secret=SECRET, headers=headers, body=BODY, now=now, tolerance=400) == "msg_4"


def _jwks_for(*keys: Ed25519PrivateKey) -> dict:
    return {"keys": [{"kty": "RSA", "n": "x", "e": "AQAB"}] + [ed25519_jwk(k.public_key(), kid=str(i)) for i, k in enumerate(keys)]}


def test_it_reads_only_the_ed25519_keys_of_a_jwks():
    key = Ed25519PrivateKey.generate()
    keys = ed25519_keys_from_jwks({"keys": [{"kty": "OKP", "crv": "X25519", "x": "AAAA"}, *_jwks_for(key)["keys"]]})
    assert len(keys) == 1
    keys[0].verify(key.sign(b"m"), b"m")


def test_it_verifies_a_fal_webhook_against_the_jwks_and_caches_the_keys():
    key = Ed25519PrivateKey.generate()
    cache = JwksCache(lambda: _jwks_for(Ed25519PrivateKey.generate(), key))
    for request_id in ("req-1", "req-2"):
        headers = fal_webhook_headers(private_key=key, request_id=request_id, user_id="u1", body=BODY)
        assert fal_webhook_verify(headers=headers, body=BODY, jwks=cache) == request_id
    assert cache.fetches == 1


def test_it_refuses_a_fal_webhook_signed_by_another_key_or_for_another_body():
    key = Ed25519PrivateKey.generate()
    cache = JwksCache(lambda: _jwks_for(key))
    forged = fal_webhook_headers(private_key=Ed25519PrivateKey.generate(), request_id="r", user_id="u", body=BODY)
    with pytest.raises(WebhookSignatureError):
        fal_webhook_verify(headers=forged, body=BODY, jwks=cache)
    good = fal_webhook_headers(private_key=key, request_id="r", user_id="u", body=BODY)
    with pytest.raises(WebhookSignatureError):
        fal_webhook_verify(headers=good, body=BODY + b"x", jwks=cache)
    with pytest.raises(WebhookSignatureError):
        fal_webhook_verify(headers={**good, "X-Fal-Webhook-User-Id": "someone-else"}, body=BODY, jwks=cache)


def test_it_refuses_a_stale_fal_webhook():
    key = Ed25519PrivateKey.generate()
    headers = fal_webhook_headers(private_key=key, request_id="r", user_id="u", body=BODY, timestamp=int(time.time()) - 600)
    with pytest.raises(WebhookSignatureError) as caught:
        fal_webhook_verify(headers=headers, body=BODY, jwks=JwksCache(lambda: _jwks_for(key)))
    assert "too old" in caught.value.message


def test_it_refetches_the_jwks_after_a_key_rotation_and_after_its_ttl():
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    published = {"doc": _jwks_for(old)}
    clock = {"now": 1000.0}
    cache = JwksCache(lambda: published["doc"], ttl=3600, clock=lambda: clock["now"])
    cache.keys()
    published["doc"] = _jwks_for(new)  # fal rotates its key
    clock["now"] += 120
    headers = fal_webhook_headers(private_key=new, request_id="r", user_id="u", body=BODY)
    assert fal_webhook_verify(headers=headers, body=BODY, jwks=cache) == "r"
    assert cache.fetches == 2
    clock["now"] += 3601
    cache.keys()
    assert cache.fetches == 3


def test_it_does_not_hammer_the_jwks_with_forged_webhooks():
    key = Ed25519PrivateKey.generate()
    cache = JwksCache(lambda: _jwks_for(key))
    for _ in range(5):
        forged = fal_webhook_headers(private_key=Ed25519PrivateKey.generate(), request_id="r", user_id="u", body=BODY)
        with pytest.raises(WebhookSignatureError):
            fal_webhook_verify(headers=forged, body=BODY, jwks=cache)
    assert cache.fetches == 1  # a forced refresh happens at most once a minute
