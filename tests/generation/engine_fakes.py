"""In-process video providers for engine tests, registered per test in the registry.

Each class keeps its jobs in a class-level dict (reset by `reset()`), so a test can script what
the "vendor" does: fail on submit (permanent or retryable), finish after N polls, never finish,
report via a signed webhook. Their output is a real 1 s MP4 (the vendor fakes in tests/fakes make
each request's own clip; these in-process ones need not).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Mapping

from generation.providers.base import (
    CANCEL,
    CANCELED,
    IMAGE_TO_VIDEO,
    RUNNING,
    SUCCEEDED,
    TEXT_TO_VIDEO,
    WEBHOOKS,
    ModelSpec,
    PollResult,
    Price,
    SubmitResult,
    VideoProvider,
    VideoRequest,
    WebhookEvent,
)
from mediastudio.lib.providers import ProviderError
from tests.fakes.video_common import sample_mp4

WEBHOOK_SECRET = b"engine-test-secret"


class ScriptedProvider(VideoProvider):
    identifier: ClassVar[str] = "fake_ok"
    verbose_name: ClassVar[str] = "Fake OK"
    capabilities: ClassVar[frozenset[str]] = frozenset({TEXT_TO_VIDEO, IMAGE_TO_VIDEO, CANCEL, WEBHOOKS})
    price: ClassVar[Decimal] = Decimal("1.00")
    polls_to_finish: ClassVar[int] = 2
    submit_errors: ClassVar[list[ProviderError]] = []  # raised by the next submits, in order
    never_finish: ClassVar[bool] = False
    jobs: ClassVar[dict[str, dict[str, Any]]] = {}
    submits: ClassVar[list[VideoRequest]] = []
    canceled: ClassVar[list[str]] = []
    downloads: ClassVar[int] = 0
    _ids = itertools.count(1)
    _lock = threading.Lock()

    @classmethod
    def reset(cls, **overrides: Any) -> None:
        cls.jobs, cls.submits, cls.canceled, cls.downloads = {}, [], [], 0
        cls.submit_errors = list(overrides.pop("submit_errors", []))
        for key, value in overrides.items():
            setattr(cls, key, value)

    def models(self) -> list[ModelSpec]:
        return [ModelSpec(provider=self.identifier, name=f"{self.identifier}-1", capabilities=self.capabilities,
                          min_duration=1, max_duration=20, aspect_ratios=("9:16", "16:9", "1:1"),
                          resolutions=("480p", "720p"), price=Price(per_video=self.price), poll_interval=2.0)]

    def submit(self, request: VideoRequest) -> SubmitResult:
        self.validate(request)
        cls = type(self)
        with cls._lock:
            cls.submits.append(request)
            if cls.submit_errors:
                raise cls.submit_errors.pop(0)
            external_id = f"{self.identifier}-{next(cls._ids)}"
            cls.jobs[external_id] = {"polls": 0, "canceled": False}
        return SubmitResult(external_id=external_id, poll_after=1)

    def poll(self, external_id: str) -> PollResult:
        cls = type(self)
        with cls._lock:
            job = cls.jobs[external_id]
            job["polls"] += 1
            if job["canceled"]:
                return PollResult(state=CANCELED)
            if cls.never_finish or job["polls"] < cls.polls_to_finish:
                return PollResult(state=RUNNING, percent=min(90, 30 * job["polls"]))
        return self.finished(external_id)

    def finished(self, external_id: str) -> PollResult:
        return PollResult(state=SUCCEEDED, percent=100, result_urls=[f"fake://{external_id}"], actual_cost=type(self).price)

    def cancel(self, external_id: str) -> None:
        cls = type(self)
        with cls._lock:
            cls.canceled.append(external_id)
            if external_id in cls.jobs:
                cls.jobs[external_id]["canceled"] = True

    def download(self, result: PollResult, dest: Path) -> Path:
        with type(self)._lock:
            type(self).downloads += 1
        dest.write_bytes(sample_mp4(vertical=True))
        return dest

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent | None:
        expected = hmac.new(WEBHOOK_SECRET, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(headers.get("x-signature", ""), expected):
            raise ProviderError("bad signature", permanent=True, code="invalid_signature")
        data = json.loads(body)
        return WebhookEvent(external_id=data["id"], delivery_id=data["delivery"], result=self.finished(data["id"]))


def signed(body: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    raw = json.dumps(body).encode()
    return {"x-signature": hmac.new(WEBHOOK_SECRET, raw, hashlib.sha256).hexdigest()}, raw


class BrokenProvider(ScriptedProvider):
    """Every submit fails permanently (say, the account's key was revoked)."""

    identifier: ClassVar[str] = "fake_broken"
    verbose_name: ClassVar[str] = "Fake broken"
    price: ClassVar[Decimal] = Decimal("2.00")
    jobs: ClassVar[dict[str, dict[str, Any]]] = {}
    submits: ClassVar[list[VideoRequest]] = []

    def submit(self, request: VideoRequest) -> SubmitResult:
        type(self).submits.append(request)
        raise ProviderError("Fake broken: invalid API key", permanent=True, code="auth")


def register(monkeypatch: Any, settings: Any, *classes: type[ScriptedProvider], chain: list[str] | None = None) -> None:
    from generation.providers.registry import video_providers

    for cls in classes:
        monkeypatch.setitem(video_providers.entries, cls.identifier, f"{cls.__module__}.{cls.__qualname__}")
    settings.VIDEO_TIER_CHAINS = {"standard": chain or [c.identifier for c in classes]}


def run_job(job_id: object) -> None:
    """What a worker and the poll loop do first: run the job's task, then submit its due attempt."""
    from django.utils import timezone

    from generation.services import attempts_poll_due
    from mediastudio.jobs.tasks import job_execute

    job_execute(str(job_id))
    attempts_poll_due(now=timezone.now())


def drive(generation: Any, rounds: int = 8) -> Any:
    """Run the generation's job, then let polls fall due 30 s apart until it is final (at most
    `rounds` of them); return the job as it ended."""
    import datetime as dt

    from django.utils import timezone

    from generation.services import attempts_poll_due

    run_job(str(generation.job_id))
    for i in range(rounds):
        generation.job.refresh_from_db()
        if generation.job.is_final:
            break
        attempts_poll_due(now=timezone.now() + dt.timedelta(seconds=30 * (i + 1)))
    generation.job.refresh_from_db()
    return generation.job
