"""Google Veo through the Gemini Developer API (generativelanguage.googleapis.com, not Vertex).

Protocol (reference: googleapis/python-genai converters and ai.google.dev/gemini-api/docs/video):
- `POST /v1beta/models/{model}:predictLongRunning` with `{"instances": [{prompt, image, lastFrame,
  referenceImages}], "parameters": {aspectRatio, durationSeconds, resolution, negativePrompt, sampleCount}}`
  -> an operation `{"name": "models/<model>/operations/<id>"}`; the name is our external id.
- `GET /v1beta/{name}`: no state enum, only `done`; then `error` (google.rpc.Status) or
  `response.generateVideoResponse.generatedSamples[].video.uri`. No progress is reported.
- Safety: `done` with no samples and `raiMediaFilteredCount` > 0 (reasons in `raiMediaFilteredReasons`)
  is a permanent failure with code "moderation".
- Images travel inline as base64 (`bytesBase64Encoded` + `mimeType`); GCS URIs are Vertex-only.
- Download: `GET {video.uri}` with the `x-goog-api-key` header, sent only when the URI is on the
  configured API host (a redirect elsewhere is followed without the key, through the safe fetcher).
- Auth: `x-goog-api-key: <GEMINI_API_KEY>`. Errors: `{"error": {"code", "message", "status"}}`.
- Not sent: `seed` and an audio toggle (Vertex-only; Veo 3.x always makes audio), `webhookConfig`
  (the signature format of Gemini webhooks is unconfirmed, so the engine polls).
- No cancel and no list for Veo operations.

Unconfirmed: the Gemini-API id of Veo 3.1 Lite (`veo-3.1-lite-generate-preview` is what third-party
code calls); whether 8 s is required for 1080p and reference images (we enforce it); 2-day retention
of generated files; 4k output (not offered here).
"""

from __future__ import annotations

import base64
import mimetypes
import time
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import httpx

from generation.providers.base import (
    AUDIO,
    FAILED,
    FIRST_LAST_FRAME,
    IMAGE_TO_VIDEO,
    REFERENCE_IMAGES,
    RUNNING,
    SUCCEEDED,
    TEXT_TO_VIDEO,
    ModelSpec,
    PollResult,
    SubmitResult,
    VideoProvider,
    VideoRequest,
)
from mediastudio.lib.http import HttpClient
from mediastudio.lib.providers import ProviderError

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp"}
# google.rpc.Code values that retrying cannot fix.
PERMANENT_RPC_CODES = {3: "invalid_input", 5: "not_found", 7: "forbidden", 9: "invalid_input", 16: "unauthorized"}
MODERATION_WORDS = ("safety", "responsible ai", "rai ", "blocked", "prohibited", "policy")


def _inline_image(path: str) -> dict[str, str]:
    file = Path(path)
    mime = mimetypes.guess_type(file.name)[0] or ""
    if mime not in IMAGE_TYPES:
        raise ProviderError(f"Veo takes JPEG, PNG or WebP images, not {mime or file.suffix}.", permanent=True, code="invalid_input")
    return {"bytesBase64Encoded": base64.b64encode(file.read_bytes()).decode(), "mimeType": mime}


def _classify(response: httpx.Response) -> ProviderError | None:
    """Google answers a bad key with 400 API_KEY_INVALID; a 400 naming safety is moderation."""
    if response.status_code != 400:
        return None
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return None
    message = str(error.get("message", ""))
    reasons = {str(d.get("reason", "")) for d in error.get("details") or [] if isinstance(d, dict)}
    if "API_KEY_INVALID" in reasons:
        return ProviderError(f"Veo: {message[:300]}", permanent=True, code="unauthorized", status_code=400)
    if any(word in message.lower() for word in MODERATION_WORDS):
        return ProviderError(f"Veo refused the request: {message[:300]}", permanent=True, code="moderation", status_code=400)
    return None


def operation_error(error: dict[str, Any]) -> ProviderError:
    code = int(error.get("code") or 0)
    message = str(error.get("message") or "the operation failed")
    if any(word in message.lower() for word in MODERATION_WORDS):
        return ProviderError(f"Veo: {message[:300]}", permanent=True, code="moderation")
    if code in PERMANENT_RPC_CODES:
        return ProviderError(f"Veo: {message[:300]}", permanent=True, code=PERMANENT_RPC_CODES[code])
    return ProviderError(f"Veo: {message[:300]}", code="rate_limited" if code == 8 else "vendor_failed")


class VeoProvider(VideoProvider):
    identifier: ClassVar[str] = "veo"
    verbose_name: ClassVar[str] = "Google Veo (Gemini API)"
    capabilities: ClassVar[frozenset[str]] = frozenset({TEXT_TO_VIDEO, IMAGE_TO_VIDEO, FIRST_LAST_FRAME, REFERENCE_IMAGES, AUDIO})
    settings_keys: ClassVar[tuple[str, ...]] = ("GEMINI_API_KEY",)
    credentials_check = ("GET", "/v1beta/models?pageSize=1")

    def api_client(self) -> HttpClient:
        return self._client()

    @property
    def _key(self) -> str:
        return str(self.setting("GEMINI_API_KEY", "") or "")

    @property
    def _base_url(self) -> str:
        return str(self.setting("GEMINI_BASE_URL", "") or DEFAULT_BASE_URL).rstrip("/")

    def _client(self, *, timeout: float = 30.0) -> HttpClient:
        key = self._key
        if not key:
            raise ProviderError("Veo: GEMINI_API_KEY is not set.", permanent=True, code="unauthorized")
        return HttpClient(
            base_url=self._base_url, headers={"x-goog-api-key": key}, secrets=(key,), vendor="Veo",
            sleep=self.config.get("HTTP_SLEEP", time.sleep), timeout=httpx.Timeout(timeout, connect=10.0),
        )

    def validate(self, request: VideoRequest) -> ModelSpec:
        spec = super().validate(request)
        needs_eight = request.resolution != "720p" or request.reference_image_paths
        if needs_eight and request.duration != 8:
            raise ProviderError("Veo makes 1080p clips and clips with reference images at 8 s only.", permanent=True, code="unsupported")
        if request.image_url and not request.image_path:
            raise ProviderError("Veo needs the image file itself (sent inline), not a URL.", permanent=True, code="invalid_input")
        return spec

    def submit(self, request: VideoRequest) -> SubmitResult:
        spec = self.validate(request)
        instance: dict[str, Any] = {"prompt": request.prompt}
        if request.image_path:
            instance["image"] = _inline_image(request.image_path)
        if request.last_frame_path:
            instance["lastFrame"] = _inline_image(request.last_frame_path)
        if request.reference_image_paths:
            instance["referenceImages"] = [
                {"image": _inline_image(p), "referenceType": "ASSET"} for p in request.reference_image_paths
            ]
        parameters: dict[str, Any] = {
            "aspectRatio": request.aspect_ratio,
            "durationSeconds": int(request.duration),
            "resolution": request.resolution,
            "sampleCount": 1,
        }
        if request.negative_prompt:
            parameters["negativePrompt"] = request.negative_prompt
        if request.extra.get("person_generation"):
            parameters["personGeneration"] = str(request.extra["person_generation"])
        with self._client() as client:
            data = client.post(
                f"/v1beta/models/{spec.name}:predictLongRunning",
                json={"instances": [instance], "parameters": parameters},
                classify=_classify,
            ).json()
        name = str(data.get("name") or "")
        if not name:
            raise ProviderError(f"Veo: no operation name in {data!r:.200}", code="bad_response")
        return SubmitResult(external_id=name, poll_after=spec.poll_interval, raw=data)

    def _interval_for(self, operation: str) -> float:
        # Operation names look like models/<model>/operations/<id>.
        parts = operation.split("/")
        name = parts[1] if len(parts) > 1 and parts[0] == "models" else ""
        try:
            return self.model(name).poll_interval
        except ProviderError:
            return self.model().poll_interval

    def poll(self, external_id: str) -> PollResult:
        if not external_id.startswith("models/") or "/operations/" not in external_id or ".." in external_id:
            raise ProviderError(f"Veo: {external_id!r} is not an operation name.", permanent=True, code="invalid_input")
        with self._client() as client:
            data = client.get(f"/v1beta/{external_id}", classify=_classify).json()
        if not data.get("done"):
            return PollResult(state=RUNNING, poll_after=self._interval_for(external_id), raw=data)
        if data.get("error"):
            error = operation_error(data["error"])
            return PollResult(state=FAILED, error=error, message=error.message, raw=data)
        video_response = (data.get("response") or {}).get("generateVideoResponse") or {}
        samples = video_response.get("generatedSamples") or []
        urls = [str(s["video"]["uri"]) for s in samples if (s.get("video") or {}).get("uri")]
        if urls:
            return PollResult(state=SUCCEEDED, percent=100, result_urls=urls, raw=data)
        filtered = int(video_response.get("raiMediaFilteredCount") or 0)
        if filtered:
            reasons = "; ".join(str(r) for r in video_response.get("raiMediaFilteredReasons") or []) or "no reason given"
            error = ProviderError(f"Veo: safety filters removed {filtered} video(s): {reasons[:300]}", permanent=True, code="moderation")
        else:
            error = ProviderError("Veo: the operation finished without a video.", code="empty_result")
        return PollResult(state=FAILED, error=error, message=error.message, raw=data)

    def download(self, result: PollResult, dest: Path) -> Path:
        """Fetch the video with the API key; the key goes only to the configured API host."""
        if not result.result_urls:
            raise ProviderError("Veo returned no video.", permanent=True, code="empty_result")
        uri = result.result_urls[0]
        base = urlsplit(self._base_url)
        target = urlsplit(urljoin(self._base_url + "/", uri))
        if (target.scheme, target.netloc) != (base.scheme, base.netloc):
            return super().download(result, dest)

        def expired(response: httpx.Response) -> ProviderError | None:
            if response.status_code in (403, 404, 410):
                return ProviderError(f"Veo: the video is no longer available (HTTP {response.status_code}).",
                                     permanent=True, code="output_expired", status_code=response.status_code)
            return None

        limit = int(self.setting("MEDIA_MAX_UPLOAD_BYTES", 2 * 1024**3))
        with self._client(timeout=300.0) as client:
            response = client.get(target.geturl(), classify=expired)
        if response.is_redirect:
            # Storage hosts get no key: hand the signed location to the SSRF-safe default download.
            location = urljoin(target.geturl(), response.headers.get("location", ""))
            return super().download(PollResult(state=SUCCEEDED, result_urls=[location]), dest)
        if len(response.content) > limit:
            raise ProviderError(f"Veo: the video is larger than {limit} bytes.", permanent=True, code="too_large")
        dest = Path(dest)
        partial = dest.with_name(dest.name + ".part")
        partial.write_bytes(response.content)
        partial.replace(dest)
        return dest
