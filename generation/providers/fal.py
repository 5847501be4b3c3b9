"""fal.ai queue API: Pika and other fal-hosted video models behind one adapter.

Protocol (checked against the fal_client source as summarised in reference/apis/fal-pika.md, and
fal's docs): submit `POST {queue}/{endpoint}` with `Authorization: Key <FAL_KEY>` (optional
`?fal_webhook=<url>`); status `GET {queue}/{app}/requests/{id}/status?logs=1` (IN_QUEUE with
queue_position, IN_PROGRESS with logs, COMPLETED with `error`/`error_type` when it failed); result
`GET {queue}/{app}/requests/{id}`; cancel `PUT {queue}/{app}/requests/{id}/cancel`. `{app}` is the
`owner/alias` root of the endpoint id: status/result/cancel never use the endpoint's subpath.

Which endpoint and which input fields a model uses is data: the `route` block of each model in
generation/catalog/fal.yaml (endpoint per mode, vendor field <- engine field per mode, value types
and value maps). Adding a fal-hosted model is a YAML edit.

external_id is "{app}:{request_id}" because status, result and cancel need the app. fal's webhook
names only the request id, so `verify_webhook` finds the app (the submit of this process
remembers it; otherwise one status call per catalogue app) and returns the same external_id.

Confirmed (fal docs / model pages): queue host and Key auth, `fal_webhook` parameter, webhook body
(`status` OK|ERROR, `payload`, `error`, `payload_error`), webhook retries (10 times over 2 h),
model-error body `{"detail": [{"loc","msg","type","ctx"}]}` with an `X-Fal-Retryable` header,
Pika v2.5 text-to-video inputs (prompt, resolution 480p/720p/1080p, duration 5|10,
negative_prompt, seed), Kling 2.1 standard image-to-video inputs and price.
Unconfirmed: Pika v2.2 endpoint ids, Pika aspect_ratio input, Pika prices, the exact Ed25519
message layout and JWKS URL (taken from public verifier code), the default lifetime of fal media
URLs, data-URI acceptance for every image field (fal's clients send data URIs for small files).
"""

from __future__ import annotations

import base64
import json
import mimetypes
import re
import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import quote

import httpx
import yaml

from generation.providers.base import (
    CANCEL,
    CANCELED,
    FAILED,
    IMAGE_TO_VIDEO,
    QUEUED,
    RUNNING,
    SUCCEEDED,
    TEXT_TO_VIDEO,
    WEBHOOKS,
    ModelSpec,
    PollResult,
    SubmitResult,
    VideoProvider,
    VideoRequest,
    WebhookEvent,
)
from generation.providers.webhooks import FAL_JWKS_URL, JwksCache, fal_webhook_verify, header
from mediastudio.lib.http import HttpClient, RetryPolicy, parse_retry_after
from mediastudio.lib.providers import ProviderError

DEFAULT_QUEUE_URL = "https://queue.fal.run"

STATES = {"IN_QUEUE": QUEUED, "IN_PROGRESS": RUNNING, "COMPLETED": SUCCEEDED}

# fal error types (detail[].type / error_type) that mean the content was refused.
_MODERATION = re.compile(r"content_policy|nsfw|moderation|safety|flagged", re.I)
# Last tqdm-style progress line ("  40%|████      | 20/50 [...]"), as model apps print into logs.
# How a canceled request reads in a COMPLETED status (unconfirmed wording; fal documents no state).
_CANCELED = re.compile(r"cancel", re.I)
_TQDM = re.compile(r"(\d{1,3})%\|")

_JWKS_CACHES: dict[str, JwksCache] = {}
# request id -> app of the submits made by this process (a hint; webhooks fall back to asking fal).
_APPS: dict[str, str] = {}
_APPS_MAX = 10_000


# --------------------------------------------------------------------------- shared input mapping


def image_reference(*, path: str | None, url: str | None = None) -> str | None:
    """A public URL when the engine has one, else the local file as a data URI."""
    if url:
        return url
    if not path:
        return None
    data = Path(path).read_bytes()
    mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def _cast(value: Any, kind: str) -> Any:
    if kind == "int":
        return int(round(float(value)))
    if kind == "float":
        return float(value)
    if kind == "str":
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    if kind == "bool":
        return bool(value)
    return value


def map_inputs(route: Mapping[str, Any], mode: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Vendor input dict from a catalogue `route` block and the engine-side `fields`.

    route: {inputs: {<mode>: {vendor_field: engine_field}}, types: {vendor_field: int|str|float|bool},
            values: {vendor_field: {engine_value: vendor_value}}, fixed: {vendor_field: value}}.
    Engine fields left empty (None, "", []) are not sent, so vendor defaults apply.
    """
    table = (route.get("inputs") or {}).get(mode) or {}
    types = route.get("types") or {}
    values = route.get("values") or {}
    out: dict[str, Any] = dict(route.get("fixed") or {})
    for vendor_field, engine_field in table.items():
        value = fields.get(engine_field)
        if value is None or value == "" or value == []:
            continue
        if vendor_field in values:
            key = _cast(value, "str") if not isinstance(value, str) else value
            value = values[vendor_field].get(key, value)
        if vendor_field in types:
            value = _cast(value, str(types[vendor_field]))
        out[vendor_field] = value
    return out


def engine_fields(request: VideoRequest, *, image: str | None, last_frame: str | None, references: list[str]) -> dict[str, Any]:
    return {
        "prompt": request.prompt,
        "negative_prompt": request.negative_prompt,
        "image": image,
        "last_frame": last_frame,
        "reference_images": references,
        "duration": request.duration,
        "aspect_ratio": request.aspect_ratio,
        "resolution": request.resolution,
        "seed": request.seed,
        "audio": request.audio,
    }


def percent_from_logs(messages: list[str]) -> int | None:
    """The last tqdm-style percentage printed in the logs, if any."""
    for message in reversed(messages):
        found = _TQDM.findall(message or "")
        if found:
            return max(0, min(100, int(found[-1])))
    return None


@lru_cache(maxsize=8)
def catalogue_routes(provider: str) -> dict[str, dict[str, Any]]:
    """model name -> its `route` block from generation/catalog/<provider>.yaml."""
    from generation.catalog import CATALOG_DIR

    data = yaml.safe_load((CATALOG_DIR / f"{provider}.yaml").read_text()) or {}
    return {str(m["name"]): dict(m.get("route") or {}) for m in data.get("models") or ()}


# --------------------------------------------------------------------------- the adapter


def _detail_text(body: Any) -> tuple[str, str]:
    """(message, error type) from a fal error body."""
    if isinstance(body, dict):
        detail = body.get("detail")
        if isinstance(detail, list) and detail:
            first = detail[0] if isinstance(detail[0], dict) else {}
            msgs = "; ".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail)
            return msgs, str(first.get("type", ""))
        if detail:
            return str(detail), str(body.get("error_type") or "")
        if body.get("error"):
            return str(body["error"]), str(body.get("error_type") or "")
    return str(body)[:300], ""


def _error_from_body(body: Any, *, status: int | None, fallback_type: str = "", retryable_header: str = "") -> ProviderError:
    message, kind = _detail_text(body)
    kind = kind or fallback_type
    if _MODERATION.search(kind) or _MODERATION.search(message):
        return ProviderError(f"fal refused the content: {message}", permanent=True, code="moderation", status_code=status)
    if retryable_header.lower() == "true" or (status is not None and status >= 500):
        return ProviderError(f"fal: {message}", code="server_error", status_code=status)
    label = f" ({kind})" if kind else ""
    return ProviderError(f"fal: {message}{label}", permanent=True, code="invalid", status_code=status)


class FalProvider(VideoProvider):
    identifier = "fal"
    verbose_name = "fal.ai (Pika, Kling)"
    capabilities = frozenset({TEXT_TO_VIDEO, IMAGE_TO_VIDEO, WEBHOOKS, CANCEL})
    settings_keys = ("FAL_KEY",)

    def check_credentials(self) -> str:
        spec = self.model()
        endpoint = next(iter((self.route(spec).get("endpoints") or {}).values()))
        app = self.app_of(str(endpoint))  # queue status URLs name the app (owner/alias), not the endpoint's subpath
        path = f"/{app}/requests/00000000-0000-0000-0000-000000000000/status"
        with self._http() as http:
            try:
                http.request("GET", path, retry=False)
            except ProviderError as exc:
                if exc.status_code == 404:  # the key was accepted; the made-up request does not exist
                    return f"GET {path}: HTTP 404 for an unknown request, key accepted"
                raise
        return f"GET {path}: key accepted"

    # -- plumbing

    @property
    def base_url(self) -> str:
        return str(self.setting("FAL_BASE_URL", "") or DEFAULT_QUEUE_URL).rstrip("/")

    def _http(self) -> HttpClient:
        key = str(self.setting("FAL_KEY", "") or "")
        return HttpClient(
            base_url=self.base_url,
            headers={"Authorization": f"Key {key}", "Accept": "application/json"},
            secrets=[key],
            vendor="fal",
            retry=self.config.get("HTTP_RETRY", RetryPolicy()),
            sleep=self.config.get("HTTP_SLEEP") or time.sleep,
        )

    def _classify(self, response: httpx.Response) -> ProviderError | None:
        if response.status_code < 400:
            return None
        try:
            body = response.json()
        except ValueError:
            body = {"detail": response.text[:300]}
        status = response.status_code
        if status == 429:
            return ProviderError(
                f"fal: too many concurrent requests: {_detail_text(body)[0]}",
                retry_after=parse_retry_after(response.headers.get("retry-after")),
                code="rate_limited",
                status_code=status,
            )
        if status == 404:
            return ProviderError(f"fal: not found: {_detail_text(body)[0]}", permanent=True, code="not_found", status_code=404)
        if status in (401, 403):
            return ProviderError(f"fal: authentication failed ({status}): {_detail_text(body)[0]}", permanent=True,
                                 code="unauthorized", status_code=status)
        return _error_from_body(
            body,
            status=status,
            fallback_type=response.headers.get("x-fal-error-type", ""),
            # fal's docs name the header both ways.
            retryable_header=response.headers.get("x-fal-retryable") or response.headers.get("x-fal-needs-retry") or "",
        )

    def route(self, spec: ModelSpec) -> dict[str, Any]:
        route = catalogue_routes(self.identifier).get(spec.name)
        if not route:
            raise ProviderError(f"fal model '{spec.name}' has no route in the catalogue.", permanent=True, code="unsupported")
        return route

    @staticmethod
    def app_of(endpoint: str) -> str:
        parts = endpoint.strip("/").split("/")
        return "/".join(parts[:2])

    @staticmethod
    def split_id(external_id: str) -> tuple[str, str]:
        app, sep, request_id = external_id.rpartition(":")
        if not sep or not app or not request_id:
            raise ProviderError(f"Not a fal job id: {external_id!r} (expected 'owner/alias:request_id').", permanent=True,
                                code="invalid")
        return app, request_id

    @classmethod
    def request_id_of(cls, external_id: str) -> str:
        return cls.split_id(external_id)[1]

    # -- contract

    def inputs_for(self, request: VideoRequest, spec: ModelSpec) -> tuple[str, dict[str, Any]]:
        """(endpoint id, input JSON) for a validated request."""
        route = self.route(spec)
        mode = request.mode
        endpoint = (route.get("endpoints") or {}).get(mode)
        if not endpoint:
            raise ProviderError(f"fal model '{spec.name}' has no endpoint for {mode}.", permanent=True, code="unsupported")
        fields = engine_fields(
            request,
            image=image_reference(path=request.image_path, url=request.image_url),
            last_frame=image_reference(path=request.last_frame_path),
            references=[image_reference(path=p) or "" for p in request.reference_image_paths],
        )
        return str(endpoint), map_inputs(route, mode, fields)

    def submit(self, request: VideoRequest) -> SubmitResult:
        spec = self.validate(request)
        endpoint, payload = self.inputs_for(request, spec)
        params = {"fal_webhook": request.webhook_url} if request.webhook_url else None
        with self._http() as http:
            response = http.post(f"/{endpoint}", json=payload, params=params, classify=self._classify)
        body = response.json()
        request_id = str(body.get("request_id") or "")
        if not request_id:
            raise ProviderError("fal accepted the request but returned no request_id.", code="invalid_response")
        app = self.app_of(endpoint)
        if len(_APPS) >= _APPS_MAX:
            _APPS.clear()
        _APPS[request_id] = app
        return SubmitResult(external_id=f"{app}:{request_id}", poll_after=spec.poll_interval, raw=body)

    def poll(self, external_id: str) -> PollResult:
        app, request_id = self.split_id(external_id)
        interval = self._interval_for(app)
        with self._http() as http:
            status = http.get(f"/{app}/requests/{quote(request_id)}/status", params={"logs": "1"}, classify=self._classify).json()
            state = str(status.get("status", ""))
            logs = [str(entry.get("message", "")) for entry in status.get("logs") or () if isinstance(entry, dict)]
            if state == "IN_QUEUE":
                position = status.get("queue_position")
                message = f"In fal's queue (position {position})." if position is not None else "In fal's queue."
                return PollResult(QUEUED, message=message, poll_after=interval, raw=status)
            if state == "IN_PROGRESS":
                return PollResult(RUNNING, percent=percent_from_logs(logs), message=(logs[-1] if logs else "Rendering."),
                                  poll_after=interval, raw=status)
            if state != "COMPLETED":
                raise ProviderError(f"fal returned an unknown status {state!r}.", code="invalid_response")
            if status.get("error") and _CANCELED.search(f"{status.get('error_type') or ''} {status['error']}"):
                return PollResult(CANCELED, message="Canceled on fal.", raw=status)
            if status.get("error"):
                error = _error_from_body({"error": status["error"]}, status=None, fallback_type=str(status.get("error_type") or ""))
                return PollResult(FAILED, message=error.message, error=error, raw=status)
            try:
                result = http.get(f"/{app}/requests/{quote(request_id)}", classify=self._classify).json()
            except ProviderError as exc:
                # The result GET of a failed request answers the model's error (422 and friends).
                if exc.permanent and exc.code not in ("unauthorized", "forbidden"):
                    return PollResult(FAILED, message=exc.message, error=exc, raw=status)
                raise
        return self._finished(result, raw=status)

    def _finished(self, payload: Any, *, raw: dict[str, Any]) -> PollResult:
        urls = self._video_urls(payload)
        if not urls:
            error = ProviderError("fal finished without a video in its result.", permanent=True, code="empty_result")
            return PollResult(FAILED, message=error.message, error=error, raw=raw)
        return PollResult(SUCCEEDED, percent=100, result_urls=urls, raw={**raw, "result": payload})

    @staticmethod
    def _video_urls(payload: Any) -> list[str]:
        if not isinstance(payload, dict):
            return []
        video = payload.get("video")
        if isinstance(video, dict) and video.get("url"):
            return [str(video["url"])]
        videos = payload.get("videos")
        if isinstance(videos, list):
            return [str(v["url"]) for v in videos if isinstance(v, dict) and v.get("url")]
        return []

    def _interval_for(self, app: str) -> float:
        for spec in self.models():
            route = catalogue_routes(self.identifier).get(spec.name) or {}
            if any(self.app_of(str(e)) == app for e in (route.get("endpoints") or {}).values()):
                return spec.poll_interval
        return 5.0

    def cancel(self, external_id: str) -> None:
        app, request_id = self.split_id(external_id)
        with self._http() as http:
            response = http.request("PUT", f"/{app}/requests/{quote(request_id)}/cancel", classify=self._cancel_classify)
        status = ""
        try:
            status = str(response.json().get("status", ""))
        except ValueError:
            pass
        if status == "ALREADY_COMPLETED":
            raise ProviderError("fal: the request had already completed; nothing to cancel.", permanent=True,
                                code="already_completed")

    def _cancel_classify(self, response: httpx.Response) -> ProviderError | None:
        if response.status_code == 400:
            try:
                status = response.json().get("status")
            except ValueError:
                status = None
            if status == "ALREADY_COMPLETED":
                return ProviderError("fal: the request had already completed; nothing to cancel.", permanent=True,
                                     code="already_completed", status_code=400)
        if response.status_code == 404:
            return ProviderError("fal: no such request to cancel.", permanent=True, code="not_found", status_code=404)
        return self._classify(response)

    # -- webhooks

    def jwks(self) -> JwksCache:
        url = str(self.setting("FAL_JWKS_URL", "") or FAL_JWKS_URL)
        cache = _JWKS_CACHES.get(url)
        if cache is None:
            sleep = self.config.get("HTTP_SLEEP") or time.sleep

            def fetch() -> object:
                with HttpClient(vendor="fal-jwks", retry=RetryPolicy(attempts=2), sleep=sleep) as http:
                    return http.get(url).json()

            cache = _JWKS_CACHES[url] = JwksCache(fetch, ttl=float(self.setting("FAL_JWKS_TTL", 24 * 3600)))
        return cache

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent | None:
        if not header(headers, "x-fal-webhook-signature"):
            return None  # unsigned: the engine polls instead of trusting it
        request_id = fal_webhook_verify(
            headers=headers, body=body, jwks=self.jwks(), tolerance=float(self.setting("FAL_WEBHOOK_TOLERANCE", 300))
        )
        try:
            data = json.loads(body)
        except ValueError:
            raise ProviderError("fal webhook body is not JSON.", permanent=True, code="invalid") from None
        if str(data.get("request_id", request_id)) != request_id:
            raise ProviderError("fal webhook body names another request than its signature.", permanent=True,
                                code="invalid_signature")
        if data.get("status") == "OK":
            result = self._finished(data.get("payload"), raw=data)
        else:
            # On ERROR the payload holds the model's `detail` (or is null with a `payload_error`).
            error = _error_from_body(data.get("payload") or {"error": data.get("error") or data.get("payload_error")},
                                     status=None)
            result = PollResult(FAILED, message=error.message, error=error, raw=data)
        return WebhookEvent(external_id=f"{self._app_for(request_id)}:{request_id}", delivery_id=request_id, result=result)

    def _apps(self) -> list[str]:
        apps: list[str] = []
        for route in catalogue_routes(self.identifier).values():
            for endpoint in (route.get("endpoints") or {}).values():
                app = self.app_of(str(endpoint))
                if app not in apps:
                    apps.append(app)
        return apps

    def _app_for(self, request_id: str) -> str:
        if request_id in _APPS:
            return _APPS[request_id]
        with self._http() as http:
            for app in self._apps():
                try:
                    http.get(f"/{app}/requests/{quote(request_id)}/status", classify=self._classify)
                except ProviderError as exc:
                    if exc.code == "not_found" or exc.status_code == 404:
                        continue
                    raise
                _APPS[request_id] = app
                return app
        raise ProviderError(f"fal: no catalogue app knows request {request_id}.", permanent=True, code="not_found")


