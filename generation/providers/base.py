"""The video-provider contract: what the engine asks of every adapter.

An adapter declares its models (capabilities, prices, lifecycle) through the catalogue
(`generation/catalog.yaml`, a data file: retiring a model is a data change), and implements:

    validate(request)        refuse what the model cannot do, before any call (ProviderError permanent)
    estimate_cost(request)   worst-case cost in USD for the request, before submitting
    submit(request)          -> SubmitResult(external_id, poll_after): returns at once, never waits for the render
    poll(external_id)        -> PollResult(state, percent, result_urls, error, ...)
    cancel(external_id)      best effort; raises ProviderError when the vendor refuses
    download(result, dest)   copy the finished video to a local path (vendor auth where needed)
    verify_webhook(headers, body) -> WebhookEvent | None (None: unsigned or unknown; the engine then polls)

Every failure is a `ProviderError(message, permanent=...)`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Mapping

from mediastudio.lib.providers import BaseProvider, ProviderError

if TYPE_CHECKING:
    from mediastudio.lib.http import HttpClient

# Capabilities a video model (or provider) can declare.
TEXT_TO_VIDEO = "text_to_video"
IMAGE_TO_VIDEO = "image_to_video"
FIRST_LAST_FRAME = "first_last_frame"
REFERENCE_IMAGES = "reference_images"
AUDIO = "audio"
REMIX = "remix"
WEBHOOKS = "webhooks"
CANCEL = "cancel"
LIST_JOBS = "list_jobs"

# Engine states every vendor state maps to.
QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELED = "queued", "running", "succeeded", "failed", "canceled"
FINAL_STATES = frozenset({SUCCEEDED, FAILED, CANCELED})


@dataclass
class VideoRequest:
    """What the engine asks for, vendor-neutral. Image paths are local files already validated."""

    prompt: str
    model: str = ""
    negative_prompt: str = ""
    image_path: str | None = None  # first frame / image-to-video source
    last_frame_path: str | None = None
    reference_image_paths: list[str] = field(default_factory=list)
    duration: float = 5.0
    aspect_ratio: str = "16:9"
    resolution: str = "720p"
    seed: int | None = None
    audio: bool = False
    remix_of: str | None = None  # external id of a video to remix
    webhook_url: str | None = None
    image_url: str | None = None  # a signed public URL of image_path, when the engine can offer one
    extra: dict[str, Any] = field(default_factory=dict)  # strategy data (camera, lighting, palette, title)

    @property
    def mode(self) -> str:
        return IMAGE_TO_VIDEO if (self.image_path or self.image_url) else TEXT_TO_VIDEO


@dataclass(frozen=True)
class Lifecycle:
    status: str = "active"  # active | deprecated | retired
    sunset: dt.date | None = None  # deprecated: planned end; retired: the date it ended
    replacements: tuple[str, ...] = ()
    note: str = ""

    @property
    def is_retired(self) -> bool:
        return self.status == "retired"

    @property
    def is_deprecated(self) -> bool:
        return self.status == "deprecated"


@dataclass(frozen=True)
class Price:
    """Price of one model: `per_second` USD (by resolution key or '*'), or `per_video` USD flat."""

    per_second: Mapping[str, Decimal] = field(default_factory=dict)
    per_video: Decimal | None = None
    source: str = ""
    as_of: str = ""
    confirmed: bool = False

    def cost(self, *, duration: float, resolution: str) -> Decimal:
        if self.per_video is not None:
            return self.per_video
        rate = self.per_second.get(resolution, self.per_second.get("*"))
        if rate is None:
            rate = max(self.per_second.values(), default=Decimal("0"))
        return (rate * Decimal(str(duration))).quantize(Decimal("0.0001"))


@dataclass(frozen=True)
class ModelSpec:
    provider: str
    name: str
    label: str = ""
    capabilities: frozenset[str] = frozenset()
    durations: tuple[float, ...] = ()  # allowed discrete durations; empty with min/max for a range
    min_duration: float = 1.0
    max_duration: float = 10.0
    aspect_ratios: tuple[str, ...] = ("16:9", "9:16", "1:1")
    resolutions: tuple[str, ...] = ("720p",)
    max_reference_images: int = 0
    price: Price = field(default_factory=Price)
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    poll_interval: float = 5.0  # vendor-advised seconds between polls

    def supports(self, capability: str) -> bool:
        return capability in self.capabilities

    def check(self, request: VideoRequest) -> None:
        """Refuse, before any call, what this model cannot do."""
        if self.lifecycle.is_retired:
            repl = ", ".join(self.lifecycle.replacements) or "another model"
            when = f" on {self.lifecycle.sunset.isoformat()}" if self.lifecycle.sunset else ""
            raise ProviderError(
                f"Model '{self.name}' of {self.provider} was retired{when}. Use {repl} instead.",
                permanent=True,
                code="model_retired",
            )
        if request.mode not in self.capabilities:
            raise ProviderError(
                f"Model '{self.name}' does not support {request.mode.replace('_', '-')}.", permanent=True, code="unsupported"
            )
        if request.last_frame_path and FIRST_LAST_FRAME not in self.capabilities:
            raise ProviderError(f"Model '{self.name}' does not take a last frame.", permanent=True, code="unsupported")
        if len(request.reference_image_paths) > self.max_reference_images:
            raise ProviderError(
                f"Model '{self.name}' takes at most {self.max_reference_images} reference images "
                f"({len(request.reference_image_paths)} given).",
                permanent=True,
                code="unsupported",
            )
        if self.durations:
            if not any(abs(request.duration - d) < 1e-6 for d in self.durations):
                allowed = ", ".join(f"{d:g}" for d in self.durations)
                raise ProviderError(
                    f"Model '{self.name}' makes clips of {allowed} s, not {request.duration:g} s.", permanent=True, code="unsupported"
                )
        elif not (self.min_duration <= request.duration <= self.max_duration):
            raise ProviderError(
                f"Model '{self.name}' makes clips of {self.min_duration:g}-{self.max_duration:g} s, not {request.duration:g} s.",
                permanent=True,
                code="unsupported",
            )
        if request.aspect_ratio not in self.aspect_ratios:
            raise ProviderError(
                f"Model '{self.name}' supports aspect ratios {', '.join(self.aspect_ratios)}, not {request.aspect_ratio}.",
                permanent=True,
                code="unsupported",
            )
        if request.resolution not in self.resolutions:
            raise ProviderError(
                f"Model '{self.name}' supports {', '.join(self.resolutions)}, not {request.resolution}.",
                permanent=True,
                code="unsupported",
            )
        if request.remix_of and REMIX not in self.capabilities:
            raise ProviderError(f"Model '{self.name}' cannot remix.", permanent=True, code="unsupported")


@dataclass
class SubmitResult:
    external_id: str
    poll_after: float = 5.0  # seconds until the first poll is due
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class PollResult:
    state: str  # one of QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELED
    percent: int | None = None
    message: str = ""
    result_urls: list[str] = field(default_factory=list)
    error: ProviderError | None = None
    poll_after: float | None = None
    actual_cost: Decimal | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES


@dataclass
class WebhookEvent:
    external_id: str
    delivery_id: str
    result: PollResult


class VideoProvider(BaseProvider):
    """Base of every video adapter. Subclasses set identifier, verbose_name, capabilities,
    settings_keys and implement the operations below."""

    kind: ClassVar[str] = "video"

    def models(self) -> list[ModelSpec]:
        from generation.catalog import models_for

        return models_for(self.identifier)

    def model(self, name: str = "") -> ModelSpec:
        models = self.models()
        if not models:
            raise ProviderError(f"{self.verbose_name} has no models in the catalogue.", permanent=True, code="unsupported")
        if not name:
            active = [m for m in models if not m.lifecycle.is_retired]
            return (active or models)[0]
        for spec in models:
            if spec.name == name:
                return spec
        known = ", ".join(m.name for m in models)
        raise ProviderError(f"{self.verbose_name} has no model '{name}' (known: {known}).", permanent=True, code="unknown_model")

    def validate(self, request: VideoRequest) -> ModelSpec:
        spec = self.model(request.model)
        spec.check(request)
        return spec

    def estimate_cost(self, request: VideoRequest) -> Decimal:
        spec = self.model(request.model)
        return spec.price.cost(duration=request.duration, resolution=request.resolution)

    def submit(self, request: VideoRequest) -> SubmitResult:
        raise NotImplementedError

    def poll(self, external_id: str) -> PollResult:
        raise NotImplementedError

    def cancel(self, external_id: str) -> None:
        raise ProviderError(f"{self.verbose_name} cannot cancel a job.", permanent=True, code="unsupported")

    def download(self, result: PollResult, dest: Path) -> Path:
        """Copy the finished video to `dest`. Default: SSRF-safe fetch of the first result URL."""
        if not result.result_urls:
            raise ProviderError(f"{self.verbose_name} returned no video.", permanent=True, code="empty_result")
        return self.fetch_url(result.result_urls[0], dest)

    def fetch_url(self, url: str, dest: Path, *, headers: Mapping[str, str] | None = None) -> Path:
        """Fetch a vendor URL through the SSRF-safe fetcher; its refusals become ProviderErrors.
        A 403/404/410 on a result URL means the vendor's link expired."""
        from media_assets.safe_fetch import FetchError, UnsafeURL, fetch_to_file

        loopback = bool(self.setting("SAFE_FETCH_ALLOW_LOOPBACK", False))
        options: dict[str, Any] = {
            "max_bytes": int(self.setting("MEDIA_MAX_UPLOAD_BYTES", 2 * 1024**3)),
            "allowed_ports": range(1, 65536) if loopback else tuple(self.setting("SAFE_FETCH_ALLOWED_PORTS", (80, 443))),
            "allowed_networks": ["127.0.0.1/32"] if loopback else [],
        }
        if headers:
            options["headers"] = dict(headers)
        try:
            fetch_to_file(url, dest, **options)
        except UnsafeURL as exc:
            raise ProviderError(f"{self.verbose_name} result URL refused: {exc}", permanent=True, code="unsafe_url") from None
        except FetchError as exc:
            text = str(exc)
            expired = any(f"HTTP {code}" in text or f"status {code}" in text for code in (403, 404, 410))
            raise ProviderError(
                f"{self.verbose_name} result download failed: {text}",
                permanent=expired,
                code="output_expired" if expired else "download_failed",
            ) from None
        return dest

    def http_client(self, *, base_url: str, headers: Mapping[str, str], secrets: tuple[str, ...] = ()) -> "HttpClient":
        """The shared outbound client, with this adapter's retry sleep (tests inject HTTP_SLEEP)."""
        from mediastudio.lib.http import HttpClient

        options: dict[str, Any] = {"base_url": base_url, "headers": dict(headers), "secrets": secrets, "vendor": self.verbose_name}
        sleep = self.setting("HTTP_SLEEP", None)
        if sleep is not None:
            options["sleep"] = sleep
        return HttpClient(**options)

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent | None:
        return None

    #: (method, path) of one cheap authenticated call, used by `manage.py providers check NAME`.
    credentials_check: ClassVar[tuple[str, str] | None] = None

    def api_client(self) -> "HttpClient":
        """The adapter's configured client (base URL, auth headers)."""
        raise NotImplementedError

    def check_credentials(self) -> str:
        """Make one cheap authenticated call to the real API; returns a short description.
        Never run by the tests against real vendors (it needs a real key and the internet)."""
        if self.credentials_check is None:
            raise ProviderError(f"{self.verbose_name} has no cheap authenticated call to check a key with.", permanent=True, code="unsupported")
        method, path = self.credentials_check
        with self.api_client() as http:
            response = http.request(method, path, retry=False)
        return f"{method} {path}: HTTP {response.status_code}, key accepted"

    def list_jobs(self, *, limit: int = 20) -> list[dict[str, Any]]:
        raise ProviderError(f"{self.verbose_name} has no job listing.", permanent=True, code="unsupported")
