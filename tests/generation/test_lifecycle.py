"""Model lifecycle where users meet it: deprecated models warn (Generate page, generate and estimate
API responses, job page); retired ones (sora-2, sora-2-pro, gen3a_turbo) are refused before any call
with their retirement date and replacements, in the API and as a form error on the page."""

from __future__ import annotations

import json

import pytest

from generation.models import VideoGeneration
from mediastudio.jobs.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def veo_on(settings):
    # A key only: nothing here reaches the vendor (the tests never run the job).
    settings.GEMINI_API_KEY = "test-key"
    settings.GEMINI_BASE_URL = "http://127.0.0.1:9"
    return settings


def body(**kw):
    return {"prompt": "A sneaker on a plinth", "duration": 8, "aspect_ratio": "16:9", "tier": "standard", **kw}


def test_it_warns_about_a_deprecated_model_in_the_generate_and_estimate_responses(client_owner, veo_on):
    created = client_owner.post("/api/video/generate", body(model="veo-3.0-generate-001"), format="json")
    assert created.status_code == 202, created.json()
    [warning] = created.json()["warnings"]
    assert "veo-3.0-generate-001" in warning and "deprecated" in warning and "sunset 2026-06-30" in warning
    assert "veo-3.1-generate-preview" in warning
    detail = client_owner.get(f"/api/video/jobs/{created.json()['id']}").json()
    assert detail["warnings"] == [warning]

    estimate = client_owner.get("/api/video/estimate-cost", body(model="veo-3.0-generate-001")).json()
    assert estimate["model"] == "veo-3.0-generate-001" and estimate["warnings"] == [warning]
    active = client_owner.get("/api/video/estimate-cost", body(model="veo-3.1-fast-generate-preview")).json()
    assert active["warnings"] == []


@pytest.mark.parametrize(
    ("model", "date", "replacement"),
    [("sora-2", "2026-09-24", "gen4.5"), ("sora-2-pro", "2026-09-24", "veo-3.1-generate-preview"),
     ("gen3a_turbo", "2026-06-10", "gen4_turbo")],
)
def test_it_refuses_a_retired_model_through_the_api_before_any_call(client_owner, model, date, replacement):
    for endpoint in ("generate", "estimate"):
        if endpoint == "generate":
            response = client_owner.post("/api/video/generate", body(model=model), format="json")
        else:
            response = client_owner.get("/api/video/estimate-cost", body(model=model))
        error = response.json()["error"]
        assert response.status_code == 400 and error["code"] == "model_retired", error
        assert f"retired on {date}" in error["message"] and replacement in error["message"]
        assert replacement in error["replacements"]
    assert not Job.objects.exists()


def test_it_warns_on_the_generate_page_and_refuses_a_retired_model_as_a_form_error(client, owner, veo_on):
    client.force_login(owner)
    page = client.get("/generate/")
    html = page.content.decode()
    assert 'href="/generate/providers/"' in html
    info = json.loads(html.split('id="model-info" type="application/json">')[1].split("</script>")[0])
    assert info["veo-3.0-generate-001"]["status"] == "deprecated" and "sunset 2026-06-30" in info["veo-3.0-generate-001"]["warning"]
    assert info["sora-2"]["status"] == "retired" and "will be refused" in info["sora-2"]["warning"]
    assert info["gen4.5"]["warning"] == ""
    assert "Sora 2 — retired 2026-09-24" in html and "deprecated, sunset 2026-06-30" in html

    form = {"prompt": "A can", "mood": 50, "aspect_ratio": "16:9", "duration": 4, "resolution": "720p", "tier": "standard"}
    refused = client.post("/generate/", {**form, "model": "sora-2"})
    assert refused.status_code == 200 and not Job.objects.exists()
    assert "was retired on 2026-09-24; use veo-3.1-generate-preview, gen4.5" in refused.content.decode()
    as_json = client.post("/generate/", {**form, "model": "gen3a_turbo"}, HTTP_ACCEPT="application/json")
    assert as_json.status_code == 400 and as_json.json()["error"]["code"] == "model_retired"
    assert as_json.json()["error"]["replacements"] == ["gen4_turbo", "gen4.5"]

    queued = client.post("/generate/", {**form, "duration": 8, "model": "veo-3.0-generate-001"}, HTTP_ACCEPT="application/json")
    assert queued.status_code == 202, queued.content
    generation = VideoGeneration.objects.get(job_id=queued.json()["id"])
    assert (generation.provider, generation.model) == ("veo", "veo-3.0-generate-001")
    assert "deprecated" in queued.json()["warnings"][0]
    redirected = client.post("/generate/", {**form, "duration": 8, "model": "veo-3.0-generate-001", "prompt": "Another"}, follow=True)
    assert "is deprecated (sunset 2026-06-30)" in redirected.content.decode()  # a message on the job page
