"""Webhook signature helpers shared by the video adapters.

Two signing styles are in use by our vendors:

- Standard Webhooks (Replicate, OpenAI): headers `webhook-id`, `webhook-timestamp`,
  `webhook-signature`; HMAC-SHA256 over "{id}.{timestamp}.{raw body}" keyed with the base64 part
  of a `whsec_` secret; the signature header holds space-separated "v1,<base64>" entries and one
  match is enough; timestamps outside a tolerance window are refused (replay protection).
- fal: Ed25519 over "{request id}\\n{user id}\\n{timestamp}\\n{hex sha256(raw body)}", headers
  `X-Fal-Webhook-Request-Id`, `-User-Id`, `-Timestamp`, `-Signature` (hex), verified against any
  Ed25519 key of fal's JWKS, fetched through lib/http and cached.

Verification failures raise `WebhookSignatureError` (a permanent ProviderError, code
"invalid_signature"), so a view can answer 400 and never trust the body.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import threading
import time
from typing import Any, Callable, Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from mediastudio.lib.providers import ProviderError

DEFAULT_TOLERANCE = 300  # seconds; both Standard Webhooks and fal use five minutes

FAL_REQUEST_ID = "x-fal-webhook-request-id"
FAL_USER_ID = "x-fal-webhook-user-id"
FAL_TIMESTAMP = "x-fal-webhook-timestamp"
FAL_SIGNATURE = "x-fal-webhook-signature"
FAL_JWKS_URL = "https://rest.alpha.fal.ai/.well-known/jwks.json"


class WebhookSignatureError(ProviderError):
    """The webhook is not from who it claims to be (or is too old): refuse it."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True, code="invalid_signature")


def header(headers: Mapping[str, str], name: str) -> str:
    """Case-insensitive header lookup (Django's request.headers, raw dicts, httpx.Headers)."""
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return ""


def _check_timestamp(raw: str, *, tolerance: float, now: float | None) -> int:
    try:
        stamp = int(raw)
    except (TypeError, ValueError):
        raise WebhookSignatureError("Webhook timestamp is missing or not an integer.") from None
    current = time.time() if now is None else now
    if stamp < current - tolerance:
        raise WebhookSignatureError(f"Webhook timestamp is too old ({int(current - stamp)} s).")
    if stamp > current + tolerance:
        raise WebhookSignatureError(f"Webhook timestamp is in the future ({int(stamp - current)} s).")
    return stamp


# --------------------------------------------------------------------------- Standard Webhooks


def _standard_key(secret: str) -> bytes:
    raw = secret[len("whsec_"):] if secret.startswith("whsec_") else secret
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise WebhookSignatureError("The webhook secret is not a valid whsec_ base64 secret.") from None


def standard_webhook_sign(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value ("v1,<base64>") for this message."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_standard_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def standard_webhook_headers(*, secret: str, body: bytes, msg_id: str, timestamp: int | None = None) -> dict[str, str]:
    """All three headers a Standard Webhooks sender attaches (used by fakes and tests)."""
    stamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": standard_webhook_sign(secret=secret, msg_id=msg_id, timestamp=stamp, body=body),
    }


def standard_webhook_verify(
    *, secret: str, headers: Mapping[str, str], body: bytes, tolerance: float = DEFAULT_TOLERANCE, now: float | None = None
) -> str:
    """Verify a Standard Webhooks delivery; return its `webhook-id` (the idempotency key)."""
    msg_id = header(headers, "webhook-id")
    raw_stamp = header(headers, "webhook-timestamp")
    signatures = header(headers, "webhook-signature")
    if not (msg_id and raw_stamp and signatures):
        raise WebhookSignatureError("Webhook is missing webhook-id, webhook-timestamp or webhook-signature.")
    stamp = _check_timestamp(raw_stamp, tolerance=tolerance, now=now)
    expected = standard_webhook_sign(secret=secret, msg_id=msg_id, timestamp=stamp, body=body).split(",", 1)[1]
    for entry in signatures.split():
        version, _, value = entry.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected.encode()):
            return msg_id
    raise WebhookSignatureError("Webhook signature does not match.")


# --------------------------------------------------------------------------- fal (Ed25519 + JWKS)


def fal_signed_message(*, request_id: str, user_id: str, timestamp: str, body: bytes) -> bytes:
    return "\n".join([request_id, user_id, timestamp, hashlib.sha256(body).hexdigest()]).encode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def ed25519_jwk(public_key: Ed25519PublicKey, *, kid: str = "") -> dict[str, str]:
    """A public key as an OKP JWK (what fal's JWKS lists)."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw)}
    if kid:
        jwk["kid"] = kid
    return jwk


def ed25519_keys_from_jwks(document: object) -> list[Ed25519PublicKey]:
    """The Ed25519 keys of a JWKS document; other key types are skipped."""
    keys: list[Ed25519PublicKey] = []
    entries = document.get("keys") if isinstance(document, dict) else None
    for jwk in entries or ():
        if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or not jwk.get("x"):
            continue
        try:
            keys.append(Ed25519PublicKey.from_public_bytes(_b64url_decode(str(jwk["x"]))))
        except ValueError:
            continue
    return keys


def fal_webhook_headers(
    *, private_key: Ed25519PrivateKey, request_id: str, user_id: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    """Headers fal attaches to a delivery, signed with `private_key` (used by the fake and tests)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    message = fal_signed_message(request_id=request_id, user_id=user_id, timestamp=stamp, body=body)
    return {
        "X-Fal-Webhook-Request-Id": request_id,
        "X-Fal-Webhook-User-Id": user_id,
        "X-Fal-Webhook-Timestamp": stamp,
        "X-Fal-Webhook-Signature": private_key.sign(message).hex(),
    }


class JwksCache:
    """fal's JWKS, fetched on first use and refreshed after `ttl` seconds (fal allows 24 h).

    `fetch` returns the parsed JWKS document; adapters pass a function that goes through
    lib/http (timeouts, retries, redaction). A refresh is also forced, at most once a minute,
    when no cached key verifies a signature, so a key rotation does not refuse good webhooks.
    """

    def __init__(self, fetch: Callable[[], object], *, ttl: float = 24 * 3600, clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._clock = clock
        self._keys: list[Ed25519PublicKey] = []
        self._fetched_at: float | None = None
        self._lock = threading.Lock()
        self.fetches = 0

    def keys(self, *, refresh: bool = False) -> list[Ed25519PublicKey]:
        with self._lock:
            now = self._clock()
            stale = self._fetched_at is None or now - self._fetched_at > self._ttl
            recently = self._fetched_at is not None and now - self._fetched_at < 60
            if stale or (refresh and not recently):
                self._keys = ed25519_keys_from_jwks(self._fetch())
                self._fetched_at = now
                self.fetches += 1
            return list(self._keys)


def fal_webhook_verify(
    *, headers: Mapping[str, str], body: bytes, jwks: JwksCache, tolerance: float = DEFAULT_TOLERANCE, now: float | None = None
) -> str:
    """Verify a fal delivery against the JWKS; return its request id."""
    request_id = header(headers, FAL_REQUEST_ID)
    user_id = header(headers, FAL_USER_ID)
    raw_stamp = header(headers, FAL_TIMESTAMP)
    signature_hex = header(headers, FAL_SIGNATURE)
    if not (request_id and user_id and raw_stamp and signature_hex):
        raise WebhookSignatureError("fal webhook is missing one of the X-Fal-Webhook-* headers.")
    _check_timestamp(raw_stamp, tolerance=tolerance, now=now)
    try:
        signature = bytes.fromhex(signature_hex)
    except ValueError:
        raise WebhookSignatureError("fal webhook signature is not hex.") from None
    message = fal_signed_message(request_id=request_id, user_id=user_id, timestamp=raw_stamp, body=body)
    for refresh in (False, True):
        for key in jwks.keys(refresh=refresh):
            try:
                key.verify(signature, message)
            except InvalidSignature:
                continue
            return request_id
    raise WebhookSignatureError("fal webhook signature does not match any key of the JWKS.")


def standard_webhook_payload(
    *, vendor: str, secret: str, headers: Mapping[str, str], body: bytes, tolerance: float = 300
) -> tuple[str, Any] | None:
    """Verify a Standard Webhooks delivery and parse its JSON body: (delivery id, payload).
    None when no secret is configured (the engine then polls instead of trusting the body)."""
    if not secret:
        return None
    delivery_id = standard_webhook_verify(secret=secret, headers=headers, body=body, tolerance=tolerance)
    try:
        return delivery_id, json.loads(body)
    except ValueError:
        raise ProviderError(f"{vendor} webhook body is not JSON.", permanent=True, code="invalid") from None
