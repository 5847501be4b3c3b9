"""Idempotency keys on create: same key and body replays, another body is a 422, racing requests make one job."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection

from generation.models import VideoGeneration
from generation.services import video_generation_create
from mediastudio.jobs.models import Job
from mediastudio.lib.exceptions import ApplicationError
from tests.factories import CampaignFactory, WorkspaceFactory
from tests.generation.engine_fakes import ScriptedProvider, register


@pytest.fixture
def fake_ok(monkeypatch, settings):
    ScriptedProvider.reset(polls_to_finish=2, never_finish=False)
    register(monkeypatch, settings, ScriptedProvider)


@pytest.mark.django_db
def test_it_replays_the_same_key_and_body_without_reserving_twice(workspace, owner, fake_ok):
    campaign = CampaignFactory(workspace=workspace, budget=Decimal("10"))
    first, created = video_generation_create(workspace=workspace, user=owner, campaign=campaign, prompt="A can",
                                             tier="standard", duration=4, idempotency_key="k-1")
    again, created_again = video_generation_create(workspace=workspace, user=owner, campaign=campaign, prompt="A can",
                                                   tier="standard", duration=4, idempotency_key="k-1")
    assert created and not created_again and again.pk == first.pk and again.job_id == first.job_id
    campaign.refresh_from_db()
    assert campaign.reserved == Decimal("1.00")


@pytest.mark.django_db
def test_it_refuses_the_same_key_with_another_body_with_422(workspace, owner, fake_ok):
    video_generation_create(workspace=workspace, user=owner, prompt="A can", tier="standard", duration=4, idempotency_key="k-2")
    with pytest.raises(ApplicationError) as caught:
        video_generation_create(workspace=workspace, user=owner, prompt="A bottle", tier="standard", duration=4, idempotency_key="k-2")
    assert caught.value.status_code == 422 and caught.value.code == "idempotency_mismatch"


@pytest.mark.django_db
def test_it_scopes_keys_to_the_workspace(workspace, other_workspace, owner, fake_ok):
    a, _ = video_generation_create(workspace=workspace, prompt="A can", tier="standard", duration=4, idempotency_key="k-3")
    b, created = video_generation_create(workspace=other_workspace, prompt="A can", tier="standard", duration=4, idempotency_key="k-3")
    assert created and a.pk != b.pk


@pytest.mark.django_db(transaction=True)
def test_it_makes_one_job_for_concurrent_requests_with_one_key(fake_ok):
    if connection.vendor != "postgresql":
        pytest.skip("Concurrent inserts need PostgreSQL to race for real; set DATABASE_URL.")
    workspace = WorkspaceFactory()

    def submit(_):
        try:
            generation, created = video_generation_create(workspace=workspace, prompt="A can", tier="standard",
                                                          duration=4, idempotency_key="same")
            return generation.pk, created
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(submit, range(24)))
    assert len({pk for pk, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert VideoGeneration.objects.count() == 1 and Job.objects.count() == 1
