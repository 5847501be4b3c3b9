"""The one outbound HTTP client every provider uses (httpx).

- timeouts on every request;
- bounded retries with exponential backoff and full jitter for retryable failures
  (connect/read timeouts, 429, 5xx), honouring Retry-After; none for permanent ones;
- secrets (keys, tokens, signatures) redacted from anything that reaches logs or error messages.

Tests point providers at local fake servers by configuring their base URL; nothing here is mocked.
"""

from __future__ import annotations

import functools
import logging
import random
import re
import ssl
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Iterable

import httpx

from mediastudio.lib.providers import ProviderError

logger = logging.getLogger("mediastudio.http")

RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
SECRET_HEADER_NAMES = frozenset(
    {"authorization", "x-api-key", "xi-api-key", "x-goog-api-key", "api-key", "cookie", "set-cookie", "proxy-authorization"}
)
_SECRET_PATTERNS = [
    re.compile(r"(?i)(bearer|key|token)\s+[A-Za-z0-9._\-:/+=]{6,}"),
    re.compile(r"(?i)((?:api[_-]?key|access[_-]?token|token|secret|signature|sig|key)=)[^&\s\"']+"),
    re.compile(r"\b(r8_|sk-|sk_|whsec_|fal_)[A-Za-z0-9._\-]{4,}"),
]


@functools.lru_cache(maxsize=1)
def shared_ssl_context() -> ssl.SSLContext:
    """One verifying TLS context per process: building one loads the CA store (~20 ms of CPU),
    which dominated short provider polls when every client made its own."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace known secret values and secret-looking tokens with '***'."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) + "***") if m.lastindex else "***", text)
    return text


def redact_headers(headers: httpx.Headers | dict[str, str]) -> dict[str, str]:
    return {k: ("***" if k.lower() in SECRET_HEADER_NAMES else v) for k, v in dict(headers).items()}


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # total tries, the first included
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_retry_after: float = 60.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        # Full jitter: spreads retries of many clients hitting the same vendor limit.
        return random.uniform(0, min(self.max_delay, self.base_delay * (2 ** (attempt - 1))))


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _error_detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict):
        for key in ("error", "detail", "message", "failure", "title"):
            if key in body and body[key]:
                value = body[key]
                if isinstance(value, dict):
                    value = value.get("message") or value.get("detail") or value
                return str(value)[:300]
    return str(body)[:300]


_pool = threading.local()
POOLED_CLIENTS_PER_THREAD = 16


def _pooled_client(base_url: str, timeout: float | httpx.Timeout) -> httpx.Client:
    """This thread's kept httpx client for a base URL and timeout (the least recently used is
    closed beyond POOLED_CLIENTS_PER_THREAD). It holds no headers: each HttpClient sends its own."""
    clients: OrderedDict[tuple[str, str], httpx.Client] = getattr(_pool, "clients", None) or OrderedDict()
    _pool.clients = clients
    key = (base_url, repr(timeout))
    client = clients.pop(key, None)
    if client is None:
        client = httpx.Client(base_url=base_url, timeout=timeout, follow_redirects=False, verify=shared_ssl_context())
    clients[key] = client
    while len(clients) > POOLED_CLIENTS_PER_THREAD:
        clients.popitem(last=False)[1].close()
    return client


class HttpClient:
    """A thin httpx wrapper; `request()` returns a successful response or raises ProviderError.

    `classify` lets an adapter turn a vendor's error body into a permanent/retryable decision
    (for example a 400 whose body says "moderation"); by default 4xx other than the retryable
    ones are permanent and 429/5xx are retryable.
    """

    def __init__(
        self,
        *,
        base_url: str = "",
        headers: dict[str, str] | None = None,
        timeout: float | httpx.Timeout = httpx.Timeout(30.0, connect=10.0),
        retry: RetryPolicy = RetryPolicy(),
        secrets: Iterable[str] = (),
        vendor: str = "provider",
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.vendor = vendor
        self.retry = retry
        self.secrets = tuple(s for s in secrets if s)
        self._sleep = sleep
        self._headers = dict(headers or {})
        if transport is None:
            # Adapters build a client per call; the connection underneath is kept per thread and
            # vendor, so the poll loop's thousandth poll does not open its thousandth TLS session.
            self._client, self._owned = _pooled_client(base_url, timeout), False
        else:
            self._client, self._owned = httpx.Client(
                base_url=base_url, timeout=timeout, transport=transport, follow_redirects=False, verify=shared_ssl_context()
            ), True

    def close(self) -> None:
        if self._owned:
            self._client.close()

    def __enter__(self) -> "HttpClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        classify: Callable[[httpx.Response], ProviderError | None] | None = None,
        retry: bool = True,
        follow_redirects: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        attempts = self.retry.attempts if retry else 1
        last_error: ProviderError | None = None
        headers = {**self._headers, **(kwargs.pop("headers", None) or {})}
        for attempt in range(1, attempts + 1):
            if not self._owned:
                self._client.cookies.clear()  # a kept connection carries no cookies between callers
            try:
                response = self._client.request(method, url, follow_redirects=follow_redirects, headers=headers, **kwargs)
            except httpx.TimeoutException as exc:
                last_error = ProviderError(
                    f"{self.vendor}: request timed out ({type(exc).__name__})", code="timeout"
                )
            except httpx.TransportError as exc:
                last_error = ProviderError(
                    redact(f"{self.vendor}: connection failed: {exc}", self.secrets), code="connection"
                )
            else:
                error = self._error_for(response, classify)
                if error is None:
                    return response
                last_error = error
            logger.warning("%s %s failed (attempt %s/%s): %s", method, redact(str(url), self.secrets), attempt, attempts, last_error)
            if last_error.permanent or attempt == attempts:
                break
            self._sleep(self.retry.delay(attempt, last_error.retry_after))
        assert last_error is not None
        raise last_error

    def _error_for(
        self, response: httpx.Response, classify: Callable[[httpx.Response], ProviderError | None] | None
    ) -> ProviderError | None:
        if classify is not None:
            custom = classify(response)
            if custom is not None:
                custom.message = redact(custom.message, self.secrets)
                return custom
        if response.status_code < 400:
            return None
        detail = redact(_error_detail(response), self.secrets)
        status = response.status_code
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if status in RETRYABLE_STATUS:
            code = "rate_limited" if status == 429 else "server_error"
            return ProviderError(
                f"{self.vendor}: HTTP {status}: {detail}", retry_after=retry_after, code=code, status_code=status
            )
        code = {401: "unauthorized", 402: "insufficient_credit", 403: "forbidden", 404: "not_found"}.get(status, "invalid")
        return ProviderError(f"{self.vendor}: HTTP {status}: {detail}", permanent=True, code=code, status_code=status)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)
