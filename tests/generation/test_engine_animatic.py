"""The embedded animatic provider end to end through the engine: a real MP4 asset, settled budget."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from generation.models import VideoAttempt
from generation.services import attempts_poll_due, video_generation_create
from media_assets.storage import storage_fetch_to_temp
from mediastudio.jobs.models import Job
from tests.factories import CampaignFactory
from tests.generation.conftest import ffprobe_video
from tests.generation.engine_fakes import run_job

pytestmark = pytest.mark.django_db


def later(seconds: float = 30) -> dt.datetime:
    return timezone.now() + dt.timedelta(seconds=seconds)


def run_to_end(generation, *, rounds: int = 10) -> Job:
    run_job(str(generation.job_id))
    for _ in range(rounds):
        generation.job.refresh_from_db()
        if generation.job.is_final:
            break
        attempts_poll_due(now=later())
    generation.job.refresh_from_db()
    return generation.job


def test_it_renders_a_real_mp4_asset_through_the_engine(workspace, owner, tmp_path, settings):
    settings.ANIMATIC_WORK_DIR = str(tmp_path / "animatic")
    campaign = CampaignFactory(workspace=workspace, budget=Decimal("10"))
    generation, created = video_generation_create(
        workspace=workspace, user=owner, campaign=campaign, prompt="Cold brew can on a marble counter",
        mood=80, aspect_ratio="9:16", duration=2, resolution="480p", tier="draft",
    )
    assert created and generation.chain[0]["provider"] == "animatic"
    job = run_to_end(generation)
    assert job.status == Job.Status.SUCCEEDED, job.error
    generation.refresh_from_db()
    asset = generation.result_asset
    assert asset is not None and asset.kind == "video" and asset.campaign_id == campaign.pk
    path, _ = storage_fetch_to_temp(asset.file.name)
    info = ffprobe_video(path)
    assert (info["codec"], info["pix_fmt"], info["width"], info["height"]) == ("h264", "yuv420p", 480, 854)
    assert abs(info["duration"] - 2.0) <= 1 / 24 + 1e-3
    attempt = generation.attempts.get()
    assert attempt.status == VideoAttempt.Status.SUCCEEDED and attempt.actual_cost == Decimal("0")
    assert generation.strategy["category"] == "high_energy"
    campaign.refresh_from_db()
    assert campaign.reserved == 0 and campaign.spent == 0
    assert job.result["asset"] == asset.pk
