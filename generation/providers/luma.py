"""Luma AI video: the current Luma Agents API (ray-3.2) and the legacy Dream Machine API (ray-2).

One adapter, two surfaces, chosen by MODEL FAMILY (the catalogue's model name), each with its own key:
    ray-3.2                -> Luma Agents API, key LUMA_API_KEY, base LUMA_BASE_URL
                              (default https://agents.lumalabs.ai/v1)
    ray-2, ray-flash-2     -> Dream Machine API, key LUMA_DREAM_MACHINE_API_KEY, base
                              LUMA_DREAM_MACHINE_BASE_URL (default https://api.lumalabs.ai/dream-machine/v1)
The provider is enabled when either key is set; with no model named, the default is ray-3.2 when
LUMA_API_KEY is set, else ray-2. Asking for a model whose surface has no key is refused before any
call. Dream Machine external ids carry a "dm:" prefix so a poll knows which surface to ask.

Agents API (reference: lumalabs/luma-agents-python): `POST /generations` with `{"type": "video",
"model", "prompt", "aspect_ratio", "video": {"duration": "5s"|"10s", "resolution", "start_frame",
"end_frame", "loop"}}`; a frame is `{"data": <base64>, "media_type"}` (local file) or `{"url"}`.
`GET /generations/{id}`: state queued | processing | completed | failed; `failure_code`
(content_moderated = moderation; budget_exhausted = insufficient credit; image_too_large,
unsupported_format, corrupt_input, invalid_request = bad input; rate_limited, generation_failed,
output_not_found = retryable); `output[].url` presigned for 1 hour. No cancel, list or callback.

Dream Machine API (reference: lumalabs/lumaai-python): `POST /generations/video` with `model`,
`prompt`, `aspect_ratio`, `duration` "5s"|"9s", `resolution`, `loop`, `keyframes` {frame0 start,
frame1 end} of `{"type": "image", "url"}`: it needs a public image URL (the engine's signed
`request.image_url`); a local file alone is refused. `GET /generations/{id}`: state queued |
dreaming | completed | failed (`failure_reason`), video at `assets.video`. `callback_url` is sent
when offered; callbacks are unsigned, so verify_webhook returns None and the engine polls.
`DELETE /generations/{id}` deletes rather than cancels, so cancel is not offered.

Unconfirmed: error body shapes of both APIs; Dream Machine asset URL expiry; Luma's own prices
(catalogue uses reseller figures); ray-flash-2 price (ray-2's used as an upper bound).
"""

from __future__ import annotations

import base64
import mimetypes
import time
from pathlib import Path
from typing import Any, ClassVar

from django.conf import settings

from generation.providers.base import (
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
from mediastudio.lib.http import HttpClient
from mediastudio.lib.providers import ProviderError

AGENTS_BASE_URL = "https://agents.lumalabs.ai/v1"
DREAM_MACHINE_BASE_URL = "https://api.lumalabs.ai/dream-machine/v1"
LEGACY_MODELS = frozenset({"ray-2", "ray-flash-2", "ray-1-6"})
LEGACY_PREFIX = "dm:"
IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp"}
INLINE_LIMIT = 10 * 1024 * 1024

AGENTS_STATES = {"queued": QUEUED, "processing": RUNNING, "completed": SUCCEEDED, "failed": FAILED}
LEGACY_STATES = {"queued": QUEUED, "dreaming": RUNNING, "completed": SUCCEEDED, "failed": FAILED}
FAILURE_CODES = {
    "content_moderated": (True, "moderation"),
    "budget_exhausted": (True, "insufficient_credit"),
    "image_too_large": (True, "invalid_input"),
    "unsupported_format": (True, "invalid_input"),
    "corrupt_input": (True, "invalid_input"),
    "invalid_request": (True, "invalid_input"),
    "rate_limited": (False, "rate_limited"),
    "generation_failed": (False, "vendor_failed"),
    "output_not_found": (False, "vendor_failed"),
}
MODERATION_HINTS = ("moderat", "prohibited", "blocked", "content policy", "nsfw", "unsafe")


def agents_failure(code: str, reason: str) -> ProviderError:
    permanent, mapped = FAILURE_CODES.get(code, (False, "vendor_failed"))
    return ProviderError(f"Luma: {reason or code or 'the generation failed'}", permanent=permanent, code=mapped)


def legacy_failure(reason: str) -> ProviderError:
    if any(hint in reason.lower() for hint in MODERATION_HINTS):
        return ProviderError(f"Luma: {reason}", permanent=True, code="moderation")
    return ProviderError(f"Luma: {reason or 'the generation failed'}", code="vendor_failed")


class LumaProvider(VideoProvider):
    identifier: ClassVar[str] = "luma"
    verbose_name: ClassVar[str] = "Luma AI"
    capabilities: ClassVar[frozenset[str]] = frozenset({TEXT_TO_VIDEO, IMAGE_TO_VIDEO, FIRST_LAST_FRAME, WEBHOOKS})
    settings_keys: ClassVar[tuple[str, ...]] = ("LUMA_API_KEY",)
    legacy_settings_keys: ClassVar[tuple[str, ...]] = ("LUMA_DREAM_MACHINE_API_KEY",)

    def check_credentials(self) -> str:
        legacy = not self._key(False)
        with self._client(legacy) as http:
            response = http.request("GET", "/generations?limit=1", retry=False)
        return f"GET /generations ({'Dream Machine' if legacy else 'Agents'} API): HTTP {response.status_code}, key accepted"

    @classmethod
    def is_enabled(cls) -> bool:
        # Either surface's key enables the provider.
        if getattr(settings, "LUMA_ENABLED", None) is False:
            return False
        return any(bool(getattr(settings, key, "")) for key in cls.settings_keys + cls.legacy_settings_keys)

    # -- surfaces

    def _key(self, legacy: bool) -> str:
        return str(self.setting("LUMA_DREAM_MACHINE_API_KEY" if legacy else "LUMA_API_KEY", "") or "")

    def _client(self, legacy: bool) -> HttpClient:
        key = self._key(legacy)
        if not key:
            name = "LUMA_DREAM_MACHINE_API_KEY" if legacy else "LUMA_API_KEY"
            raise ProviderError(f"Luma: {name} is not set.", permanent=True, code="unauthorized")
        if legacy:
            base = self.setting("LUMA_DREAM_MACHINE_BASE_URL", "") or DREAM_MACHINE_BASE_URL
        else:
            base = self.setting("LUMA_BASE_URL", "") or AGENTS_BASE_URL
        return HttpClient(
            base_url=str(base).rstrip("/"),
            headers={"Authorization": f"Bearer {key}"},
            secrets=(key,),
            vendor="Luma Dream Machine" if legacy else "Luma",
            sleep=self.config.get("HTTP_SLEEP", time.sleep),
        )

    def model(self, name: str = "") -> ModelSpec:
        if not name:
            name = "ray-3.2" if self._key(False) or not self._key(True) else "ray-2"
        return super().model(name)

    def validate(self, request: VideoRequest) -> ModelSpec:
        spec = super().validate(request)
        legacy = spec.name in LEGACY_MODELS
        if not self._key(legacy):
            name = "LUMA_DREAM_MACHINE_API_KEY" if legacy else "LUMA_API_KEY"
            raise ProviderError(f"Luma model '{spec.name}' needs {name}.", permanent=True, code="unauthorized")
        if legacy and request.mode == IMAGE_TO_VIDEO and not request.image_url:
            raise ProviderError("Luma Dream Machine needs a public image URL for image-to-video.", permanent=True,
                                code="image_url_required")
        if legacy and request.last_frame_path:
            raise ProviderError("Luma Dream Machine takes an end frame only by URL; send it through ray-3.2.",
                                permanent=True, code="unsupported")
        if not legacy and request.duration == 10 and request.extra.get("loop"):
            raise ProviderError("Luma does not loop 10 s clips.", permanent=True, code="unsupported")
        return spec

    # -- submit

    @staticmethod
    def _inline(path: str) -> dict[str, str]:
        file = Path(path)
        mime = mimetypes.guess_type(file.name)[0] or ""
        if mime not in IMAGE_TYPES:
            raise ProviderError(f"Luma takes JPEG, PNG or WebP images, not {mime or file.suffix}.", permanent=True, code="invalid_input")
        data = file.read_bytes()
        if len(data) > INLINE_LIMIT:
            raise ProviderError("Luma: the image is too large to send inline.", permanent=True, code="invalid_input")
        return {"data": base64.b64encode(data).decode(), "media_type": mime}

    def submit(self, request: VideoRequest) -> SubmitResult:
        spec = self.validate(request)
        legacy = spec.name in LEGACY_MODELS
        duration = f"{int(request.duration)}s"
        if legacy:
            path = "/generations/video"
            body: dict[str, Any] = {"model": spec.name, "prompt": request.prompt, "aspect_ratio": request.aspect_ratio,
                                    "duration": duration, "resolution": request.resolution,
                                    "loop": bool(request.extra.get("loop", False))}
            if request.mode == IMAGE_TO_VIDEO:
                body["keyframes"] = {"frame0": {"type": "image", "url": request.image_url}}
            if request.webhook_url:
                body["callback_url"] = request.webhook_url
        else:
            path = "/generations"
            video: dict[str, Any] = {"duration": duration, "resolution": request.resolution,
                                     "loop": bool(request.extra.get("loop", False))}
            if request.image_path:
                video["start_frame"] = self._inline(request.image_path)
            elif request.image_url:
                video["start_frame"] = {"url": request.image_url}
            if request.last_frame_path:
                video["end_frame"] = self._inline(request.last_frame_path)
            body = {"type": "video", "model": spec.name, "prompt": request.prompt,
                    "aspect_ratio": request.aspect_ratio, "video": video}
            if request.extra.get("end_user_id"):
                body["user_id"] = str(request.extra["end_user_id"])  # opaque id for Luma's trust and safety
        with self._client(legacy) as client:
            data = client.post(path, json=body).json()
        gen_id = str(data.get("id") or "")
        if not gen_id:
            raise ProviderError(f"Luma: no generation id in {data!r:.200}", code="bad_response")
        return SubmitResult(external_id=(LEGACY_PREFIX + gen_id) if legacy else gen_id,
                            poll_after=spec.poll_interval, raw=data)

    # -- poll

    def poll(self, external_id: str) -> PollResult:
        legacy = external_id.startswith(LEGACY_PREFIX)
        gen_id = external_id[len(LEGACY_PREFIX):] if legacy else external_id
        if not gen_id or "/" in gen_id:
            raise ProviderError(f"Luma: {external_id!r} is not a generation id.", permanent=True, code="invalid_input")
        with self._client(legacy) as client:
            data = client.get(f"/generations/{gen_id}").json()
        status = str(data.get("state", ""))
        state = (LEGACY_STATES if legacy else AGENTS_STATES).get(status)
        if state is None:
            raise ProviderError(f"Luma: unknown state {status!r}", code="bad_response")
        result = PollResult(state=state, raw=data)
        if state == SUCCEEDED:
            if legacy:
                urls = [str((data.get("assets") or {}).get("video") or "")]
            else:
                urls = [str(o.get("url")) for o in data.get("output") or [] if o.get("type", "video") == "video" and o.get("url")]
            result.result_urls = [u for u in urls if u]
            result.percent = 100
            if not result.result_urls:
                result.state = FAILED
                result.error = ProviderError("Luma: the generation completed without a video.", code="empty_result")
        elif state == FAILED:
            if legacy:
                result.error = legacy_failure(str(data.get("failure_reason") or ""))
            else:
                result.error = agents_failure(str(data.get("failure_code") or ""), str(data.get("failure_reason") or ""))
            result.message = result.error.message
        else:
            model = str(data.get("model") or "")
            try:
                result.poll_after = self.model(model).poll_interval
            except ProviderError:
                result.poll_after = 5.0
        return result
