"""Tiers and fallback: a permanent failure moves down the chain; a failing provider cools down."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from generation.models import ProviderHealth, VideoAttempt
from generation.services import video_estimate, video_generation_create
from mediastudio.jobs.models import Job
from mediastudio.lib.exceptions import ApplicationError
from tests.factories import CampaignFactory
from tests.generation.engine_fakes import BrokenProvider, ScriptedProvider, drive, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def fakes(monkeypatch, settings):
    ScriptedProvider.reset(polls_to_finish=2, never_finish=False)
    BrokenProvider.reset()
    register(monkeypatch, settings, BrokenProvider, ScriptedProvider)
    settings.VIDEO_PROVIDER_FAILURE_THRESHOLD = 3
    return settings




def test_it_falls_back_to_the_next_provider_after_a_permanent_failure(workspace, owner, fakes):
    campaign = CampaignFactory(workspace=workspace, budget=Decimal("10"))
    generation, _ = video_generation_create(workspace=workspace, user=owner, campaign=campaign, prompt="A can",
                                            tier="standard", duration=4, resolution="480p")
    assert [c["provider"] for c in generation.chain] == ["fake_broken", "fake_ok"]
    assert generation.estimated_cost == Decimal("2.00")  # the worst case of the chain is reserved
    campaign.refresh_from_db()
    assert campaign.reserved == Decimal("2.00")

    job = drive(generation)

    assert job.status == Job.Status.SUCCEEDED, job.error
    attempts = list(generation.attempts.order_by("id"))
    assert [(a.provider, a.status) for a in attempts] == [("fake_broken", "failed"), ("fake_ok", "succeeded")]
    assert attempts[0].error_code == "auth" and "invalid API key" in attempts[0].error
    assert attempts[0].estimated_cost == Decimal("2.00") and attempts[1].actual_cost == Decimal("1.00")
    campaign.refresh_from_db()
    assert (campaign.reserved, campaign.spent) == (Decimal("0"), Decimal("1.00"))
    assert len(BrokenProvider.submits) == 1  # a permanent error is not retried on the same provider


def test_it_fails_and_releases_when_every_provider_fails(workspace, owner, fakes, monkeypatch, settings):
    register(monkeypatch, settings, BrokenProvider)
    campaign = CampaignFactory(workspace=workspace, budget=Decimal("10"))
    generation, _ = video_generation_create(workspace=workspace, user=owner, campaign=campaign, prompt="A can", tier="standard", duration=4)
    job = drive(generation)
    assert job.status == Job.Status.FAILED and "invalid API key" in job.error
    campaign.refresh_from_db()
    assert (campaign.reserved, campaign.spent) == (Decimal("0"), Decimal("0"))


def test_it_skips_a_provider_that_keeps_failing_until_its_cooldown_ends(workspace, owner, fakes):
    for _ in range(3):
        generation, _ = video_generation_create(workspace=workspace, user=owner, prompt="A can", tier="standard", duration=4)
        drive(generation)
    health = ProviderHealth.objects.get(provider="fake_broken")
    assert health.consecutive_failures == 3 and health.cooldown_until > timezone.now()

    estimate = video_estimate(prompt="A can", tier="standard", duration=4)
    assert [c.provider for c in estimate.plan.candidates] == ["fake_ok"]
    assert "cooling down" in estimate.plan.skipped[0]["reason"]
    generation, _ = video_generation_create(workspace=workspace, user=owner, prompt="A can", tier="standard", duration=4)
    drive(generation)
    assert list(generation.attempts.values_list("provider", flat=True)) == ["fake_ok"]
    assert len(BrokenProvider.submits) == 3

    ProviderHealth.objects.filter(provider="fake_broken").update(cooldown_until=timezone.now() - dt.timedelta(seconds=1))
    assert [c.provider for c in video_estimate(prompt="A can", tier="standard", duration=4).plan.candidates] == ["fake_broken", "fake_ok"]


def test_it_refuses_a_retired_model_before_any_call_naming_replacements(workspace, owner, settings):
    settings.RUNWAY_API_KEY = "key"
    with pytest.raises(ApplicationError) as caught:
        video_generation_create(workspace=workspace, user=owner, prompt="A can", provider="runway", model="gen3a_turbo")
    assert caught.value.code == "model_retired"
    assert "gen4_turbo" in caught.value.message and caught.value.extra["replacements"] == ["gen4_turbo", "gen4.5"]
    assert not VideoAttempt.objects.exists() and not Job.objects.exists()


def test_it_refuses_a_model_retired_at_another_vendor_by_name(workspace, owner):
    from generation.catalog import find_model

    spec = find_model("sora-2")
    assert spec is not None and spec.lifecycle.is_retired  # the catalogue keeps sora-2 as retired
    with pytest.raises(ApplicationError) as caught:
        video_generation_create(workspace=workspace, user=owner, prompt="A can", model="sora-2")
    assert caught.value.code == "model_retired"
    for name in spec.lifecycle.replacements:
        assert name in caught.value.message
