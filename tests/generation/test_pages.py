"""The Generate page: renders with the mood suggestions, creates a job from a form post (JSON or
redirect), refuses viewers, scopes the video job page to the workspace."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from generation.models import VideoGeneration
from tests.generation.providers.harness import make_png

pytestmark = pytest.mark.django_db


def post_data(**kw):
    return {"prompt": "Cold brew can on marble", "mood": 80, "aspect_ratio": "9:16", "duration": 6, "resolution": "480p",
            "tier": "draft", **kw}


def test_it_renders_the_generate_page_with_mood_suggestions(client, owner):
    client.force_login(owner)
    response = client.get("/generate/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="mood-suggestions"' in html and "data-generate-form" in html
    suggestions = response.context["suggestions"]
    assert suggestions["90"]["category"] == "high_energy" and suggestions["10"]["category"] == "surreal_trip"


def test_it_creates_a_job_from_the_form_as_json(client, owner, tmp_path):
    client.force_login(owner)
    photo = SimpleUploadedFile("can.png", make_png(tmp_path / "can.png", width=64, height=96).read_bytes(), content_type="image/png")
    response = client.post("/generate/", post_data(image=photo), HTTP_ACCEPT="application/json")
    assert response.status_code == 202, response.content
    body = json.loads(response.content)
    generation = VideoGeneration.objects.get(job_id=body["id"])
    assert generation.image_asset is not None and generation.image_asset.kind == "image"
    assert (generation.aspect_ratio, generation.duration, generation.strategy["category"]) == ("9:16", 6.0, "high_energy")
    assert body["chain"][0]["provider"] == "animatic"


def test_it_redirects_to_the_video_job_page_without_javascript(client, owner):
    client.force_login(owner)
    response = client.post("/generate/", post_data())
    generation = VideoGeneration.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/generate/jobs/{generation.job_id}/"
    page = client.get(response["Location"])
    assert page.status_code == 200 and b"Providers tried" in page.content


def test_the_video_job_page_names_the_mood_camera_and_lighting_as_the_generate_page_does(client, owner):
    client.force_login(owner)
    client.post("/generate/", post_data(camera_move="static_focus", lighting="golden_hour"))
    generation = VideoGeneration.objects.get()
    html = client.get(f"/generate/jobs/{generation.job_id}/").content.decode()
    facts = html[html.index('<dl class="facts">'):html.index("</dl>")]
    assert "High energy" in facts and "Static focus pull / Golden hour" in facts
    assert "high_energy" not in facts and "static_focus" not in facts  # the keys stay in the strategy's JSON


def test_it_refuses_a_viewer_and_hides_other_workspaces_jobs(client, owner, viewer, outsider):
    client.force_login(viewer)
    assert client.post("/generate/", post_data()).status_code == 403
    client.force_login(owner)
    client.post("/generate/", post_data())
    job_id = VideoGeneration.objects.get().job_id
    client.force_login(outsider)
    assert client.get(f"/generate/jobs/{job_id}/").status_code == 404


def test_it_sends_anonymous_visitors_to_login(client):
    response = client.get("/generate/")
    assert response.status_code == 302 and "/login/" in response["Location"]
