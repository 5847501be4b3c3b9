"""Which providers a generation tried or skipped, and why, is kept: the job page, the API's job
detail and the Generate page's panel read it after the fact (the job's message moves on at once)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import ClassVar

import pytest
from django.utils import timezone

from generation.models import ProviderHealth
from generation.services import video_generation_create, video_generation_retry
from mediastudio.jobs.models import Job
from tests.factories import CampaignFactory
from tests.generation.engine_fakes import BrokenProvider, ScriptedProvider, drive, register

pytestmark = pytest.mark.django_db


class SpareProvider(ScriptedProvider):
    """A third provider of the chain, after fake_ok."""

    identifier: ClassVar[str] = "fake_spare"
    verbose_name: ClassVar[str] = "Fake spare"




@pytest.fixture
def fakes(monkeypatch, settings):
    ScriptedProvider.reset(polls_to_finish=2, never_finish=False)
    BrokenProvider.reset()
    SpareProvider.reset()
    register(monkeypatch, settings, BrokenProvider, ScriptedProvider, SpareProvider)
    settings.VIDEO_PROVIDER_FAILURE_THRESHOLD = 3
    return settings


def test_it_keeps_why_a_provider_failed_and_where_the_job_went_next(workspace, owner, fakes, client_owner, logged_in):
    campaign = CampaignFactory(workspace=workspace, budget=Decimal("10"))
    generation, _ = video_generation_create(workspace=workspace, user=owner, campaign=campaign, prompt="A can",
                                            tier="standard", duration=4, resolution="480p")
    assert drive(generation).status == Job.Status.SUCCEEDED

    body = client_owner.get(f"/api/video/jobs/{generation.job_id}").json()
    log = body["provider_log"]
    assert [(e["kind"], e["provider"], e["status"]) for e in log] == [
        ("attempt", "fake_broken", "failed"), ("attempt", "fake_ok", "succeeded")]
    assert log[0]["reason"] == "Fake broken: invalid API key" and log[0]["code"] == "auth"
    assert log[0]["then"] == "Moved on to fake_ok."
    assert log[1]["reason"] == "" and log[1]["then"] == ""

    page = logged_in.get(f"/generate/jobs/{generation.job_id}/").content.decode()
    assert "Fake broken: invalid API key" in page and "Moved on to fake_ok." in page
    assert "Providers tried" in page


def test_it_records_a_provider_skipped_at_fallback_because_it_was_cooling_down(workspace, owner, fakes, client_owner, logged_in):
    fakes.VIDEO_TIER_CHAINS = {"standard": ["fake_broken", "fake_ok", "fake_spare"]}
    generation, _ = video_generation_create(workspace=workspace, user=owner, prompt="A can", tier="standard", duration=4)
    assert [c["provider"] for c in generation.chain] == ["fake_broken", "fake_ok", "fake_spare"]
    # fake_ok starts cooling down after the plan was made: when its turn comes it is passed over.
    ProviderHealth.objects.create(provider="fake_ok", consecutive_failures=3,
                                  cooldown_until=timezone.now() + dt.timedelta(minutes=10))

    assert drive(generation).status == Job.Status.SUCCEEDED

    generation.refresh_from_db()
    assert [(s["provider"], s["stage"]) for s in generation.skipped] == [("fake_ok", "fallback")]
    log = client_owner.get(f"/api/video/jobs/{generation.job_id}").json()["provider_log"]
    assert [(e["provider"], e["status"]) for e in log] == [
        ("fake_broken", "failed"), ("fake_ok", "skipped"), ("fake_spare", "succeeded")]
    assert log[1]["reason"].startswith("cooling down after repeated failures")
    assert log[0]["then"] == "Moved on to fake_spare."
    page = logged_in.get(f"/generate/jobs/{generation.job_id}/").content.decode()
    assert 'data-kind="skipped"' in page and "cooling down after repeated failures" in page


def test_it_records_providers_left_out_of_the_chain_when_planning(workspace, owner, fakes, client_owner):
    fakes.FAKE_BROKEN_ENABLED = False  # as a vendor without its key is
    generation, _ = video_generation_create(workspace=workspace, user=owner, prompt="A can", tier="standard", duration=4)
    assert [c["provider"] for c in generation.chain] == ["fake_ok", "fake_spare"]
    drive(generation)

    log = client_owner.get(f"/api/video/jobs/{generation.job_id}").json()["provider_log"]
    assert [(e["provider"], e["status"]) for e in log] == [("fake_broken", "skipped"), ("fake_ok", "succeeded")]
    assert log[0]["reason"] == "turned off (FAKE_BROKEN_ENABLED is false)" and log[0]["code"] == "plan"


def test_the_failure_names_every_provider_tried_and_skipped(workspace, owner, fakes, monkeypatch, settings):
    register(monkeypatch, settings, BrokenProvider, ScriptedProvider)
    generation, _ = video_generation_create(workspace=workspace, user=owner, prompt="A can", tier="standard", duration=4)
    ProviderHealth.objects.create(provider="fake_ok", consecutive_failures=3,
                                  cooldown_until=timezone.now() + dt.timedelta(minutes=10))
    job = drive(generation)
    assert job.status == Job.Status.FAILED
    assert "fake_broken/fake_broken-1: Fake broken: invalid API key" in job.error
    assert "fake_ok skipped: cooling down after repeated failures" in job.error


def test_a_retry_keeps_the_earlier_attempts_and_replaces_the_plans_skips(workspace, owner, fakes, client_owner):
    fakes.VIDEO_TIER_CHAINS = {"standard": ["fake_broken"]}
    generation, _ = video_generation_create(workspace=workspace, user=owner, prompt="A can", tier="standard", duration=4)
    assert drive(generation).status == Job.Status.FAILED
    fakes.VIDEO_TIER_CHAINS = {"standard": ["fake_broken", "fake_ok"]}
    fakes.FAKE_BROKEN_ENABLED = False

    video_generation_retry(generation=generation)
    generation.refresh_from_db()
    assert drive(generation).status == Job.Status.SUCCEEDED

    log = client_owner.get(f"/api/video/jobs/{generation.job_id}").json()["provider_log"]
    assert [(e["provider"], e["status"]) for e in log] == [
        ("fake_broken", "failed"), ("fake_broken", "skipped"), ("fake_ok", "succeeded")]
    assert log[1]["reason"] == "turned off (FAKE_BROKEN_ENABLED is false)"


def test_the_last_attempt_before_a_retry_by_hand_says_the_run_ended_not_that_the_engine_moved_on(
        workspace, owner, fakes, client_owner, logged_in):
    fakes.VIDEO_TIER_CHAINS = {"standard": ["fake_broken"]}
    generation, _ = video_generation_create(workspace=workspace, user=owner, prompt="A can", tier="standard", duration=4)
    assert drive(generation).status == Job.Status.FAILED
    video_generation_retry(generation=generation)  # the same one-provider chain: fails the same way
    generation.refresh_from_db()
    assert drive(generation).status == Job.Status.FAILED
    fakes.VIDEO_TIER_CHAINS = {"standard": ["fake_broken", "fake_ok"]}
    video_generation_retry(generation=generation)  # now the engine falls back within the run
    generation.refresh_from_db()
    assert drive(generation).status == Job.Status.SUCCEEDED

    log = client_owner.get(f"/api/video/jobs/{generation.job_id}").json()["provider_log"]
    assert [(e["provider"], e["status"], e["then"]) for e in log] == [
        ("fake_broken", "failed", "Run ended; retried by hand."),
        ("fake_broken", "failed", "Run ended; retried by hand."),
        ("fake_broken", "failed", "Moved on to fake_ok."),
        ("fake_ok", "succeeded", ""),
    ]
    page = logged_in.get(f"/generate/jobs/{generation.job_id}/").content.decode()
    assert page.count("Run ended; retried by hand.") == 2 and "Retried on fake_broken." not in page


def test_a_skip_says_what_would_turn_the_provider_on_and_why_no_model_fits(settings):
    from generation.services import video_estimate

    settings.RUNWAY_API_KEY = ""
    settings.KLING_ACCESS_KEY, settings.KLING_SECRET_KEY = "ak", "sk"
    settings.VIDEO_TIER_CHAINS = {"standard": ["runway", "kling", "animatic"]}
    skipped = {s["provider"]: s["reason"] for s in video_estimate(prompt="A can", tier="standard", duration=6).plan.skipped}
    assert skipped["runway"] == "not enabled: set RUNWAY_API_KEY"
    # Every Kling model makes 5 or 10 s: one sentence, not one per model.
    assert skipped["kling"].startswith("Model 'kling-") and "makes clips of 5, 10 s, not 6 s" in skipped["kling"]
    assert skipped["kling"].count("makes clips") == 1 and "other models cannot make it either." in skipped["kling"]


def test_a_worker_running_the_task_again_adds_no_run_that_would_read_as_retried_by_hand(
        workspace, owner, fakes, client_owner):
    import datetime as dt

    from mediastudio.jobs.services import job_reap_expired
    from tests.generation.engine_fakes import run_job

    generation, _ = video_generation_create(workspace=workspace, user=owner, prompt="A can", tier="standard", duration=4)
    run_job(generation.job_id)
    # As if the worker died before letting go of the job: its lease runs out and the reaper queues it again.
    Job.objects.filter(pk=generation.job_id).update(lease_expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert job_reap_expired() == (1, 0)
    run_job(generation.job_id)

    assert drive(generation).status == Job.Status.SUCCEEDED
    log = client_owner.get(f"/api/video/jobs/{generation.job_id}").json()["provider_log"]
    assert [(e["provider"], e["status"], e["then"]) for e in log] == [
        ("fake_broken", "failed", "Moved on to fake_ok."), ("fake_ok", "succeeded", "")]
