"""Kling AI official API (Kuaishou): text2video and image2video tasks.

Protocol (reference: Kling "General Information", "Text to Video", "Callback Protocol" doc pages):
- Base URL `https://api-singapore.klingai.com` (moved from api.klingai.com; the Singapore host
  serves callers outside China). Override with KLING_BASE_URL.
- Auth: `Authorization: Bearer <JWT>`; the JWT is HS256-signed with the SecretKey, payload
  `{"iss": AccessKey, "exp": now + 1800, "nbf": now - 5}`. A fresh token is made for every client.
- `POST /v1/videos/text2video` | `/v1/videos/image2video` -> `data.task_id`;
  `GET /v1/videos/<kind>/<task_id>`. Our external id is "<kind>/<task_id>" so a poll knows the path.
- Every answer is wrapped `{"code": 0, "message", "request_id", "data"}`; code != 0 is an error:
  1000-1004 auth (401), 1100-1102 account/arrears/resource pack used up (HTTP 429 but permanent),
  1103 forbidden, 1200-1203 bad request, 1300-1301 platform/content policy (moderation),
  1302-1303 rate/concurrency limit (retryable), 1304 IP whitelist, 5000+ server errors (retryable).
- `task_status`: submitted -> processing -> succeed | failed (`task_status_msg` says why; "risk
  control" and content-policy messages are moderation). No progress field. Videos in
  `task_result.videos[].url`, kept 30 days.
- image2video `image` is a URL or raw base64 without a `data:` prefix; `image_tail` is the end frame.
- `mode`: std (720p) or pro (1080p); `duration` is a string "5"/"10"; no seed field.
- `callback_url` is sent when the engine offers one, but callbacks are unsigned: verify_webhook
  returns None and the engine re-queries the task. No cancel endpoint is documented.

Unconfirmed: the dollar price of a resource-pack unit (catalogue uses a reseller figure); which
models take `image_tail` in which mode; durations beyond 5/10 on newer models; the list endpoint.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any, ClassVar

import httpx
import jwt

from generation.providers.base import (
    AUDIO,
    FAILED,
    FIRST_LAST_FRAME,
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
)
from mediastudio.lib.http import HttpClient, parse_retry_after
from mediastudio.lib.providers import ProviderError

DEFAULT_BASE_URL = "https://api-singapore.klingai.com"
TOKEN_TTL = 1800
KINDS = ("text2video", "image2video")
STATE_MAP = {"submitted": QUEUED, "processing": RUNNING, "succeed": SUCCEEDED, "failed": FAILED}
MODERATION_HINTS = ("risk control", "risk-control", "content security", "sensitive", "policy", "violat", "inappropriate")
IMAGE_LIMIT = 10 * 1024 * 1024


def make_token(access_key: str, secret_key: str, *, now: float | None = None, ttl: int = TOKEN_TTL) -> str:
    """The API token: HS256 JWT with iss=AccessKey, valid from 5 s ago for `ttl` seconds."""
    issued = int(time.time() if now is None else now)
    return jwt.encode(
        {"iss": access_key, "exp": issued + ttl, "nbf": issued - 5},
        secret_key,
        algorithm="HS256",
        headers={"alg": "HS256", "typ": "JWT"},
    )


def error_for_code(code: int, message: str, *, status: int | None = None, retry_after: float | None = None) -> ProviderError:
    """Map a Kling business code to a ProviderError."""
    text = f"Kling: {message or 'error'} (code {code})"
    if 1000 <= code <= 1004:
        return ProviderError(text, permanent=True, code="unauthorized", status_code=status)
    if 1100 <= code <= 1102:
        return ProviderError(text, permanent=True, code="insufficient_credit", status_code=status)
    if code in (1103, 1304):
        return ProviderError(text, permanent=True, code="forbidden", status_code=status)
    if 1200 <= code <= 1299:
        return ProviderError(text, permanent=True, code="invalid_input", status_code=status)
    if code in (1300, 1301):
        return ProviderError(text, permanent=True, code="moderation", status_code=status)
    if code in (1302, 1303):
        return ProviderError(text, retry_after=retry_after, code="rate_limited", status_code=status)
    return ProviderError(text, retry_after=retry_after, code="server_error", status_code=status)


def _classify(response: httpx.Response) -> ProviderError | None:
    try:
        body = response.json()
    except ValueError:
        return None  # not Kling's JSON (a proxy page): HttpClient's status rules apply
    if not isinstance(body, dict) or "code" not in body:
        return None
    try:
        code = int(body["code"])
    except (TypeError, ValueError):
        return None
    if code == 0 and response.status_code < 400:
        return None
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    return error_for_code(code, str(body.get("message", "")), status=response.status_code, retry_after=retry_after)


def failure_error(message: str) -> ProviderError:
    text = f"Kling: {message or 'the task failed'}"
    if any(hint in message.lower() for hint in MODERATION_HINTS):
        return ProviderError(text, permanent=True, code="moderation")
    return ProviderError(text, code="vendor_failed")


class KlingProvider(VideoProvider):
    identifier: ClassVar[str] = "kling"
    verbose_name: ClassVar[str] = "Kling AI"
    capabilities: ClassVar[frozenset[str]] = frozenset({TEXT_TO_VIDEO, IMAGE_TO_VIDEO, FIRST_LAST_FRAME, AUDIO, WEBHOOKS})
    settings_keys: ClassVar[tuple[str, ...]] = ("KLING_ACCESS_KEY", "KLING_SECRET_KEY")
    credentials_check = ("GET", "/v1/videos/text2video?pageNum=1&pageSize=1")

    def api_client(self) -> HttpClient:
        return self._client()

    def _client(self) -> HttpClient:
        access, secret = str(self.setting("KLING_ACCESS_KEY", "") or ""), str(self.setting("KLING_SECRET_KEY", "") or "")
        if not access or not secret:
            raise ProviderError("Kling: KLING_ACCESS_KEY and KLING_SECRET_KEY must be set.", permanent=True, code="unauthorized")
        token = make_token(access, secret)
        return HttpClient(
            base_url=str(self.setting("KLING_BASE_URL", "") or DEFAULT_BASE_URL).rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            secrets=(token, secret, access),
            vendor="Kling",
            sleep=self.config.get("HTTP_SLEEP", time.sleep),
        )

    def validate(self, request: VideoRequest) -> ModelSpec:
        spec = super().validate(request)
        if len(request.prompt) > 2500 or len(request.negative_prompt) > 2500:
            raise ProviderError("Kling prompts are limited to 2500 characters.", permanent=True, code="invalid_input")
        if request.last_frame_path and request.resolution != "1080p":
            raise ProviderError("Kling takes an end frame in pro mode (1080p) only.", permanent=True, code="unsupported")
        return spec

    @staticmethod
    def _image(path: str | None, url: str | None) -> str:
        if path:
            data = Path(path).read_bytes()
            if len(data) > IMAGE_LIMIT:
                raise ProviderError("Kling images must be under 10 MB.", permanent=True, code="invalid_input")
            return base64.b64encode(data).decode()  # raw base64: Kling refuses a data: prefix
        if url:
            return url
        raise ProviderError("Kling: no image given for image-to-video.", permanent=True, code="invalid_input")

    def submit(self, request: VideoRequest) -> SubmitResult:
        spec = self.validate(request)
        body: dict[str, Any] = {
            "model_name": spec.name,
            "prompt": request.prompt,
            "mode": "pro" if request.resolution == "1080p" else "std",
            "duration": str(int(request.duration)),
            "aspect_ratio": request.aspect_ratio,
        }
        if request.negative_prompt:
            body["negative_prompt"] = request.negative_prompt
        if AUDIO in spec.capabilities:
            body["sound"] = "on" if request.audio else "off"
        if request.webhook_url:
            body["callback_url"] = request.webhook_url
        kind = "text2video"
        if request.mode == IMAGE_TO_VIDEO:
            kind = "image2video"
            body["image"] = self._image(request.image_path, request.image_url)
            if request.last_frame_path:
                body["image_tail"] = self._image(request.last_frame_path, None)
        with self._client() as client:
            data = client.post(f"/v1/videos/{kind}", json=body, classify=_classify).json().get("data") or {}
        task_id = str(data.get("task_id") or "")
        if not task_id:
            raise ProviderError(f"Kling: no task id in {data!r:.200}", code="bad_response")
        return SubmitResult(external_id=f"{kind}/{task_id}", poll_after=spec.poll_interval, raw=data)

    def poll(self, external_id: str) -> PollResult:
        kind, _, task_id = external_id.partition("/")
        if kind not in KINDS or not task_id or "/" in task_id:
            raise ProviderError(f"Kling: {external_id!r} is not a task reference.", permanent=True, code="invalid_input")
        with self._client() as client:
            data = client.get(f"/v1/videos/{kind}/{task_id}", classify=_classify).json().get("data") or {}
        status = str(data.get("task_status", ""))
        state = STATE_MAP.get(status)
        if state is None:
            raise ProviderError(f"Kling: unknown task status {status!r}", code="bad_response")
        result = PollResult(state=state, message=str(data.get("task_status_msg") or ""), raw=data)
        if state == SUCCEEDED:
            videos = (data.get("task_result") or {}).get("videos") or []
            result.result_urls = [str(v["url"]) for v in videos if v.get("url")]
            result.percent = 100
            if not result.result_urls:
                result.state = FAILED
                result.error = ProviderError("Kling: the task succeeded without a video.", code="empty_result")
        elif state == FAILED:
            result.error = failure_error(result.message)
        else:
            result.poll_after = self.model().poll_interval
        return result
