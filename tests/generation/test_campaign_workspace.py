"""A campaign names its workspace: the generate, group and estimate endpoints use it when no workspace
is given, for a member of several workspaces, still checking that the user may write there."""

from __future__ import annotations

from decimal import Decimal

import pytest

from generation.models import VideoGeneration
from mediastudio.jobs.models import Job
from tests.conftest import pick_workspace
from tests.factories import CampaignFactory, MembershipFactory, WorkspaceFactory
from tests.generation.engine_fakes import ScriptedProvider, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_ok(monkeypatch, settings):
    ScriptedProvider.reset(polls_to_finish=1, never_finish=False)
    register(monkeypatch, settings, ScriptedProvider)


@pytest.fixture
def second(owner):
    """A second workspace of the owner's, named to sort first (the session's fallback)."""
    workspace = WorkspaceFactory(name="Aardvark")
    MembershipFactory(workspace=workspace, user=owner, role="editor")
    return workspace


def body(**kw):
    return {"prompt": "Cold brew can on marble", "tier": "standard", "duration": 4, **kw}


def test_it_generates_in_the_campaigns_workspace_for_a_member_of_several(client_owner, workspace, second, fake_ok):
    campaign = CampaignFactory(workspace=workspace, budget=Decimal("5"))
    response = client_owner.post("/api/video/generate", body(campaign=campaign.pk), format="json")
    assert response.status_code == 202, response.json()
    generation = VideoGeneration.objects.get(job_id=response.json()["id"])
    assert generation.workspace == workspace and generation.campaign == campaign
    campaign.refresh_from_db()
    assert campaign.reserved == Decimal("1")
    # Without a campaign the workspace must still be said.
    response = client_owner.post("/api/video/generate", body(), format="json")
    assert response.status_code == 400 and "workspace" in response.json()["error"]["fields"]


def test_it_prefers_the_campaigns_workspace_to_the_sessions(api_client, owner, workspace, second, fake_ok):
    api_client.force_login(owner)
    pick_workspace(api_client, second)
    campaign = CampaignFactory(workspace=workspace, budget=Decimal("5"))
    response = api_client.post("/api/video/generate", body(campaign=campaign.pk), format="json")
    assert response.status_code == 202, response.json()
    assert VideoGeneration.objects.get().workspace == workspace


def test_it_still_refuses_a_viewer_of_the_campaigns_workspace(api_client, owner, workspace, fake_ok):
    readonly = WorkspaceFactory(name="Aardvark")
    MembershipFactory(workspace=readonly, user=owner, role="viewer")
    campaign = CampaignFactory(workspace=readonly, budget=Decimal("5"))
    api_client.force_authenticate(owner)
    response = api_client.post("/api/video/generate", body(campaign=campaign.pk), format="json")
    assert response.status_code == 403
    response = api_client.post("/api/video/variants", {"prompt": "A can", "count": 2, "campaign": campaign.pk}, format="json")
    assert response.status_code == 403
    assert not Job.objects.exists()


def test_it_still_hides_a_campaign_of_another_workspace(client_owner, second, other_workspace, fake_ok):
    campaign = CampaignFactory(workspace=other_workspace, budget=Decimal("5"))
    response = client_owner.post("/api/video/generate", body(campaign=campaign.pk), format="json")
    assert response.status_code == 400 and "campaign" in response.json()["error"]["fields"]
    estimate = client_owner.get("/api/video/estimate-cost", {"tier": "standard", "duration": 4, "campaign": campaign.pk})
    assert estimate.status_code == 404
    assert not Job.objects.exists()


def test_it_estimates_against_the_campaign_for_a_member_of_several(client_owner, workspace, second, fake_ok):
    campaign = CampaignFactory(workspace=workspace, budget=Decimal("3"))
    single = client_owner.get("/api/video/estimate-cost", {"tier": "standard", "duration": 4, "campaign": campaign.pk})
    assert single.status_code == 200, single.json()
    assert single.json()["budget"]["remaining"] == "3.0000"
    payload = {"prompt": "A can", "count": 2, "tier": "standard", "duration": 4, "campaign": campaign.pk, "dry_run": True}
    group = client_owner.post("/api/video/variants", payload, format="json")
    assert group.status_code == 200, group.json()
    assert group.json()["total_estimate"] == "2.00" and group.json()["remaining_budget"] == "3.0000"
    started = client_owner.post("/api/video/variants", {**payload, "dry_run": False}, format="json")
    assert started.status_code == 202, started.json()
    assert {g.workspace_id for g in VideoGeneration.objects.all()} == {workspace.pk}
