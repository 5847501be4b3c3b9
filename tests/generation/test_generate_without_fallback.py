"""A marketer whose campaign cannot hold the dearest provider of the chain can still generate: the
Generate page's "fall back" box off reserves only the first provider's cost, and the estimate says
so before anything is sent."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from generation.models import VideoGeneration
from tests.factories import CampaignFactory
from tests.generation.engine_fakes import BrokenProvider, ScriptedProvider, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(monkeypatch, settings):
    # fake_ok costs $1.00, fake_broken $2.00: the chain's worst case is $2.00.
    ScriptedProvider.reset()
    BrokenProvider.reset()
    register(monkeypatch, settings, ScriptedProvider, BrokenProvider)


def form(campaign, **kw):
    return {"prompt": "Cold brew can on marble", "mood": 60, "aspect_ratio": "9:16", "duration": 4,
            "resolution": "480p", "tier": "standard", "campaign": campaign.pk, **kw}


def test_the_estimate_without_fallback_reserves_only_the_first_provider(client_owner, workspace, chain):
    campaign = CampaignFactory(workspace=workspace, budget=Decimal("1.50"))
    url = f"/api/video/estimate-cost?prompt=A%20can&tier=standard&duration=4&resolution=480p&campaign={campaign.pk}"

    with_fallback = client_owner.get(url).json()
    without = client_owner.get(url + "&allow_fallback=false").json()

    assert Decimal(with_fallback["worst_case"]) == 2 and with_fallback["budget"]["fits"] is False
    assert [c["provider"] for c in without["chain"]] == ["fake_ok"]
    assert Decimal(without["worst_case"]) == 1 and without["budget"]["fits"] is True


def test_the_page_generates_without_fallback_when_the_box_is_off(client, owner, workspace, chain):
    campaign = CampaignFactory(workspace=workspace, budget=Decimal("1.50"))
    client.force_login(owner)

    refused = client.post("/generate/", form(campaign, allow_fallback="on"), HTTP_ACCEPT="application/json")
    assert refused.status_code == 400 and json.loads(refused.content)["error"]["code"] == "budget_exceeded"

    made = client.post("/generate/", form(campaign), HTTP_ACCEPT="application/json")  # an unticked box is not sent
    assert made.status_code == 202, made.content
    generation = VideoGeneration.objects.get(job_id=json.loads(made.content)["id"])
    assert generation.allow_fallback is False and [c["provider"] for c in generation.chain] == ["fake_ok"]
    assert generation.reserved_amount == Decimal("1.00")


def test_the_box_is_ticked_by_default(client, owner):
    client.force_login(owner)
    html = client.get("/generate/").content.decode()
    [tag] = re.findall(r'<input[^>]*name="allow_fallback"[^>]*>', html)
    assert "checked" in tag
