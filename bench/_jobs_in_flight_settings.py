"""Settings and the fake remote provider of bench/bench_jobs_in_flight.py (run it, not this).

The real settings, plus a provider ("benchfake") that talks HTTP to the benchmark's fake vendor
(BENCH_FAKE_URL): submit returns an id at once, the render takes BENCH_RENDER_SECONDS, the vendor
advises polling every BENCH_POLL_INTERVAL seconds.
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import ClassVar

from mediastudio.settings import *  # noqa: F403

DEBUG = False  # as in production: no query log kept per connection, no debug cursor wrappers

VIDEO_EXTRA_PROVIDERS = {"benchfake": "bench._jobs_in_flight_settings.SlowFakeProvider"}
VIDEO_TIER_CHAINS = {"standard": ["benchfake"]}
VIDEO_RESULT_PREVIEWS = os.environ.get("BENCH_PREVIEWS", "0") == "1"
BENCH_FAKE_URL = os.environ.get("BENCH_FAKE_URL", "")
BENCH_POLL_INTERVAL = float(os.environ.get("BENCH_POLL_INTERVAL", "5"))
SAFE_FETCH_ALLOW_LOOPBACK = True  # the fake vendor serves its results from 127.0.0.1


def _provider_classes():
    from generation.providers.base import (
        RUNNING,
        SUCCEEDED,
        TEXT_TO_VIDEO,
        ModelSpec,
        PollResult,
        Price,
        SubmitResult,
        VideoProvider,
        VideoRequest,
    )
    from mediastudio.lib.http import HttpClient

    class SlowFakeProvider(VideoProvider):
        identifier: ClassVar[str] = "benchfake"
        verbose_name: ClassVar[str] = "Bench fake (120 s renders)"
        capabilities: ClassVar[frozenset[str]] = frozenset({TEXT_TO_VIDEO})
        settings_keys: ClassVar[tuple[str, ...]] = ("BENCH_FAKE_URL",)

        def models(self) -> list[ModelSpec]:
            return [ModelSpec(provider="benchfake", name="slow-1", capabilities=self.capabilities, min_duration=1,
                              max_duration=20, resolutions=("720p",), price=Price(per_second={"*": Decimal("0.01")}),
                              poll_interval=float(self.setting("BENCH_POLL_INTERVAL", 5)))]

        def _client(self) -> HttpClient:
            # A client per call, as the real adapters build theirs (the connection underneath is kept).
            return HttpClient(base_url=str(self.setting("BENCH_FAKE_URL")), headers={"Authorization": "Bearer bench"},
                              vendor="benchfake")

        def submit(self, request: VideoRequest) -> SubmitResult:
            with self._client() as client:
                data = client.post("/jobs", json={"prompt": request.prompt, "duration": request.duration}).json()
            return SubmitResult(external_id=data["id"], poll_after=float(self.setting("BENCH_POLL_INTERVAL", 5)))

        def poll(self, external_id: str) -> PollResult:
            with self._client() as client:
                data = client.get(f"/jobs/{external_id}").json()
            if data["state"] == "succeeded":
                return PollResult(state=SUCCEEDED, percent=100, result_urls=[data["url"]])
            return PollResult(state=RUNNING, percent=int(data["percent"]))

    return SlowFakeProvider


def __getattr__(name: str):  # the provider class is built on first use (after Django is set up)
    if name == "SlowFakeProvider":
        cls = _provider_classes()
        globals()[name] = cls
        return cls
    raise AttributeError(name)

