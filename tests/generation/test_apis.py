"""The video API: generate (idempotency header), jobs, cancel, download, estimate, providers, models,
strategy, groups, webhooks; permission edges (anonymous, other workspace, viewer, wrong method)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from generation import strategy
from generation.models import VideoBatch, VideoGeneration
from generation.services import attempts_poll_due
from mediastudio.jobs.models import Job
from tests.factories import CampaignFactory, ElementFactory, UniverseFactory
from tests.generation.engine_fakes import ScriptedProvider, register, run_job, signed

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_ok(monkeypatch, settings):
    ScriptedProvider.reset(polls_to_finish=1, never_finish=False)
    register(monkeypatch, settings, ScriptedProvider)


def body(**kw):
    return {"prompt": "Cold brew can on marble", "tier": "standard", "duration": 4, **kw}


def test_it_generates_replays_by_header_and_refuses_another_body(client_owner, workspace, fake_ok):
    campaign = CampaignFactory(workspace=workspace, budget=Decimal("5"))
    first = client_owner.post("/api/video/generate", body(campaign=campaign.pk), format="json", HTTP_IDEMPOTENCY_KEY="abc")
    assert first.status_code == 202, first.json()
    data = first.json()
    assert data["status"] == "queued" and data["estimated_cost"] == "1.0000" and data["chain"][0]["provider"] == "fake_ok"
    again = client_owner.post("/api/video/generate", body(campaign=campaign.pk), format="json", HTTP_IDEMPOTENCY_KEY="abc")
    assert again.status_code == 200 and again.json()["id"] == data["id"]
    other = client_owner.post("/api/video/generate", body(campaign=campaign.pk, mood=90), format="json", HTTP_IDEMPOTENCY_KEY="abc")
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_mismatch"


def test_it_refuses_over_budget_with_the_figures(client_owner, workspace, fake_ok):
    campaign = CampaignFactory(workspace=workspace, budget=Decimal("0.50"))
    response = client_owner.post("/api/video/generate", body(campaign=campaign.pk), format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "budget_exceeded" and "budget $0.50" in error["message"] and error["estimate"] == "1.00"


def test_it_lists_shows_downloads_and_cancels(client_owner, workspace, fake_ok):
    created = client_owner.post("/api/video/generate", body(), format="json").json()
    run_job(created["id"])
    attempts_poll_due(now=timezone.now() + dt.timedelta(seconds=5))
    listing = client_owner.get("/api/video/jobs").json()
    assert [r["id"] for r in listing["results"]] == [created["id"]]
    detail = client_owner.get(f"/api/video/jobs/{created['id']}").json()
    assert detail["status"] == "succeeded" and detail["result_url"] and detail["attempts"][0]["status"] == "succeeded"
    download = client_owner.get(f"/api/video/jobs/{created['id']}/download")
    assert download.status_code == 302 and download["Location"].split("?")[0] == detail["result_url"].split("?")[0]
    assert client_owner.post(f"/api/video/jobs/{created['id']}/cancel").status_code == 409

    ScriptedProvider.never_finish = True
    second = client_owner.post("/api/video/generate", body(prompt="Second"), format="json").json()
    run_job(second["id"])
    assert client_owner.get(f"/api/video/jobs/{second['id']}/download").status_code == 409
    canceled = client_owner.post(f"/api/video/jobs/{second['id']}/cancel")
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    retried = client_owner.post(f"/api/video/jobs/{second['id']}/retry")
    assert retried.status_code == 202 and retried.json()["status"] == "queued"


def test_it_hides_other_workspaces_and_forbids_viewers(api_client, workspace, owner, viewer, outsider, fake_ok):
    api_client.force_authenticate(owner)
    created = api_client.post("/api/video/generate", body(), format="json").json()
    api_client.force_authenticate(outsider)
    assert api_client.get(f"/api/video/jobs/{created['id']}").status_code == 404
    assert api_client.post(f"/api/video/jobs/{created['id']}/cancel").status_code == 404
    assert api_client.get("/api/video/jobs").json()["results"] == []
    api_client.force_authenticate(viewer)
    assert api_client.get(f"/api/video/jobs/{created['id']}").status_code == 200
    assert api_client.post(f"/api/video/jobs/{created['id']}/cancel").status_code == 403
    assert api_client.post("/api/video/generate", body(workspace=workspace.pk), format="json").status_code == 403
    api_client.force_authenticate(None)
    assert api_client.get("/api/video/jobs").status_code in (401, 403)
    api_client.force_authenticate(owner)
    assert api_client.get("/api/video/generate").status_code == 405


def test_it_refuses_another_workspaces_campaign_as_unknown(client_owner, other_workspace, fake_ok):
    foreign = CampaignFactory(workspace=other_workspace)
    response = client_owner.post("/api/video/generate", body(campaign=foreign.pk), format="json")
    assert response.status_code == 400 and "campaign" in response.json()["error"]["fields"]


def test_it_refuses_a_retired_model_naming_replacements(client_owner, fake_ok):
    response = client_owner.post("/api/video/generate", body(model="sora-2"), format="json")
    error = response.json()["error"]
    assert response.status_code == 400 and error["code"] == "model_retired" and error["replacements"]
    assert not Job.objects.exists()


def test_it_estimates_with_the_campaign_budget(client_owner, workspace, fake_ok):
    campaign = CampaignFactory(workspace=workspace, budget=Decimal("3"))
    data = client_owner.get("/api/video/estimate-cost", {"tier": "standard", "duration": 4, "campaign": campaign.pk}).json()
    assert data["estimate"] == "1.00" and data["provider"] == "fake_ok"
    assert data["budget"]["remaining"] == "3.0000" and data["budget"]["fits"] is True
    draft = client_owner.get("/api/video/estimate-cost", {"tier": "draft", "duration": 6, "aspect_ratio": "9:16"}).json()
    assert draft["provider"] == "animatic" and draft["estimate"] == "0.0000"


def test_it_lists_providers_and_models_with_capabilities(client_owner, fake_ok):
    providers = client_owner.get("/api/video/providers").json()
    by_id = {p["identifier"]: p for p in providers["providers"]}
    assert by_id["animatic"]["enabled"] and by_id["animatic"]["embedded"] and "draft" in by_id["animatic"]["tiers"]
    assert by_id["runway"]["enabled"] is False and by_id["runway"]["models"][0]["price"]["source"]
    assert providers["recommendations"]
    models = client_owner.get("/api/video/models", {"provider": "runway"}).json()["models"]
    assert all(m["lifecycle"]["status"] != "retired" for m in models) and models[0]["aspect_ratios"]
    with_retired = client_owner.get("/api/video/models", {"provider": "runway", "include_retired": "true"}).json()["models"]
    assert any(m["name"] == "gen3a_turbo" for m in with_retired)


def test_it_returns_distinct_strategy_variations(client_owner):
    data = client_owner.post("/api/video/strategy", {"prompt": "A can", "mood": 80, "count": 4}, format="json").json()
    assert data["suggestion"]["category"] == "high_energy"
    assert len({v["enriched_prompt"] for v in data["variations"]}) == 4


def test_the_batch_dry_run_says_whether_the_total_fits_the_campaign(client_owner, workspace, fake_ok):
    campaign = CampaignFactory(workspace=workspace, budget=Decimal("2.50"))
    items = [body(prompt="A can"), body(prompt="A bottle"), body(prompt="A box")]
    over = client_owner.post("/api/video/batch", {"items": items, "campaign": campaign.pk, "dry_run": True}, format="json")
    assert over.status_code == 200, over.json()
    assert over.json()["total_estimate"] == "3.00" and over.json()["remaining_budget"] == "2.5000"
    assert over.json()["fits"] is False
    under = client_owner.post("/api/video/batch", {"items": items[:2], "campaign": campaign.pk, "dry_run": True}, format="json")
    assert under.json()["total_estimate"] == "2.00" and under.json()["fits"] is True
    exact = client_owner.post("/api/video/batch", {"items": items[:2], "campaign": CampaignFactory(workspace=workspace, budget=Decimal("2")).pk,
                                                   "dry_run": True}, format="json")
    assert exact.json()["fits"] is True
    without = client_owner.post("/api/video/batch", {"items": items, "dry_run": True}, format="json").json()
    assert "fits" not in without and "remaining_budget" not in without
    assert not Job.objects.exists()


def test_it_estimates_and_starts_variants_as_one_group(client_owner, workspace, fake_ok, django_capture_on_commit_callbacks):
    campaign = CampaignFactory(workspace=workspace, budget=Decimal("10"))
    payload = {"prompt": "A can", "count": 3, "tier": "standard", "duration": 4, "campaign": campaign.pk}
    estimate = client_owner.post("/api/video/variants", {**payload, "dry_run": True}, format="json").json()
    assert estimate == {"count": 3, "items": ["1.00", "1.00", "1.00"], "total_estimate": "3.00", "remaining_budget": "10.0000",
                        "fits": True}
    assert not Job.objects.exists()
    group = client_owner.post("/api/video/variants", payload, format="json")
    assert group.status_code == 202
    data = group.json()
    assert data["kind"] == "variants" and len(data["jobs"]) == 3 and data["status"] == "running"
    generations = VideoGeneration.objects.filter(batch__job_id=data["id"]).order_by("variant_index")
    assert len({(g.strategy["camera_move"], g.strategy["lighting"]) for g in generations}) == 3
    first = generations[0]
    looks = (strategy.CAMERA_MOVES[first.strategy["camera_move"]].label, strategy.LIGHTINGS[first.strategy["lighting"]].label)
    assert first.job.title == f"Variant A: {looks[0]} / {looks[1]}"  # the names the Generate page shows, not the keys
    assert "_" not in first.job.title
    for g in generations:
        run_job(str(g.job_id))
    with django_capture_on_commit_callbacks(execute=True):  # the parent is refreshed once each child commits
        attempts_poll_due(now=timezone.now() + dt.timedelta(seconds=5))
    parent = Job.objects.get(pk=data["id"])
    assert parent.status == Job.Status.SUCCEEDED and parent.progress == 100 and parent.message == "3 of 3 done"
    campaign.refresh_from_db()
    assert (campaign.reserved, campaign.spent) == (Decimal("0"), Decimal("3.00"))


def test_it_makes_broll_product_and_transition_groups(client_owner, workspace, fake_ok, tmp_path):
    from media_assets.services import asset_create_from_file
    from tests.generation.providers.harness import make_png

    a = asset_create_from_file(workspace=workspace, path=make_png(tmp_path / "a.png"), source="uploaded", kind="image")
    b = asset_create_from_file(workspace=workspace, path=make_png(tmp_path / "b.png", width=48), source="uploaded", kind="image")
    element = ElementFactory(universe=UniverseFactory(workspace=workspace))
    element.reference_assets.add(a)
    common = {"tier": "draft", "duration": 2, "resolution": "480p"}
    broll = client_owner.post("/api/video/broll", {"scenes": ["Beans", "Ice", "Pour"], **common}, format="json")
    assert broll.status_code == 202 and len(broll.json()["jobs"]) == 3
    product = client_owner.post("/api/video/product", {"element": element.pk, "count": 2, **common}, format="json")
    assert product.status_code == 202
    assert all(g.image_asset_id == a.pk for g in VideoGeneration.objects.filter(batch__kind=VideoBatch.Kind.PRODUCT))
    transition = client_owner.post("/api/video/transition", {"from_asset": a.pk, "to_asset": b.pk, **common}, format="json")
    assert transition.status_code == 202
    g = VideoGeneration.objects.get(batch__kind=VideoBatch.Kind.TRANSITION)
    assert (g.image_asset_id, g.last_frame_asset_id, g.chain[0]["provider"]) == (a.pk, b.pk, "animatic")


def test_it_applies_a_signed_webhook_and_refuses_a_forged_one(api_client, client_owner, fake_ok):
    ScriptedProvider.never_finish = True
    created = client_owner.post("/api/video/generate", body(), format="json").json()
    run_job(created["id"])
    external_id = VideoGeneration.objects.get(job_id=created["id"]).attempts.get().external_id
    headers, raw = signed({"id": external_id, "delivery": "w1"})
    anonymous = type(api_client)()
    forged = anonymous.post("/api/webhooks/fake_ok", data=raw, content_type="application/json", HTTP_X_SIGNATURE="00")
    assert forged.status_code == 400 and forged.json()["error"]["code"] == "invalid_signature"
    ok = anonymous.post("/api/webhooks/fake_ok", data=raw, content_type="application/json", HTTP_X_SIGNATURE=headers["x-signature"])
    assert ok.status_code == 200 and ok.json() == {"outcome": "applied"}
    assert Job.objects.get(pk=created["id"]).status == Job.Status.SUCCEEDED
    assert anonymous.post("/api/webhooks/nope", data=raw, content_type="application/json").status_code == 404
