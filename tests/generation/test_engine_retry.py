"""Retry with backoff through the engine: Runway's fake answers 429 / 503 until the HTTP client's own
retries are spent; the engine records the failed attempt and tries the same provider again later."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from generation.models import VideoAttempt
from generation.services import attempts_poll_due, video_generation_create
from mediastudio.jobs.models import Job
from tests.factories import CampaignFactory
from tests.fakes.runway_server import RunwayFake
from tests.generation.engine_fakes import run_job
from tests.generation.providers.harness import SleepRecorder

pytestmark = pytest.mark.django_db


@pytest.fixture
def runway(settings):
    with RunwayFake() as fake:
        sleeps = SleepRecorder()
        settings.RUNWAY_API_KEY = RunwayFake.api_key
        settings.RUNWAY_BASE_URL = fake.url
        settings.VIDEO_PROVIDER_CONFIG = {"runway": {"HTTP_SLEEP": sleeps}}
        settings.VIDEO_RETRY_BACKOFF_BASE = 5.0
        fake.sleeps = sleeps
        yield fake


def create(workspace, owner, campaign):
    generation, _ = video_generation_create(
        workspace=workspace, user=owner, campaign=campaign, prompt="Cold brew pours in slow motion",
        provider="runway", model="gen4.5", allow_fallback=False, aspect_ratio="9:16", duration=5, tier="standard",
    )
    return generation


def finish(generation, start_offset: float, rounds: int = 12):
    for i in range(rounds):
        generation.job.refresh_from_db()
        if generation.job.is_final:
            break
        attempts_poll_due(now=timezone.now() + dt.timedelta(seconds=start_offset + 10 * i))
    generation.job.refresh_from_db()
    return generation.job


@pytest.mark.parametrize(
    ("status", "headers", "expected_delay"),
    [(429, {"Retry-After": "7"}, 7.0), (503, {}, 5.0)],
    ids=["429-retry-after", "503-backoff"],
)
def test_it_retries_the_same_provider_with_backoff(workspace, owner, runway, status, headers, expected_delay):
    campaign = CampaignFactory(workspace=workspace, budget=Decimal("5"))
    generation = create(workspace, owner, campaign)
    runway.inject(status, headers=headers, times=4, method="POST", path_prefix="/v1/text_to_video")
    before = timezone.now()

    run_job(str(generation.job_id))

    first, retry = generation.attempts.order_by("id")
    assert first.status == VideoAttempt.Status.FAILED and first.retryable and f"HTTP {status}" in first.error
    assert retry.status == VideoAttempt.Status.PENDING and retry.provider == "runway" and retry.retry == 1
    delay = (retry.poll_due_at - before).total_seconds()
    assert expected_delay - 0.5 <= delay <= expected_delay + 2
    assert len(runway.calls("POST", "/v1/text_to_video")) == 4  # the HTTP client's own tries, then the engine's turn
    attempts_poll_due(now=before + dt.timedelta(seconds=expected_delay - 1))
    assert len(runway.calls("POST", "/v1/text_to_video")) == 4  # not due yet: nothing sent

    job = finish(generation, expected_delay + 1)

    assert job.status == Job.Status.SUCCEEDED, job.error
    assert len(runway.calls("POST", "/v1/text_to_video")) == 5
    retry.refresh_from_db()
    assert retry.status == VideoAttempt.Status.SUCCEEDED and retry.actual_cost == Decimal("0.6000")
    campaign.refresh_from_db()
    assert (campaign.reserved, campaign.spent) == (Decimal("0"), Decimal("0.6000"))


def test_it_gives_up_on_a_provider_after_its_retries_and_fails_without_fallback(workspace, owner, runway, settings):
    settings.VIDEO_RETRIES_PER_PROVIDER = 1
    campaign = CampaignFactory(workspace=workspace, budget=Decimal("5"))
    generation = create(workspace, owner, campaign)
    runway.inject(500, times=8, method="POST", path_prefix="/v1/text_to_video")
    run_job(str(generation.job_id))
    job = finish(generation, 6)
    assert job.status == Job.Status.FAILED and "HTTP 500" in job.error
    assert list(generation.attempts.values_list("retry", "status")) == [(0, "failed"), (1, "failed")]
    campaign.refresh_from_db()
    assert (campaign.reserved, campaign.spent) == (Decimal("0"), Decimal("0"))
