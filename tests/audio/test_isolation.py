"""Another workspace's audio does not exist for you: pages, API and downloads answer 404 and leak
nothing; its assets cannot be transcribed or referenced; a viewer's writes are 403."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audio import services
from audio.models import AudioRequest
from mediastudio.jobs.models import Job
from tests.audio.test_services import store

pytestmark = pytest.mark.django_db


@pytest.fixture
def theirs(other_workspace, outsider):
    request = services.music_request(workspace=other_workspace, user=outsider, mood=20, duration=2)
    request.words = [{"text": "SecretWord", "start": 0.0, "end": 0.5, "matched": True}]
    request.script = "SecretWord"
    request.save()
    return request


@pytest.fixture
def their_audio(other_workspace, tmp_path):
    from audio.providers.procedural_music import ProceduralMusicProvider

    ProceduralMusicProvider(config={}).generate(mood=50, duration=1.5, out_path=tmp_path / "t.wav", seed=1)
    return store(other_workspace, tmp_path / "t.wav", "audio")


@pytest.mark.parametrize("path", ["/api/audio/jobs/{pk}", "/api/audio/jobs/{pk}/captions.srt", "/api/audio/jobs/{pk}/captions.ass"])
def test_the_api_answers_404_for_another_workspaces_request(api_client, owner, theirs, path):
    api_client.force_authenticate(owner)
    response = api_client.get(path.format(pk=theirs.pk))
    assert response.status_code == 404
    assert b"SecretWord" not in response.content


def test_another_workspaces_requests_are_not_listed(api_client, owner, theirs):
    api_client.force_authenticate(owner)
    assert api_client.get("/api/audio/jobs").json()["count"] == 0
    assert api_client.get(f"/api/audio/jobs?workspace={theirs.workspace_id}").json()["count"] == 0


@pytest.mark.parametrize("name", ["audio:detail", "audio:words"])
def test_pages_answer_404_for_another_workspaces_request(client, owner, theirs, name):
    client.force_login(owner)
    response = client.get(reverse(name, args=[theirs.pk]))
    assert response.status_code == 404
    assert b"SecretWord" not in response.content


def test_caption_page_downloads_answer_404_too(client, owner, theirs):
    client.force_login(owner)
    assert client.get(reverse("audio:captions", args=[theirs.pk, "vtt"])).status_code == 404


def test_another_workspaces_asset_cannot_be_transcribed(api_client, client, owner, their_audio):
    api_client.force_authenticate(owner)
    response = api_client.post("/api/audio/transcribe", {"asset": their_audio.pk}, format="json")
    assert response.status_code == 400 and "asset" in response.json()["error"]["fields"]
    client.force_login(owner)
    assert client.get(reverse("audio:transcribe") + f"?asset={their_audio.pk}").status_code == 404
    assert client.post(reverse("audio:transcribe"), {"asset": their_audio.pk}).status_code == 404
    assert not Job.objects.filter(kind="transcription").exists()


def test_a_campaign_of_another_workspace_cannot_be_attached(api_client, owner, other_workspace):
    from tests.factories import CampaignFactory

    theirs = CampaignFactory(workspace=other_workspace)
    api_client.force_authenticate(owner)
    response = api_client.post("/api/audio/generate", {"type": "music", "mood": 5, "duration": 2, "campaign": theirs.pk}, format="json")
    assert response.status_code == 400 and "campaign" in response.json()["error"]["fields"]


def test_a_viewer_can_read_but_not_start_audio_jobs(client, api_client, viewer, workspace, owner, tmp_path):
    mine = services.music_request(workspace=workspace, user=owner, mood=20, duration=2)
    from audio.providers.procedural_music import ProceduralMusicProvider

    ProceduralMusicProvider(config={}).generate(mood=50, duration=1.5, out_path=tmp_path / "m.wav", seed=2)
    asset = store(workspace, tmp_path / "m.wav", "audio")
    client.force_login(viewer)
    assert client.get(reverse("audio:detail", args=[mine.pk])).status_code == 200
    assert client.post(reverse("audio:voiceover-create"), {"script": "Hi.", "voice": "en-us", "rate": 175, "pitch": 50}).status_code == 403
    assert client.post(reverse("audio:music-create"), {"mood": 10, "duration": 3}).status_code == 403
    assert client.post(reverse("audio:transcribe"), {"asset": asset.pk}).status_code == 403
    api_client.force_authenticate(viewer)
    assert api_client.post("/api/audio/transcribe", {"asset": asset.pk}, format="json").status_code == 403
    assert AudioRequest.objects.count() == 1
