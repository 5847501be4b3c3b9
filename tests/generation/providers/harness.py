"""The contract harness: one `ProviderCase` per remote video provider, run by test_contract.py.

A case module (tests/generation/providers/cases/<name>.py) exposes `CASE` (or `CASES`, a list, when
one adapter has several surfaces) built from a subclass of `ProviderCase`:

    class AcmeCase(ProviderCase):
        identifier = "acme"                       # registry identifier
        provider_path = "generation.providers.acme.AcmeProvider"
        fake_class = AcmeFake                     # a tests.fakes.video_common.FakeVideoServer subclass
        t2v_model = "acme-1"                      # None when the provider has no text-to-video model
        i2v_model = "acme-1"
        reports_progress = True                   # vendor polls carry a percentage
        def config(self, fake): return {"ACME_API_KEY": "k", "ACME_BASE_URL": fake.url}
        def assert_image_sent(self, fake, request): ...   # the image went the vendor's way

    CASE = AcmeCase()

What adapters must honour for the harness (read from `config`):
    HTTP_SLEEP                   callable(seconds) given to HttpClient(sleep=...): tests record delays
    SAFE_FETCH_ALLOW_LOOPBACK    True: the fakes serve outputs from 127.0.0.1

Webhook refusal contract (signed vendors only): verify_webhook raises
ProviderError(permanent=True, code="invalid_signature") for a bad signature or a stale timestamp,
and returns a WebhookEvent for a valid one. Unsigned vendors return None (the engine then polls).
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from generation.providers.base import FINAL_STATES, PollResult, SubmitResult, VideoProvider, VideoRequest
from mediastudio.lib.providers import ProviderError
from tests.fakes.video_common import FakeVideoServer


@dataclass
class SleepRecorder:
    """Stands in for time.sleep in HttpClient: records the delays instead of sleeping."""

    delays: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def make_png(dest: Path, *, width: int = 64, height: int = 36) -> Path:
    """A small real PNG made with ffmpeg (a test pattern frame)."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise RuntimeError("ffmpeg is required to make the reference image")
    args = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
            "-i", f"testsrc2=size={width}x{height}:rate=1", "-frames:v", "1", str(dest)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=30, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ffmpeg could not make a PNG: {done.stderr[:300]}")
    return dest


class ProviderCase:
    """How to drive one adapter against its fake. Override what differs; defaults fit most vendors."""

    identifier: ClassVar[str] = ""
    provider_path: ClassVar[str] = ""  # dotted path of the adapter class
    fake_class: ClassVar[type[FakeVideoServer]] = FakeVideoServer
    label: ClassVar[str] = ""  # test id; defaults to identifier
    t2v_model: ClassVar[str | None] = None
    i2v_model: ClassVar[str | None] = None
    reports_progress: ClassVar[bool] = False
    signs_webhooks: ClassVar[bool] = False
    max_polls: ClassVar[int] = 12
    rate_limit_retry_after: ClassVar[float] = 7.0

    # -- building

    @property
    def id(self) -> str:
        return self.label or self.identifier

    def start_fake(self, port: int = 0) -> FakeVideoServer:
        return self.fake_class().start(port)

    def config(self, fake: FakeVideoServer) -> dict[str, Any]:
        raise NotImplementedError

    def provider(self, fake: FakeVideoServer, *, sleep: SleepRecorder | None = None, **overrides: Any) -> VideoProvider:
        module_name, _, class_name = self.provider_path.rpartition(".")
        cls = getattr(importlib.import_module(module_name), class_name)
        config = {"SAFE_FETCH_ALLOW_LOOPBACK": True, "HTTP_SLEEP": sleep or SleepRecorder(), **self.config(fake), **overrides}
        return cls(config=config)

    def t2v_request(self, **overrides: Any) -> VideoRequest:
        values: dict[str, Any] = {"prompt": "a red bicycle leaning on a sunny wall", "model": self.t2v_model or "",
                                  "duration": 5.0, "aspect_ratio": "16:9", "resolution": "720p"}
        values.update(overrides)
        return VideoRequest(**values)

    def i2v_request(self, image_path: Path, fake: FakeVideoServer, **overrides: Any) -> VideoRequest:
        values: dict[str, Any] = {"prompt": "slow push-in on the product", "model": self.i2v_model or "",
                                  "image_path": str(image_path), "duration": 5.0, "aspect_ratio": "16:9",
                                  "resolution": "720p"}
        values.update(overrides)
        return VideoRequest(**values)

    def invalid_request(self) -> VideoRequest:
        """A request the model refuses before any call (default: a 37 s clip)."""
        return self.t2v_request(model=self.t2v_model or self.i2v_model or "", duration=37.0)

    def assert_image_sent(self, fake: FakeVideoServer, request: VideoRequest) -> None:
        """Assert the i2v image reached the fake the vendor's way (upload, data URI, base64, URL)."""
        raise NotImplementedError

    # -- failures (defaults: inject HTTP answers on every API path; switches for task outcomes)

    def inject_unauthorized(self, fake: FakeVideoServer) -> None:
        fake.inject(401, times=100, message="invalid API key")

    def inject_rate_limit(self, fake: FakeVideoServer, *, times: int = 100) -> None:
        fake.inject(429, times=times, headers={"Retry-After": f"{self.rate_limit_retry_after:g}"}, message="slow down")

    def inject_server_error(self, fake: FakeVideoServer, *, times: int = 100) -> None:
        fake.inject(500, times=times, message="internal error")

    def set_moderation(self, fake: FakeVideoServer) -> None:
        fake.switches.moderation = True

    def set_never_finish(self, fake: FakeVideoServer) -> None:
        fake.switches.never_finish = True

    def set_expired_outputs(self, fake: FakeVideoServer) -> None:
        fake.switches.expire_outputs = True

    # -- webhooks (signed vendors override)

    def webhook_delivery(
        self, provider: VideoProvider, fake: FakeVideoServer, external_id: str, *, valid: bool = True, age_seconds: float = 0
    ) -> tuple[dict[str, str], bytes]:
        """Headers and body of a webhook for a finished job: signed right (valid) or wrong, sent `age_seconds` ago."""
        raise NotImplementedError

    def unsigned_webhook(self, fake: FakeVideoServer, external_id: str) -> tuple[dict[str, str], bytes]:
        """A callback as an unsigned vendor would send it (default: a JSON body naming the job)."""
        import json

        return {"content-type": "application/json"}, json.dumps({"id": external_id, "task_id": external_id}).encode()

    # -- cost

    def expected_cost(self, provider: VideoProvider, request: VideoRequest) -> Decimal:
        spec = provider.model(request.model)
        return spec.price.cost(duration=request.duration, resolution=request.resolution)


def run_to_end(provider: VideoProvider, submitted: SubmitResult, *, max_polls: int = 12) -> tuple[PollResult, list[PollResult]]:
    """Poll until a final state (or max_polls); returns the last result and all of them."""
    seen: list[PollResult] = []
    for _ in range(max_polls):
        result = provider.poll(submitted.external_id)
        seen.append(result)
        if result.state in FINAL_STATES:
            break
    return seen[-1], seen


def outcome_error(provider: VideoProvider, request: VideoRequest, *, max_polls: int = 12) -> ProviderError:
    """The error a job ends with, whether submit refuses it or a poll reports it."""
    try:
        submitted = provider.submit(request)
    except ProviderError as exc:
        return exc
    final, _ = run_to_end(provider, submitted, max_polls=max_polls)
    assert final.error is not None, f"expected a failure, got {final.state}"
    return final.error
