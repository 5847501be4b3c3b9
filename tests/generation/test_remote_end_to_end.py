"""Issue 5's "done when", end to end through the API against the providers' fake servers: text-to-video
and image-to-video on Runway, Veo and Replicate with progress that moves and a stored, playable
MediaAsset; cancel releases the reservation and stops the vendor's task; a moderation failure falls
back to the next provider of the tier with both attempts and their costs in the API and on the job
page; sora-2 is refused at once, naming its retirement date and replacements.

Polls are driven by calling the engine's poll entry point (`attempts_poll_due`) with a clock moved
forward, as the poll loop does in a worker."""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from generation.models import VideoGeneration
from generation.services import attempts_poll_due
from media_assets.models import MediaAsset
from mediastudio.jobs.models import Job
from tests.factories import CampaignFactory
from tests.generation.conftest import ffprobe_video
from tests.generation.engine_fakes import run_job
from tests.generation.providers.cases import all_cases
from tests.generation.providers.harness import make_png

pytestmark = pytest.mark.django_db

CASES = {case.id: case for case in all_cases()}


@pytest.fixture
def fakes(settings):
    """Runway, Veo and Replicate fakes running, their keys and base URLs set as the studio reads them."""
    started = {}
    for name in ("runway", "veo", "replicate"):
        case = CASES[name]
        fake = case.start_fake()
        started[name] = fake
        for key, value in case.config(fake).items():
            setattr(settings, key, value)
    settings.SAFE_FETCH_ALLOW_LOOPBACK = True
    settings.VIDEO_RESULT_PREVIEWS = False  # keeps each test to the download and the probe
    # Retries of the shared HTTP client sleep for nothing here.
    settings.VIDEO_PROVIDER_CONFIG = {name: {"HTTP_SLEEP": lambda seconds: None} for name in started}
    yield started
    for fake in started.values():
        fake.stop()


@pytest.fixture
def image_asset(workspace, owner, tmp_path):
    from media_assets.services import asset_create_from_file

    path = make_png(tmp_path / "product.png", width=128, height=72)
    return asset_create_from_file(workspace=workspace, path=path, source="uploaded", kind="image", original_name="product.png",
                                  user=owner)


def drive(job_id: str, *, rounds: int = 40) -> list[int]:
    """Run the job's task, then sweep due attempts with the clock moved 15 s per round, until the job
    is final. Returns the job's progress after each round."""
    run_job(job_id)
    seen = []
    now = timezone.now()
    for _ in range(rounds):
        job = Job.objects.get(pk=job_id)
        seen.append(job.progress)
        if job.is_final:
            break
        now += dt.timedelta(seconds=15)
        attempts_poll_due(now=now)
    return seen


def assert_stored_video(detail: dict) -> MediaAsset:
    """The stored clip is the one asked for: its length, and its aspect ratio at its resolution (the
    fakes render each request's own clip)."""
    asset = MediaAsset.objects.get(pk=detail["result_asset"])
    assert asset.kind == "video" and asset.source == "generated"
    info = ffprobe_video(Path(asset.file.path))
    wide = {"16:9": (1280, 720), "9:16": (720, 1280)}[detail["aspect_ratio"]]
    assert info["codec"] == "h264" and (info["width"], info["height"]) == wide
    assert abs(info["duration"] - detail["duration"]) < 0.1 and info["frames"] >= 4 * detail["duration"] - 1
    assert (asset.width, asset.height) == wide and abs(asset.duration - detail["duration"]) < 0.1
    return asset


@pytest.mark.parametrize(
    ("provider", "model", "duration", "image"),
    [
        ("runway", "gen4.5", 5, False),
        ("runway", "gen4_turbo", 5, True),
        ("veo", "veo-3.1-fast-generate-preview", 8, False),
        ("veo", "veo-3.1-fast-generate-preview", 6, True),
        ("replicate", "google/veo-3.1", 8, False),
        ("replicate", "kwaivgi/kling-v2.1", 5, True),
    ],
)
def test_it_generates_through_each_remote_provider_with_moving_progress(
    client_owner, workspace, fakes, image_asset, provider, model, duration, image
):
    campaign = CampaignFactory(workspace=workspace, budget=Decimal("20"))
    body = {"prompt": "A cold brew can on wet marble", "provider": provider, "model": model, "allow_fallback": False,
            "duration": duration, "aspect_ratio": "16:9", "resolution": "720p", "campaign": campaign.pk}
    if image:
        body["image_asset"] = image_asset.pk
    created = client_owner.post("/api/video/generate", body, format="json")
    assert created.status_code == 202, created.json()
    job_id = created.json()["id"]
    assert created.json()["chain"] == [{"provider": provider, "model": model, "estimate": created.json()["chain"][0]["estimate"],
                                        "poll_interval": created.json()["chain"][0]["poll_interval"],
                                        "label": created.json()["chain"][0]["label"]}]

    seen = drive(job_id)

    detail = client_owner.get(f"/api/video/jobs/{job_id}").json()
    assert detail["status"] == "succeeded", detail["error"]
    assert seen == sorted(seen) and seen[-1] == 100
    # Vendors that report a percentage move the bar through it; Veo's operations carry none, so its
    # bar shows the submitted step until the result arrives.
    assert len({p for p in seen if 0 < p < 100}) >= (2 if CASES[provider].reports_progress else 1), seen
    [attempt] = detail["attempts"]
    assert (attempt["provider"], attempt["model"], attempt["status"]) == (provider, model, "succeeded")
    assert Decimal(attempt["actual_cost"]) > 0 and Decimal(detail["actual_cost"]) == Decimal(attempt["actual_cost"])
    assert_stored_video(detail)
    campaign.refresh_from_db()
    assert campaign.reserved == 0 and campaign.spent == Decimal(attempt["actual_cost"])
    if image:
        assert image_sent(provider, fakes[provider]) == Path(image_asset.file.path).read_bytes()


def image_sent(provider: str, fake) -> bytes:
    """The first-frame image as the vendor's fake received it, the vendor's way."""
    if provider == "runway":  # an ephemeral upload, then its runway:// URI in the task
        uri = fake.calls("POST", "/v1/image_to_video")[-1].json["promptImage"]
        return fake.uploads[uri]["data"]
    if provider == "veo":  # inline base64
        return base64.b64decode(fake.calls("POST", "/v1beta/models/")[-1].json["instances"][0]["image"]["bytesBase64Encoded"])
    sent = fake.calls("POST", "/v1/models/")[-1].json["input"]["start_image"]  # replicate: a data URI
    assert sent.startswith("data:image/png;base64,")
    return base64.b64decode(sent.partition(",")[2])


def test_it_cancels_a_running_job_releasing_the_reservation(client_owner, workspace, fakes, django_capture_on_commit_callbacks):
    fakes["runway"].switches.never_finish = True
    campaign = CampaignFactory(workspace=workspace, budget=Decimal("5"))
    created = client_owner.post("/api/video/generate", {
        "prompt": "Slow pan over a bakery counter", "provider": "runway", "model": "gen4.5", "allow_fallback": False,
        "duration": 5, "aspect_ratio": "16:9", "campaign": campaign.pk,
    }, format="json").json()
    drive(created["id"], rounds=4)
    campaign.refresh_from_db()
    assert campaign.reserved == Decimal("0.60")  # 5 s of gen4.5 at $0.12/s
    running = client_owner.get(f"/api/video/jobs/{created['id']}").json()
    assert running["status"] == "running" and running["progress"] > 5
    external_id = running["attempts"][0]["external_id"]

    with django_capture_on_commit_callbacks(execute=True):
        canceled = client_owner.post(f"/api/video/jobs/{created['id']}/cancel")

    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    assert canceled.json()["attempts"][0]["status"] == "canceled"
    campaign.refresh_from_db()
    assert (campaign.reserved, campaign.spent) == (Decimal("0"), Decimal("0"))
    assert [r.path for r in fakes["runway"].requests if r.method == "DELETE"] == [f"/v1/tasks/{external_id}"]


def test_it_falls_back_to_the_next_provider_of_the_tier_after_moderation(client_owner, client, owner, workspace, fakes, settings):
    settings.VIDEO_TIER_CHAINS = {"standard": ["runway", "veo"]}
    fakes["runway"].switches.moderation = True
    campaign = CampaignFactory(workspace=workspace, budget=Decimal("10"))
    created = client_owner.post("/api/video/generate", {
        "prompt": "A sneaker spinning on a plinth", "tier": "standard", "duration": 6, "aspect_ratio": "16:9",
        "campaign": campaign.pk,
    }, format="json").json()
    assert [c["provider"] for c in created["chain"]] == ["runway", "veo"]
    runway_estimate, veo_estimate = (Decimal(c["estimate"]) for c in created["chain"])
    assert Decimal(created["estimated_cost"]) == max(runway_estimate, veo_estimate)

    drive(created["id"])

    detail = client_owner.get(f"/api/video/jobs/{created['id']}").json()
    assert detail["status"] == "succeeded", detail["error"]
    first, second = detail["attempts"]
    assert (first["provider"], first["status"], first["error_code"]) == ("runway", "failed", "moderation")
    assert "moderation" in first["error"] and Decimal(first["estimated_cost"]) == runway_estimate
    assert Decimal(first["actual_cost"]) == 0  # a refused render is not billed
    assert (second["provider"], second["status"]) == ("veo", "succeeded")
    assert Decimal(second["estimated_cost"]) == veo_estimate and Decimal(second["actual_cost"]) == veo_estimate
    assert Decimal(detail["actual_cost"]) == veo_estimate
    assert_stored_video(detail)
    campaign.refresh_from_db()
    assert (campaign.reserved, campaign.spent) == (Decimal("0"), veo_estimate)

    client.force_login(owner)
    page = client.get(f"/generate/jobs/{created['id']}/").content.decode()
    assert 'data-attempt="runway"' in page and 'data-attempt="veo"' in page
    assert "Moved on to veo." in page  # why runway was left stays on the page after the fact
    assert f"${runway_estimate:.2f} / $0.00" in page and f"${veo_estimate:.2f} / ${veo_estimate:.2f}" in page
    assert "moderation" in page


def test_it_refuses_sora_2_at_once_naming_its_replacements(client_owner, client, owner, fakes, settings):
    settings.OPENAI_VIDEO_API_KEY = "sk-test"
    settings.OPENAI_VIDEO_BASE_URL = "http://127.0.0.1:9/v1"  # never reached
    for body in ({"model": "sora-2"}, {"provider": "openai_video", "model": "sora-2"}):
        response = client_owner.post("/api/video/generate", {"prompt": "A can", "duration": 4, **body}, format="json")
        error = response.json()["error"]
        assert response.status_code == 400 and error["code"] == "model_retired"
        assert "retired on 2026-09-24" in error["message"] and "veo-3.1-generate-preview" in error["message"]
        assert "veo-3.1-generate-preview" in error["replacements"]
    assert not Job.objects.exists() and not VideoGeneration.objects.exists()
    assert all(not fake.requests for fake in fakes.values())

    client.force_login(owner)
    page = client.post("/generate/", {"prompt": "A can", "mood": 50, "aspect_ratio": "16:9", "duration": 4,
                                      "resolution": "720p", "tier": "standard", "model": "sora-2"})
    assert page.status_code == 200 and not Job.objects.exists()
    html = page.content.decode()
    assert "data-form-error>" in html and "retired on 2026-09-24" in html and "gen4.5" in html
