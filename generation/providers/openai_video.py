"""The OpenAI video protocol (/v1/videos) for gateways that still speak it.

OpenAI shut down its Videos API and every sora-2* model on 2026-09-24. The catalogue keeps
sora-2 and sora-2-pro as *retired* (a request for them is refused before any call, naming the
replacements) and offers a `gateway-default` model: point OPENAI_VIDEO_BASE_URL at a gateway
that serves the protocol and set OPENAI_VIDEO_MODEL to the model name it expects (when unset,
no `model` field is sent and the gateway picks its default).

Protocol (reference/apis/openai-video.md, from openai-python's videos resource):
    POST   /videos                 multipart: prompt, model, seconds ("4"|"8"|"12"), size, input_reference (file)
    GET    /videos/{id}            status queued | in_progress | completed | failed, integer `progress`
    GET    /videos/{id}/content?variant=video   the MP4, with the same Bearer auth (download is overridden)
    POST   /videos/{id}/remix      JSON {"prompt"}
    GET    /videos                 {"data": [...], "has_more", "last_id"}
    DELETE /videos/{id}            delete(); the protocol has no cancel, so `cancel` is refused
Webhooks: Standard Webhooks signing; event envelope {"id","type","data":{"id"}} with types
video.completed / video.failed.

Confirmed (openai-python API reference): create fields and enums (seconds "4"/"8"/"12", the four
sizes, dated sora-2 model names), Video object fields (progress, error {code,message},
expires_at), the six endpoints, the content variants. Unconfirmed: the webhook event names, the
failure codes, 1080p sizes, the poll-after header semantics at gateways, Sora prices (third-party).
"""

from __future__ import annotations

import mimetypes
import re
import time
from pathlib import Path
from typing import Any, Mapping

import httpx

from generation.providers.base import (
    FAILED,
    IMAGE_TO_VIDEO,
    LIST_JOBS,
    QUEUED,
    REMIX,
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
from generation.providers.webhooks import standard_webhook_payload
from mediastudio.lib.http import HttpClient, RetryPolicy, parse_retry_after
from mediastudio.lib.providers import ProviderError

DEFAULT_BASE_URL = "https://api.openai.com/v1"
GATEWAY_MODEL = "gateway-default"

STATES = {"queued": QUEUED, "in_progress": RUNNING, "completed": SUCCEEDED, "failed": FAILED}

# (aspect ratio, resolution) -> size. 1080p sizes appear in the guide but not in the SDK enums.
SIZES = {
    ("16:9", "720p"): "1280x720",
    ("9:16", "720p"): "720x1280",
    ("16:9", "1024p"): "1792x1024",
    ("9:16", "1024p"): "1024x1792",
    ("16:9", "1080p"): "1920x1080",
    ("9:16", "1080p"): "1080x1920",
}

_MODERATION = re.compile(r"moderation|content[_ ]?policy|safety|policy_violation|blocked", re.I)


def _openai_error(body: Any) -> tuple[str, str]:
    """(message, code) of an OpenAI error body or Video.error object."""
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            return str(error.get("message") or error), str(error.get("code") or error.get("type") or "")
        if error:
            return str(error), ""
    return str(body)[:300], ""


class OpenAIVideoProvider(VideoProvider):
    identifier = "openai_video"
    verbose_name = "OpenAI video protocol (gateway)"
    capabilities = frozenset({TEXT_TO_VIDEO, IMAGE_TO_VIDEO, REMIX, WEBHOOKS, LIST_JOBS})
    settings_keys = ("OPENAI_VIDEO_API_KEY",)
    credentials_check = ("GET", "videos?limit=1")

    def api_client(self) -> HttpClient:
        return self._http()

    # -- plumbing

    @property
    def base_url(self) -> str:
        return str(self.setting("OPENAI_VIDEO_BASE_URL", "") or DEFAULT_BASE_URL).rstrip("/")

    def _http(self) -> HttpClient:
        key = str(self.setting("OPENAI_VIDEO_API_KEY", "") or "")
        headers = {"Authorization": f"Bearer {key}"}
        for setting, name in (("OPENAI_VIDEO_ORGANIZATION", "OpenAI-Organization"), ("OPENAI_VIDEO_PROJECT", "OpenAI-Project")):
            value = self.setting(setting, "")
            if value:
                headers[name] = str(value)
        return HttpClient(
            base_url=self.base_url + "/",
            headers=headers,
            timeout=httpx.Timeout(float(self.setting("OPENAI_VIDEO_TIMEOUT", 60.0)), connect=10.0),
            secrets=[key],
            vendor="openai_video",
            retry=self.config.get("HTTP_RETRY", RetryPolicy()),
            sleep=self.config.get("HTTP_SLEEP") or time.sleep,
        )

    def _classify(self, response: httpx.Response) -> ProviderError | None:
        status = response.status_code
        if status < 400:
            return None
        try:
            message, code = _openai_error(response.json())
        except ValueError:
            message, code = response.text[:300], ""
        if _MODERATION.search(code) or (status == 400 and _MODERATION.search(message)):
            return ProviderError(f"openai_video refused the content: {message}", permanent=True, code="moderation",
                                 status_code=status)
        if status == 429 and code == "insufficient_quota":
            # OpenAI answers an exhausted quota with 429 too: retrying cannot help.
            return ProviderError(f"openai_video: {message}", permanent=True, code="insufficient_credit", status_code=status)
        if status == 429:
            return ProviderError(f"openai_video: rate limited: {message}",
                                 retry_after=parse_retry_after(response.headers.get("retry-after")),
                                 code="rate_limited", status_code=status)
        return None  # lib/http's defaults: 401/403 permanent, 5xx retryable, other 4xx permanent

    @staticmethod
    def size_for(spec: ModelSpec, request: VideoRequest) -> str:
        size = SIZES.get((request.aspect_ratio, request.resolution))
        if size is None:
            raise ProviderError(f"No /v1/videos size for {request.aspect_ratio} at {request.resolution}.", permanent=True,
                                code="unsupported")
        return size

    def vendor_model(self, spec: ModelSpec) -> str:
        if spec.name == GATEWAY_MODEL:
            return str(self.setting("OPENAI_VIDEO_MODEL", "") or "")
        return spec.name

    def content_url(self, video_id: str, variant: str = "video") -> str:
        return f"{self.base_url}/videos/{video_id}/content?variant={variant}"

    # -- contract

    def submit(self, request: VideoRequest) -> SubmitResult:
        spec = self.validate(request)
        with self._http() as http:
            if request.remix_of:
                response = http.post(f"videos/{request.remix_of}/remix", json={"prompt": request.prompt},
                                     classify=self._classify)
            else:
                fields: dict[str, str] = {
                    "prompt": request.prompt,
                    "seconds": str(int(round(request.duration))),
                    "size": self.size_for(spec, request),
                }
                model = self.vendor_model(spec)
                if model:
                    fields["model"] = model
                if request.image_path:
                    path = Path(request.image_path)
                    mime = mimetypes.guess_type(path.name)[0] or "image/png"
                    with path.open("rb") as handle:
                        response = http.post("videos", data=fields, files={"input_reference": (path.name, handle, mime)},
                                             classify=self._classify)
                elif request.image_url:
                    response = http.post("videos", json={**fields, "input_reference": {"image_url": request.image_url}},
                                         classify=self._classify)
                else:
                    # The SDK always sends multipart; an empty files dict would fall back to urlencoded.
                    response = http.post("videos", files={k: (None, v) for k, v in fields.items()},
                                         classify=self._classify)
        video = response.json()
        if not video.get("id"):
            raise ProviderError("openai_video accepted the request but returned no video id.", code="invalid_response")
        return SubmitResult(external_id=str(video["id"]), poll_after=self._poll_after(response, spec.poll_interval), raw=video)

    @staticmethod
    def _poll_after(response: httpx.Response, default: float) -> float:
        raw = response.headers.get("openai-poll-after-ms")
        try:
            return max(0.5, int(raw) / 1000) if raw else default
        except ValueError:
            return default

    def poll(self, external_id: str) -> PollResult:
        with self._http() as http:
            response = http.get(f"videos/{external_id}", classify=self._classify)
        video = response.json()
        spec = self._spec_for(str(video.get("model") or ""))
        return self.result_of(video, poll_after=self._poll_after(response, spec.poll_interval))

    def _spec_for(self, vendor_model: str) -> ModelSpec:
        for spec in self.models():
            if spec.name == vendor_model:
                return spec
        return self.model(GATEWAY_MODEL)

    def result_of(self, video: Mapping[str, Any], *, poll_after: float | None = None) -> PollResult:
        status = str(video.get("status", ""))
        state = STATES.get(status)
        if state is None:
            raise ProviderError(f"openai_video returned an unknown status {status!r}.", code="invalid_response")
        raw = dict(video)
        progress = video.get("progress")
        percent = int(progress) if isinstance(progress, (int, float)) else None
        if state == SUCCEEDED:
            return PollResult(SUCCEEDED, percent=100, result_urls=[self.content_url(str(video["id"]))], raw=raw)
        if state == FAILED:
            message, code = _openai_error(video.get("error") or {"message": "the video failed"})
            if _MODERATION.search(code) or _MODERATION.search(message):
                error = ProviderError(f"openai_video refused the content: {message}", permanent=True, code="moderation")
            else:
                error = ProviderError(f"openai_video: {message}", permanent=True, code=code or "failed")
            return PollResult(FAILED, percent=percent, message=error.message, error=error, raw=raw)
        message = "Queued." if state == QUEUED else "Rendering."
        return PollResult(state, percent=percent if state == RUNNING else None, message=message, poll_after=poll_after, raw=raw)

    def download(self, result: PollResult, dest: Path) -> Path:
        """GET /videos/{id}/content with the API key (the file is not at a public URL)."""
        video_id = str(result.raw.get("id") or "")
        if not video_id and result.result_urls:
            found = re.search(r"/videos/([^/?]+)/content", result.result_urls[0])
            video_id = found.group(1) if found else ""
        if not video_id:
            raise ProviderError("openai_video: no video id to download.", permanent=True, code="empty_result")
        limit = int(self.setting("MEDIA_MAX_UPLOAD_BYTES", 2 * 1024**3))
        with self._http() as http:
            response = http.get(f"videos/{video_id}/content", params={"variant": "video"}, classify=self._download_classify)
        data = response.content
        if len(data) > limit:
            raise ProviderError(f"openai_video: the video is larger than {limit} bytes.", permanent=True, code="too_large")
        if data[4:8] != b"ftyp":
            raise ProviderError("openai_video: /content did not return an MP4.", permanent=True, code="invalid_response")
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
        return dest

    def _download_classify(self, response: httpx.Response) -> ProviderError | None:
        if response.status_code in (404, 410):
            message, _ = _openai_error(response.json()) if "json" in response.headers.get("content-type", "") else ("", "")
            return ProviderError(f"openai_video: the video's assets have expired or were deleted. {message}".strip(),
                                 permanent=True, code="expired", status_code=response.status_code)
        return self._classify(response)

    # No cancel: the protocol has none, and a DELETE is not one (the job's row would vanish, not
    # read "canceled"), so `cancel` keeps the base refusal and `delete` is offered on its own.

    def delete(self, external_id: str) -> None:
        with self._http() as http:
            body = http.delete(f"videos/{external_id}", classify=self._classify).json()
        if not body.get("deleted", False):
            raise ProviderError(f"openai_video did not delete {external_id}.", code="not_deleted")

    def list_jobs(self, *, limit: int = 20) -> list[dict[str, Any]]:
        jobs: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": min(limit, 100), "order": "desc"}
        with self._http() as http:
            while len(jobs) < limit:
                page = http.get("videos", params=params, classify=self._classify).json()
                data = page.get("data") or []
                jobs.extend(data)
                if not page.get("has_more") or not data:
                    break
                params["after"] = page.get("last_id") or data[-1].get("id")
        return jobs[:limit]

    # -- webhooks

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent | None:
        verified = standard_webhook_payload(
            vendor="openai_video", secret=str(self.setting("OPENAI_VIDEO_WEBHOOK_SECRET", "") or ""), headers=headers, body=body,
            tolerance=float(self.setting("OPENAI_VIDEO_WEBHOOK_TOLERANCE", 300)),
        )
        if verified is None:
            return None
        delivery_id, event = verified
        video_id = str(((event.get("data") or {}) if isinstance(event, dict) else {}).get("id") or "")
        kind = str(event.get("type", "")) if isinstance(event, dict) else ""
        if not video_id:
            return None
        raw = {**event, "event_id": event.get("id"), "id": video_id}
        if kind == "video.completed":
            result = PollResult(SUCCEEDED, percent=100, result_urls=[self.content_url(video_id)], raw=raw)
        elif kind == "video.failed":
            # The event names no reason; the video object has it (moderation or not decides fallback).
            try:
                result = self.poll(video_id)
            except ProviderError:
                result = PollResult(FAILED, raw=raw)
            if result.state != FAILED or result.error is None:
                error = ProviderError("openai_video: the video failed (webhook).", permanent=True, code="failed")
                result = PollResult(FAILED, message=error.message, error=error, raw=raw)
        else:
            return None
        return WebhookEvent(external_id=video_id, delivery_id=delivery_id, result=result)
