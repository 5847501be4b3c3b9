"""Cancel releases the reservation and stops the provider; a webhook and a poll racing apply once."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from generation.models import VideoAttempt
from generation.services import (
    attempt_step,
    attempts_poll_due,
    video_generation_cancel,
    video_generation_create,
    video_generation_retry,
    video_webhook_receive,
)
from mediastudio.jobs.models import Job
from mediastudio.lib.providers import ProviderError
from tests.factories import CampaignFactory, WorkspaceFactory
from tests.generation.engine_fakes import ScriptedProvider, register, run_job, signed


@pytest.fixture
def fake_ok(monkeypatch, settings):
    ScriptedProvider.reset(polls_to_finish=2, never_finish=True)
    register(monkeypatch, settings, ScriptedProvider)


def started(workspace, campaign, **kwargs):
    generation, _ = video_generation_create(workspace=workspace, campaign=campaign, prompt="A can", tier="standard", duration=4, **kwargs)
    run_job(str(generation.job_id))
    generation.refresh_from_db()
    return generation


@pytest.mark.django_db
def test_it_releases_the_reservation_and_cancels_at_the_provider(workspace, fake_ok):
    campaign = CampaignFactory(workspace=workspace, budget=Decimal("10"))
    generation = started(workspace, campaign)
    attempts_poll_due(now=timezone.now() + dt.timedelta(seconds=5))
    attempt = generation.attempts.get()
    assert attempt.status == VideoAttempt.Status.RUNNING and attempt.polls == 1
    campaign.refresh_from_db()
    assert campaign.reserved == Decimal("1.00")

    job = video_generation_cancel(generation=generation)

    assert job.status == Job.Status.CANCELED
    attempt.refresh_from_db()
    assert attempt.status == VideoAttempt.Status.CANCELED
    campaign.refresh_from_db()
    assert (campaign.reserved, campaign.spent) == (Decimal("0"), Decimal("0"))
    assert attempts_poll_due(now=timezone.now() + dt.timedelta(seconds=60)) == 0


@pytest.mark.django_db
def test_it_asks_the_provider_to_stop_once_the_cancel_commits(workspace, fake_ok, django_capture_on_commit_callbacks):
    campaign = CampaignFactory(workspace=workspace, budget=Decimal("10"))
    generation = started(workspace, campaign)
    external_id = generation.attempts.get().external_id
    with django_capture_on_commit_callbacks(execute=True):
        video_generation_cancel(generation=generation)
    assert ScriptedProvider.canceled == [external_id]


@pytest.mark.django_db
def test_it_retries_a_failed_generation_and_reserves_again(workspace, fake_ok):
    campaign = CampaignFactory(workspace=workspace, budget=Decimal("10"))
    ScriptedProvider.reset(never_finish=False, polls_to_finish=1,
                           submit_errors=[ProviderError("bad input", permanent=True, code="invalid_input")])
    generation = started(workspace, campaign)
    generation.job.refresh_from_db()
    assert generation.job.status == Job.Status.FAILED
    campaign.refresh_from_db()
    assert campaign.reserved == 0

    video_generation_retry(generation=generation)
    run_job(str(generation.job_id))
    campaign.refresh_from_db()
    assert campaign.reserved == Decimal("1.00")
    attempts_poll_due(now=timezone.now() + dt.timedelta(seconds=5))
    generation.job.refresh_from_db()
    assert generation.job.status == Job.Status.SUCCEEDED
    campaign.refresh_from_db()
    assert (campaign.reserved, campaign.spent) == (Decimal("0"), Decimal("1.00"))


@pytest.mark.django_db
def test_it_refuses_a_webhook_with_a_bad_signature(workspace, fake_ok):
    generation = started(workspace, None)
    external_id = generation.attempts.get().external_id
    headers, body = signed({"id": external_id, "delivery": "d1"})
    with pytest.raises(ProviderError) as caught:
        video_webhook_receive(provider="fake_ok", headers={"x-signature": "0" * 64}, body=body)
    assert caught.value.code == "invalid_signature"
    assert generation.attempts.get().status == VideoAttempt.Status.RUNNING


@pytest.mark.django_db
def test_it_applies_a_duplicate_webhook_delivery_once(workspace, fake_ok):
    campaign = CampaignFactory(workspace=workspace, budget=Decimal("10"))
    generation = started(workspace, campaign)
    external_id = generation.attempts.get().external_id
    headers, body = signed({"id": external_id, "delivery": "d1"})
    assert video_webhook_receive(provider="fake_ok", headers=headers, body=body) == "applied"
    assert video_webhook_receive(provider="fake_ok", headers=headers, body=body) == "duplicate"
    generation.job.refresh_from_db()
    assert generation.job.status == Job.Status.SUCCEEDED and ScriptedProvider.downloads == 1
    campaign.refresh_from_db()
    assert campaign.spent == Decimal("1.00")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(5))
def test_it_applies_a_webhook_and_a_poll_racing_for_one_job_once(fake_ok, round_):
    workspace = WorkspaceFactory()
    campaign = CampaignFactory(workspace=workspace, budget=Decimal("10"))
    generation = started(workspace, campaign)
    attempt = generation.attempts.get()
    ScriptedProvider.never_finish = False
    ScriptedProvider.polls_to_finish = 1  # the next poll sees the finished render too
    VideoAttempt.objects.filter(pk=attempt.pk).update(poll_due_at=timezone.now() - dt.timedelta(seconds=1))
    headers, body = signed({"id": attempt.external_id, "delivery": f"race-{round_}"})
    barrier = threading.Barrier(2)
    outcomes = {}

    def by_webhook():
        barrier.wait()
        try:
            outcomes["webhook"] = video_webhook_receive(provider="fake_ok", headers=headers, body=body)
        finally:
            connection.close()

    def by_poll():
        barrier.wait()
        try:
            outcomes["poll"] = attempt_step(attempt.pk, force=True)
        finally:
            connection.close()

    threads = [threading.Thread(target=by_webhook), threading.Thread(target=by_poll)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    generation.job.refresh_from_db()
    assert generation.job.status == Job.Status.SUCCEEDED, (generation.job.error, outcomes)
    assert ScriptedProvider.downloads == 1, outcomes
    attempt.refresh_from_db()
    assert attempt.status == VideoAttempt.Status.SUCCEEDED
    campaign.refresh_from_db()
    assert (campaign.reserved, campaign.spent) == (Decimal("0"), Decimal("1.00"))
