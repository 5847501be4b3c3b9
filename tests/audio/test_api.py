"""The audio API: generate (voiceover, music), transcribe, jobs list/detail, caption downloads,
voices; the API's error format and the permission edges (anonymous, viewer, wrong method)."""

from __future__ import annotations

import pysubs2
import pytest

from audio.models import AudioRequest
from mediastudio.jobs.models import Job
from tests.audio.test_services import SHORT, make_video_with_speech, store

pytestmark = pytest.mark.django_db


def _generate_voiceover(client, django_capture_on_commit_callbacks, **extra):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/audio/generate", {"type": "voiceover", "script": SHORT, "voice": "en-us", **extra}, format="json")
    return response


def test_it_generates_a_voiceover_and_serves_its_exact_captions(client_owner, django_capture_on_commit_callbacks, tmp_path):
    response = _generate_voiceover(client_owner, django_capture_on_commit_callbacks, rate=170)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["kind"] == "voiceover" and body["job"]["status"] in ("queued", "succeeded")

    detail = client_owner.get(f"/api/audio/jobs/{body['id']}").json()
    assert detail["job"]["status"] == "succeeded" and detail["asset"]
    assert [w["text"] for w in detail["words"]] == SHORT.split()
    assert detail["alignment"]["method"] == "engine" and detail["transcript"]["language"] == "en"
    assert set(detail["captions"]) == {"srt", "vtt", "ass"}

    types = {"srt": "application/x-subrip", "vtt": "text/vtt", "ass": "text/x-ssa"}
    for fmt, content_type in types.items():
        download = client_owner.get(f"/api/audio/jobs/{body['id']}/captions.{fmt}")
        assert download.status_code == 200
        assert download["Content-Type"].startswith(content_type)
        assert "attachment" in download["Content-Disposition"] and f".{fmt}" in download["Content-Disposition"]
        path = tmp_path / f"c.{fmt}"
        path.write_bytes(download.content)
        assert " ".join(e.plaintext.replace("\n", " ") for e in pysubs2.load(str(path))) == SHORT
    assert client_owner.get(f"/api/audio/jobs/{body['id']}/captions.txt").status_code == 404


def test_it_generates_music_with_tempo_and_key(client_owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_owner.post("/api/audio/generate", {"type": "music", "mood": 30, "duration": 3, "seed": 5,
                                                              "tempo": 80, "key": "D major"}, format="json")
    assert response.status_code == 202, response.content
    detail = client_owner.get(f"/api/audio/jobs/{response.json()['id']}").json()
    assert detail["job"]["status"] == "succeeded" and detail["asset"]
    assert detail["details"]["key"] == "D major" and abs(detail["details"]["tempo"] - 80) < 80 * 0.16
    assert detail["captions"] == {}
    captions = client_owner.get(f"/api/audio/jobs/{detail['id']}/captions.srt")
    assert captions.status_code == 409 and captions.json()["error"]["code"] == "conflict"


def test_it_transcribes_an_asset(client_owner, workspace, tmp_path, django_capture_on_commit_callbacks):
    video = store(workspace, make_video_with_speech(tmp_path), "video")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_owner.post("/api/audio/transcribe", {"asset": video.pk}, format="json")
    assert response.status_code == 202, response.content
    detail = client_owner.get(f"/api/audio/jobs/{response.json()['id']}").json()
    assert detail["kind"] == "transcription" and detail["source_asset"] == video.pk
    assert detail["job"]["status"] == "succeeded" and detail["words"]
    assert all("probability" in w for w in detail["words"])
    vtt = client_owner.get(f"/api/audio/jobs/{detail['id']}/captions.vtt")
    assert vtt.status_code == 200 and vtt.content.startswith(b"WEBVTT")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"type": "voiceover"}, "script"),
        ({"type": "music", "mood": 50}, "duration"),
        ({"type": "music", "mood": 150, "duration": 5}, "mood"),
        ({"type": "speech", "script": "hi"}, "type"),
    ],
)
def test_it_answers_invalid_input_in_the_api_error_format(client_owner, payload, field):
    response = client_owner.post("/api/audio/generate", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Job.objects.exists()


def test_a_domain_refusal_is_a_400_with_its_code(client_owner):
    response = client_owner.post("/api/audio/generate", {"type": "voiceover", "script": "Hello there.", "voice": "zz-nope"}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"
    response = client_owner.post("/api/audio/generate", {"type": "voiceover", "script": "Hello.", "provider": "openai_speech"}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "provider_unavailable"


def test_it_lists_jobs_by_kind_and_the_engines_voices(client_owner, workspace, owner):
    from audio import services

    services.music_request(workspace=workspace, user=owner, mood=10, duration=2)
    services.voiceover_request(workspace=workspace, user=owner, script="Hi there.")
    everything = client_owner.get("/api/audio/jobs").json()
    assert everything["count"] == 2
    music = client_owner.get("/api/audio/jobs?kind=music").json()
    assert [r["kind"] for r in music["results"]] == ["music"]
    voices = client_owner.get("/api/audio/voices").json()
    assert {"en-us", "fr-fr"} <= {v["id"] for v in voices}
    assert client_owner.get("/api/audio/voices?provider=elevenlabs").status_code == 400


def test_anonymous_is_refused_and_a_viewer_cannot_start_jobs(api_client, viewer, workspace):
    assert api_client.post("/api/audio/generate", {"type": "music", "mood": 1, "duration": 2}, format="json").status_code in (401, 403)
    assert api_client.get("/api/audio/jobs").status_code in (401, 403)
    api_client.force_authenticate(viewer)
    response = api_client.post("/api/audio/generate", {"type": "music", "mood": 1, "duration": 2}, format="json")
    assert response.status_code == 403
    assert api_client.get("/api/audio/jobs").status_code == 200  # reading is fine
    assert not AudioRequest.objects.exists()


def test_wrong_methods_are_405(client_owner):
    assert client_owner.get("/api/audio/generate").status_code == 405
    assert client_owner.delete("/api/audio/jobs").status_code == 405
