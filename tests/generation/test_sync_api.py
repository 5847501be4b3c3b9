"""Conveniences: create-and-wait (the API's bounded `wait`, and `manage.py video_generate --wait`),
remix of a finished job on a provider that remixes (the OpenAI video protocol's fake), and the list
of a provider's recent jobs (400 where the vendor has no listing)."""

from __future__ import annotations

import datetime as dt
import io
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from generation.models import VideoGeneration
from generation.services import attempts_poll_due
from mediastudio.jobs.models import Job
from tests.generation.conftest import ffprobe_video
from tests.generation.engine_fakes import ScriptedProvider, register, run_job
from tests.generation.providers.cases.openai_video import CASE as OPENAI_CASE

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_ok(monkeypatch, settings):
    ScriptedProvider.reset(polls_to_finish=1, never_finish=False)
    register(monkeypatch, settings, ScriptedProvider)
    settings.VIDEO_RESULT_PREVIEWS = False


def body(**kw):
    return {"prompt": "Cold brew can on marble", "tier": "standard", "duration": 4, **kw}


def test_it_waits_for_the_finished_video_when_asked(client_owner, fake_ok):
    started = time.monotonic()
    response = client_owner.post("/api/video/generate", body(wait=20), format="json")
    elapsed = time.monotonic() - started
    data = response.json()
    assert response.status_code == 200, data
    assert data["status"] == "succeeded" and data["progress"] == 100 and data["result_url"]
    assert data["attempts"][0]["polls"] >= 1 and elapsed < 15  # the vendor's 2 s poll interval, not the 20 s bound


def test_it_answers_202_with_the_running_job_when_the_wait_runs_out(client_owner, fake_ok):
    ScriptedProvider.never_finish = True
    started = time.monotonic()
    response = client_owner.post("/api/video/generate", body(wait=3), format="json")
    elapsed = time.monotonic() - started
    assert response.status_code == 202 and response.json()["status"] == "running"
    assert response.json()["attempts"][0]["status"] == "running" and 2.5 < elapsed < 8
    assert client_owner.get(f"/api/video/jobs/{response.json()['id']}").json()["status"] == "running"


def test_it_bounds_the_wait(client_owner, fake_ok, settings):
    settings.VIDEO_GENERATE_MAX_WAIT = 30
    response = client_owner.post("/api/video/generate", body(wait=31), format="json")
    assert response.status_code == 400 and "At most 30 seconds" in response.json()["error"]["fields"]["wait"][0]
    assert not Job.objects.exists()


def test_the_command_generates_waits_with_progress_and_prints_the_video_path(workspace, owner, fake_ok):
    out, err = io.StringIO(), io.StringIO()
    call_command("video_generate", "--prompt", "A can on marble", "--tier", "standard", "--duration", "4", "--wait",
                 "--timeout", "30", stdout=out, stderr=err)
    lines = out.getvalue().strip().splitlines()
    generation = VideoGeneration.objects.get()
    assert lines[0].startswith(f"job {generation.job_id}: fake_ok/fake_ok-1 $1.00")
    assert "succeeded on fake_ok" in lines[1]
    path = Path(lines[-1])
    assert path == Path(generation.result_asset.file.path) and ffprobe_video(path)["frames"] >= 20
    assert "rendering: 100%" in err.getvalue()  # the progress bar reached the end


def test_the_command_queues_without_wait_and_refuses_a_retired_model(workspace, owner, fake_ok):
    out = io.StringIO()
    call_command("video_generate", "--prompt", "A can", "--tier", "standard", "--duration", "4", stdout=out)
    assert VideoGeneration.objects.get().job.status == "queued" and out.getvalue().startswith("job ")
    with pytest.raises(CommandError, match="retired on 2026-09-24; use veo-3.1-generate-preview"):
        call_command("video_generate", "--prompt", "A can", "--model", "sora-2", stdout=io.StringIO())


# ---------------------------------------------------------------------------- remix and listing (OpenAI video fake)


@pytest.fixture
def gateway(settings):
    fake = OPENAI_CASE.start_fake()
    for key, value in OPENAI_CASE.config(fake).items():
        setattr(settings, key, value)
    settings.OPENAI_VIDEO_WEBHOOK_SECRET = ""  # polls only
    settings.SAFE_FETCH_ALLOW_LOOPBACK = True
    settings.VIDEO_RESULT_PREVIEWS = False
    settings.VIDEO_PROVIDER_CONFIG = {"openai_video": {"HTTP_SLEEP": lambda seconds: None}}
    yield fake
    fake.stop()


def drive(job_id: str, rounds: int = 20) -> Job:
    run_job(job_id)
    now = timezone.now()
    for _ in range(rounds):
        job = Job.objects.get(pk=job_id)
        if job.is_final:
            return job
        now += dt.timedelta(seconds=20)
        attempts_poll_due(now=now)
    return Job.objects.get(pk=job_id)


def test_it_remixes_a_finished_job_on_a_provider_that_remixes(client_owner, gateway):
    first = client_owner.post("/api/video/generate", {"prompt": "A red bicycle on a sunny wall", "provider": "openai_video",
                                                      "model": "gateway-default", "duration": 4, "aspect_ratio": "16:9"},
                              format="json").json()
    assert drive(first["id"]).status == "succeeded"
    source_video = client_owner.get(f"/api/video/jobs/{first['id']}").json()["attempts"][0]["external_id"]

    remix = client_owner.post("/api/video/remix", {"job": first["id"], "prompt": "Same shot at night, neon signs"}, format="json")
    assert remix.status_code == 202, remix.json()
    assert drive(remix.json()["id"]).status == "succeeded"

    detail = client_owner.get(f"/api/video/jobs/{remix.json()['id']}").json()
    # The fake serves one MP4 for every video, so content-addressed storage gives both jobs one asset.
    assert detail["attempts"][0]["provider"] == "openai_video" and detail["result_asset"]
    assert detail["attempts"][0]["external_id"] != source_video
    [call] = gateway.calls("POST", f"/v1/videos/{source_video}/remix")
    assert call.json["prompt"].startswith("Same shot at night, neon signs")
    assert VideoGeneration.objects.get(job_id=remix.json()["id"]).remix_of.job_id == Job.objects.get(pk=first["id"]).pk


def test_it_refuses_to_remix_on_a_provider_without_remix(client_owner, fake_ok):
    created = client_owner.post("/api/video/generate", body(), format="json").json()
    drive(created["id"])
    response = client_owner.post("/api/video/remix", {"job": created["id"], "prompt": "At night"}, format="json")
    assert response.status_code == 400 and "cannot remix" in response.json()["error"]["message"]


def test_it_lists_a_providers_recent_jobs_hiding_other_workspaces_prompts(api_client, owner, outsider, gateway, settings):
    api_client.force_authenticate(owner)
    created = api_client.post("/api/video/generate", {"prompt": "Espresso pour in slow motion", "provider": "openai_video",
                                                      "model": "gateway-default", "duration": 4, "aspect_ratio": "16:9"},
                              format="json").json()
    drive(created["id"])
    external_id = api_client.get(f"/api/video/jobs/{created['id']}").json()["attempts"][0]["external_id"]

    listing = api_client.get("/api/video/providers/openai_video/jobs", {"limit": 5})
    assert listing.status_code == 200, listing.json()
    [job] = [j for j in listing.json()["jobs"] if j["id"] == external_id]
    assert job["job"] == created["id"] and job["status"] == "completed" and "Espresso" in job["prompt"]
    assert gateway.calls("GET", "/v1/videos")[-1].query["limit"] == "5"

    api_client.force_authenticate(outsider)
    [seen] = [j for j in api_client.get("/api/video/providers/openai_video/jobs").json()["jobs"] if j["id"] == external_id]
    assert seen["job"] is None and seen["prompt"] is None and seen["raw"] is None and seen["status"] == "completed"

    settings.RUNWAY_API_KEY = "key_test"
    unsupported = api_client.get("/api/video/providers/runway/jobs")
    assert unsupported.status_code == 400 and unsupported.json()["error"]["message"] == "Runway has no API to list its jobs."
    assert api_client.get("/api/video/providers/openai_video/jobs", {"limit": 0}).status_code == 400
    api_client.force_authenticate(None)
    assert api_client.get("/api/video/providers/openai_video/jobs").status_code in (401, 403)
