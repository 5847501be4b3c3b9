"""Budget: reserve the worst case under the campaign row lock; refuse with the figures; settle; race."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection

from campaigns.models import Campaign
from generation.models import VideoGeneration
from generation.services import BudgetExceeded, video_generation_create
from mediastudio.jobs.models import Job
from tests.factories import CampaignFactory, WorkspaceFactory
from tests.generation.engine_fakes import ScriptedProvider, register


@pytest.fixture
def fake_ok(monkeypatch, settings):
    ScriptedProvider.reset(polls_to_finish=2, never_finish=False)
    register(monkeypatch, settings, ScriptedProvider)


@pytest.mark.django_db
def test_it_refuses_a_submission_over_budget_stating_the_figures(workspace, owner, fake_ok):
    campaign = CampaignFactory(workspace=workspace, budget=Decimal("2.50"))
    Campaign.objects.filter(pk=campaign.pk).update(spent=Decimal("0.75"), reserved=Decimal("1.00"))
    with pytest.raises(BudgetExceeded) as caught:
        video_generation_create(workspace=workspace, user=owner, campaign=campaign, prompt="A can", tier="standard", duration=4)
    message = caught.value.message
    for figure in ("budget $2.50", "reserved $1.00", "spent $0.75", "up to $1.00", "remaining $0.75"):
        assert figure in message
    assert caught.value.extra["estimate"] == "1.00"
    assert not Job.objects.exists() and not VideoGeneration.objects.exists()
    campaign.refresh_from_db()
    assert campaign.reserved == Decimal("1.00")


@pytest.mark.django_db(transaction=True)
def test_it_accepts_exactly_what_the_budget_fits_under_200_concurrent_submissions(fake_ok):
    if connection.vendor != "postgresql":
        pytest.skip("The budget race needs PostgreSQL row locks (SQLite serialises whole-database writes); set DATABASE_URL.")
    workspace = WorkspaceFactory()
    campaign = CampaignFactory(workspace=workspace, budget=Decimal("37.00"))
    stop = threading.Event()
    peak = {"value": Decimal("0")}

    def watch():
        while not stop.is_set():
            row = Campaign.objects.values("reserved", "spent").get(pk=campaign.pk)
            peak["value"] = max(peak["value"], row["reserved"] + row["spent"])
        connection.close()

    def submit(i):
        try:
            video_generation_create(workspace=workspace, campaign=campaign, prompt=f"Shot {i}", tier="standard", duration=4)
            return "accepted"
        except BudgetExceeded:
            return "refused"
        finally:
            connection.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    with ThreadPoolExecutor(max_workers=24) as pool:
        outcomes = list(pool.map(submit, range(200)))
    stop.set()
    watcher.join()

    assert outcomes.count("accepted") == 37 and outcomes.count("refused") == 163
    campaign.refresh_from_db()
    assert campaign.reserved + campaign.spent == Decimal("37.00")
    assert peak["value"] <= Decimal("37.00")
    assert VideoGeneration.objects.filter(campaign=campaign).count() == 37
