"""Runway developer API (api.dev.runwayml.com): Gen-4.5, Gen-4 Turbo and the Veo models Runway serves.

Protocol (reference: runwayml/sdk-python and docs.dev.runwayml.com):
- `POST /v1/image_to_video` / `POST /v1/text_to_video` -> `{"id"}`; `GET /v1/tasks/{id}`;
  `DELETE /v1/tasks/{id}` cancels a pending/throttled/running task (deletes a finished one).
- Headers: `Authorization: Bearer <key>`, `X-Runway-Version: 2024-11-06`. Bodies are camelCase.
- `ratio` is a pixel string ("1280:720"), derived here from aspect ratio and resolution.
- Local images go through an ephemeral upload (`POST /v1/uploads` then a multipart POST of the file
  to the presigned `uploadUrl`, never with our key), and the `runwayUri` is passed as the image.
  With RUNWAY_USE_UPLOADS=False a data URI (<= 5 MB) is sent instead; an https `image_url` is used as is.
- States: PENDING, THROTTLED (over the concurrency limit: still queued) -> RUNNING (progress 0-1)
  -> SUCCEEDED (output: [signed URLs, 24-48 h]) | FAILED (failure, failureCode) | CANCELLED.
- failureCode: SAFETY.* is moderation (permanent), ASSET.INVALID bad input (permanent),
  INTERNAL* (including INTERNAL.BAD_OUTPUT.*) retryable.
- No webhooks and no task listing exist: the engine polls (every ~6 s, as the SDK does).

Unconfirmed: the error body shape of 4xx answers; the exact `runwayUri` format; whether the server
still accepts the retired gen3a_turbo (we refuse it before calling); the credit-to-dollar rate.
"""

from __future__ import annotations

import base64
import mimetypes
import time
from pathlib import Path
from typing import Any, ClassVar

import httpx

from generation.providers.base import (
    AUDIO,
    CANCEL,
    CANCELED,
    FAILED,
    FIRST_LAST_FRAME,
    IMAGE_TO_VIDEO,
    QUEUED,
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

API_VERSION = "2024-11-06"
DEFAULT_BASE_URL = "https://api.dev.runwayml.com"
DATA_URI_LIMIT = 5 * 1024 * 1024
IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp"}

# (aspect ratio, resolution) -> Runway pixel ratio, per model family.
GEN4_RATIOS = {
    ("16:9", "720p"): "1280:720", ("9:16", "720p"): "720:1280", ("4:3", "720p"): "1104:832",
    ("3:4", "720p"): "832:1104", ("1:1", "720p"): "960:960", ("21:9", "720p"): "1584:672",
}
GEN45_T2V_RATIOS = {("16:9", "720p"): "1280:720", ("9:16", "720p"): "720:1280"}
VEO_RATIOS = {
    ("16:9", "720p"): "1280:720", ("9:16", "720p"): "720:1280",
    ("16:9", "1080p"): "1920:1080", ("9:16", "1080p"): "1080:1920",
}

STATE_MAP = {
    "PENDING": QUEUED, "THROTTLED": QUEUED, "RUNNING": RUNNING,
    "SUCCEEDED": SUCCEEDED, "FAILED": FAILED, "CANCELLED": CANCELED,
}


def failure_error(failure: str, failure_code: str) -> ProviderError:
    """Map a FAILED task's failure/failureCode to a ProviderError."""
    code = (failure_code or "").upper()
    message = f"Runway: {failure or 'the task failed'}" + (f" ({failure_code})" if failure_code else "")
    if code.startswith("SAFETY"):
        return ProviderError(message, permanent=True, code="moderation")
    if code.startswith("ASSET"):
        return ProviderError(message, permanent=True, code="invalid_input")
    if code.startswith("INTERNAL.BAD_OUTPUT"):
        return ProviderError(message, code="bad_output")
    return ProviderError(message, code="vendor_failed")


class RunwayProvider(VideoProvider):
    identifier: ClassVar[str] = "runway"
    verbose_name: ClassVar[str] = "Runway"
    capabilities: ClassVar[frozenset[str]] = frozenset({TEXT_TO_VIDEO, IMAGE_TO_VIDEO, FIRST_LAST_FRAME, AUDIO, CANCEL})
    settings_keys: ClassVar[tuple[str, ...]] = ("RUNWAY_API_KEY",)
    credentials_check = ("GET", "/v1/organization")

    def api_client(self) -> HttpClient:
        return self._client()

    # -- plumbing

    @property
    def _key(self) -> str:
        return str(self.setting("RUNWAY_API_KEY", "") or "")

    def _client(self) -> HttpClient:
        key = self._key
        if not key:
            raise ProviderError("Runway: RUNWAY_API_KEY is not set.", permanent=True, code="unauthorized")
        return HttpClient(
            base_url=str(self.setting("RUNWAY_BASE_URL", "") or DEFAULT_BASE_URL).rstrip("/"),
            headers={"Authorization": f"Bearer {key}", "X-Runway-Version": API_VERSION},
            secrets=(key,),
            vendor="Runway",
            sleep=self.config.get("HTTP_SLEEP", time.sleep),
        )

    def _poll_interval(self) -> float:
        return self.model().poll_interval

    # -- contract

    def validate(self, request: VideoRequest) -> ModelSpec:
        spec = super().validate(request)
        self._ratio(spec, request)
        if spec.name == "gen4.5" and not request.prompt.strip():
            raise ProviderError("Runway gen4.5 needs a prompt.", permanent=True, code="invalid_input")
        if len(request.prompt.encode("utf-16-le")) // 2 > 1000:
            raise ProviderError("Runway prompts are limited to 1000 characters.", permanent=True, code="invalid_input")
        return spec

    def _ratio(self, spec: ModelSpec, request: VideoRequest) -> str:
        if spec.name.startswith("veo"):
            table = VEO_RATIOS
        elif spec.name == "gen4.5" and request.mode == TEXT_TO_VIDEO:
            table = GEN45_T2V_RATIOS
        else:
            table = GEN4_RATIOS
        ratio = table.get((request.aspect_ratio, request.resolution))
        if ratio is None:
            raise ProviderError(
                f"Runway {spec.name} ({request.mode.replace('_', '-')}) cannot make {request.aspect_ratio} at {request.resolution}.",
                permanent=True, code="unsupported",
            )
        return ratio

    def submit(self, request: VideoRequest) -> SubmitResult:
        spec = self.validate(request)
        body: dict[str, Any] = {"model": spec.name, "ratio": self._ratio(spec, request), "duration": int(request.duration)}
        if request.prompt:
            body["promptText"] = request.prompt
        if spec.name.startswith("veo"):
            if request.negative_prompt:
                body["negativePrompt"] = request.negative_prompt
            if spec.name != "veo3":
                body["audio"] = bool(request.audio)
        elif request.seed is not None:
            body["seed"] = int(request.seed)
        with self._client() as client:
            if request.mode == IMAGE_TO_VIDEO:
                first = self._image_uri(client, request.image_path, request.image_url)
                if request.last_frame_path:
                    last = self._image_uri(client, request.last_frame_path, None)
                    body["promptImage"] = [{"uri": first, "position": "first"}, {"uri": last, "position": "last"}]
                else:
                    body["promptImage"] = first
                path = "/v1/image_to_video"
            else:
                path = "/v1/text_to_video"
            data = client.post(path, json=body).json()
        task_id = str(data.get("id") or "")
        if not task_id:
            raise ProviderError(f"Runway: no task id in {data!r:.200}", code="bad_response")
        return SubmitResult(external_id=task_id, poll_after=spec.poll_interval, raw=data)

    def _image_uri(self, client: HttpClient, path: str | None, url: str | None) -> str:
        if url and url.startswith("https://") and not path:
            return url
        if not path:
            raise ProviderError("Runway: no image given for image-to-video.", permanent=True, code="invalid_input")
        file = Path(path)
        mime = mimetypes.guess_type(file.name)[0] or ""
        if mime not in IMAGE_TYPES:
            raise ProviderError(f"Runway takes JPEG, PNG or WebP images, not {mime or file.suffix}.", permanent=True, code="invalid_input")
        if not self.setting("RUNWAY_USE_UPLOADS", True):
            data = file.read_bytes()
            if len(data) > DATA_URI_LIMIT:
                raise ProviderError("Runway: images sent inline must be under 5 MB.", permanent=True, code="invalid_input")
            return f"data:{mime};base64,{base64.b64encode(data).decode()}"
        ticket = client.post("/v1/uploads", json={"filename": file.name, "type": "ephemeral"}).json()
        try:
            upload_url, fields, uri = ticket["uploadUrl"], ticket.get("fields") or {}, ticket["runwayUri"]
        except (KeyError, TypeError):
            raise ProviderError(f"Runway: unexpected upload answer {ticket!r:.200}", code="bad_response") from None
        # The presigned storage URL must never see our API key: a bare client, same retry rules.
        with HttpClient(vendor="Runway upload", sleep=self.config.get("HTTP_SLEEP", time.sleep),
                        timeout=httpx.Timeout(120.0, connect=10.0)) as storage:
            with file.open("rb") as handle:
                storage.post(upload_url, data={str(k): str(v) for k, v in fields.items()},
                             files={"file": (file.name, handle, mime)})
        return str(uri)

    def poll(self, external_id: str) -> PollResult:
        with self._client() as client:
            data = client.get(f"/v1/tasks/{external_id}").json()
        status = str(data.get("status", "")).upper()
        state = STATE_MAP.get(status)
        if state is None:
            raise ProviderError(f"Runway: unknown task status {status!r}", code="bad_response")
        result = PollResult(state=state, raw=data)
        if status == "RUNNING" and data.get("progress") is not None:
            result.percent = max(0, min(99, int(float(data["progress"]) * 100)))
        if status == "THROTTLED":
            result.message = "waiting for a Runway concurrency slot"
        if state == SUCCEEDED:
            result.percent = 100
            result.result_urls = [str(u) for u in data.get("output") or []]
            if not result.result_urls:
                result.state = FAILED
                result.error = ProviderError("Runway: the task succeeded without output.", code="empty_result")
        elif state == FAILED:
            result.error = failure_error(str(data.get("failure") or ""), str(data.get("failureCode") or ""))
            result.message = result.error.message
        if not result.is_final:
            result.poll_after = self._poll_interval()
        return result

    def cancel(self, external_id: str) -> None:
        with self._client() as client:
            client.delete(f"/v1/tasks/{external_id}")
