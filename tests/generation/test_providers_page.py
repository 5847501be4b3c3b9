"""The Providers page and API: each provider's status (enabled, off with what to set, cooling down
until a time, last error with its time and never another workspace's prompt), the capability
matrix, lifecycle and prices with their source, date and "unconfirmed"."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from generation.models import ProviderHealth, VideoAttempt, VideoGeneration
from mediastudio.jobs.models import Job

pytestmark = pytest.mark.django_db

SECRET_PROMPT = "Unreleased Orion phone launch teaser"


def section(html: str, identifier: str) -> str:
    start = html.index(f'data-provider="{identifier}"')
    end = html.find("<section", start)
    return html[start:end if end != -1 else None]


@pytest.fixture
def failed_elsewhere(other_workspace):
    """A runway attempt of another workspace that failed with an error quoting its prompt."""
    job = Job.objects.create(workspace=other_workspace, kind=Job.Kind.VIDEO, task="x", status=Job.Status.FAILED)
    generation = VideoGeneration.objects.create(workspace=other_workspace, job=job, prompt=SECRET_PROMPT,
                                                enriched_prompt=f"{SECRET_PROMPT}, cinematic")
    at = timezone.now() - dt.timedelta(minutes=3)
    VideoAttempt.objects.create(generation=generation, provider="runway", model="gen4.5", status="failed",
                                error=f"runway: HTTP 400 prompt '{SECRET_PROMPT}, cinematic' was rejected", error_code="invalid_input",
                                estimated_cost=Decimal("0.6"), finished_at=at)
    return at


def test_it_shows_each_providers_status_capabilities_lifecycle_and_prices(client, owner, settings):
    settings.REPLICATE_API_TOKEN = "r8_test"
    client.force_login(owner)
    html = client.get("/generate/providers/").content.decode()

    animatic = section(html, "animatic")
    assert 'data-status="enabled"' in animatic and re.search(r"<td class=\"small\" data-price>free", animatic)
    runway = section(html, "runway")
    assert 'data-status="off"' in runway and "off: set RUNWAY_API_KEY" in runway
    kling = section(html, "kling")
    assert "off: set KLING_ACCESS_KEY, KLING_SECRET_KEY" in kling
    assert 'data-status="enabled"' in section(html, "replicate")

    # The matrix: gen4.5 does text- and image-to-video, 2-10 s, six aspect ratios; no audio, no remix.
    row = re.search(r'<tr data-model="gen4.5".*?</tr>', runway, re.S).group(0)
    cells = [re.sub(r"<.*?>", "", c).strip() for c in re.findall(r"<td.*?>(.*?)</td>", row, re.S)]
    assert cells[1:5] == ["✓", "✓", "—", "—"]
    assert cells[5] == "2, 3, 4, 5, 6, 7, 8, 9, 10 s" and "21:9" in cells[6] and cells[7] == "720p"
    assert cells[8:10] == ["—", "—"] and cells[10].startswith("active") and cells[11].startswith("$0.12/s")
    veo = section(html, "veo")
    veo_row = re.search(r'<tr data-model="veo-3.1-generate-preview".*?</tr>', veo, re.S).group(0)
    assert veo_row.count("✓") == 4  # t2v, i2v, first/last frame, audio; three reference images
    assert re.search(r"<td>3</td>", veo_row)

    sora = re.search(r'<tr data-model="sora-2".*?</tr>', section(html, "openai_video"), re.S).group(0)
    assert 'data-lifecycle="retired"' in sora and "2026-09-24" in sora and "use veo-3.1-generate-preview, gen4.5" in sora
    assert "unconfirmed" in sora and 'href="https://platform.openai.com/docs/pricing"' in sora and "2025-10-06" in sora
    deprecated = re.search(r'<tr data-model="veo-3.0-generate-001".*?</tr>', veo, re.S).group(0)
    assert "deprecated" in deprecated and "sunset 2026-06-30" in deprecated and "move to veo-3.1-generate-preview" in deprecated
    confirmed = re.search(r'<tr data-model="kling-2.1-standard".*?</tr>', section(html, "fal"), re.S).group(0)
    assert "unconfirmed" not in confirmed and "2026-11-21" in confirmed and "$0.056/s" in confirmed
    assert "standard</strong></td><td>runway → veo" in html  # the tiers' chains


def test_it_shows_a_cooling_provider_and_the_last_error_without_anothers_prompt(client, api_client, owner, settings,
                                                                               failed_elsewhere):
    settings.RUNWAY_API_KEY = "key_test"
    until = timezone.now() + dt.timedelta(minutes=10)
    ProviderHealth.objects.create(provider="runway", consecutive_failures=3, cooldown_until=until, last_error="x")
    client.force_login(owner)
    html = client.get("/generate/providers/").content.decode()
    runway = section(html, "runway")
    assert 'data-status="cooling"' in runway and until.isoformat() in runway and "3 failures in a row" in runway
    assert "rejected" in runway and "[invalid_input]" in runway and failed_elsewhere.isoformat() in runway
    assert "Orion" not in html

    api_client.force_authenticate(owner)
    data = {p["identifier"]: p for p in api_client.get("/api/video/providers").json()["providers"]}
    runway_api = data["runway"]
    assert (runway_api["enabled"], runway_api["status"]) == (True, "cooling")
    assert runway_api["cooling_until"] == until.isoformat()
    assert runway_api["last_error"] == "runway: HTTP 400 prompt '[prompt]' was rejected"
    assert runway_api["last_error_at"] == failed_elsewhere.isoformat() and runway_api["last_error_code"] == "invalid_input"
    assert data["veo"]["last_error"] is None and data["veo"]["needs"] == ["GEMINI_API_KEY"] and data["veo"]["enabled"] is False
    assert data["animatic"]["status"] == "enabled" and data["animatic"]["cooling_until"] is None

    ProviderHealth.objects.filter(provider="runway").update(cooldown_until=timezone.now() - dt.timedelta(seconds=1))
    again = {p["identifier"]: p for p in api_client.get("/api/video/providers").json()["providers"]}
    assert again["runway"]["status"] == "enabled" and again["runway"]["cooling_until"] is None


def test_it_is_linked_from_generate_and_needs_a_login(client, owner):
    assert client.get("/generate/providers/").status_code == 302
    client.force_login(owner)
    assert 'href="/generate/providers/"' in client.get("/generate/").content.decode()
    assert client.get("/generate/providers/").status_code == 200
