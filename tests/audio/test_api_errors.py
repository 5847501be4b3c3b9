"""The audio API names the field to fix for every refusal an integrator can act on (provider,
script length, mood, duration, language, a voice of another language), refuses a transcription
language the recogniser cannot hear before queueing a job that can only fail, and says why a
request has no captions (music has no words; a canceled job) instead of "not finished yet"."""

from __future__ import annotations

import pytest

from audio import services
from audio.models import AudioRequest
from mediastudio.jobs.services import job_cancel
from tests.audio.test_services import SHORT, make_video_with_speech, store

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"type": "voiceover", "script": "Hello there.", "provider": "nope"}, "provider"),
        ({"type": "voiceover", "script": "Hello there.", "provider": "elevenlabs"}, "provider"),
        ({"type": "voiceover", "script": "Hello there. " * 500}, "script"),
        ({"type": "voiceover", "script": "Hello there.", "voice": "en-us", "language": "fr"}, "voice"),
        ({"type": "voiceover", "script": "Nous avons pour vous une lampe, et elle est douce avec vous dans le salon.",
          "voice": "en-us"}, "voice"),
        ({"type": "voiceover", "script": "Hello there.", "language": "klingon"}, "language"),
        ({"type": "music", "mood": 50, "duration": 1000}, "duration"),
        ({"type": "music", "mood": 50, "duration": 5, "provider": "nope"}, "provider"),
    ],
)
def test_a_refusal_names_the_field(client_owner, payload, field):
    response = client_owner.post("/api/audio/generate", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"], response.json()
    assert not AudioRequest.objects.exists()


def test_a_mood_out_of_range_names_the_field_in_the_service(workspace):
    with pytest.raises(services.ApplicationError) as caught:
        services.music_request(workspace=workspace, mood=101, duration=5)
    assert "mood" in caught.value.extra["fields"]


@pytest.mark.parametrize(("language", "code"), [("klingon", "invalid"), ("fr", "unsupported_language")])
def test_a_language_the_bundled_recogniser_cannot_hear_is_refused_before_queueing(client_owner, workspace, tmp_path,
                                                                                 language, code):
    video = store(workspace, make_video_with_speech(tmp_path), "video")
    response = client_owner.post("/api/audio/transcribe", {"asset": video.pk, "language": language}, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == code and "language" in error["fields"]
    assert not AudioRequest.objects.exists()
    # English (and a regional English) is still accepted.
    response = client_owner.post("/api/audio/transcribe", {"asset": video.pk, "language": "en-GB"}, format="json")
    assert response.status_code == 202, response.content


def test_captions_say_why_there_are_none(client_owner, workspace, owner):
    music = services.music_request(workspace=workspace, user=owner, mood=40, duration=3)
    response = client_owner.get(f"/api/audio/jobs/{music.pk}/captions.srt")
    assert response.status_code == 409 and "Music has no words" in response.json()["error"]["message"]

    voiceover = services.voiceover_request(workspace=workspace, user=owner, script=SHORT, voice="en-us")
    response = client_owner.get(f"/api/audio/jobs/{voiceover.pk}/captions.srt")
    assert response.status_code == 409 and "not finished" in response.json()["error"]["message"]
    job_cancel(job=voiceover.job)
    response = client_owner.get(f"/api/audio/jobs/{voiceover.pk}/captions.vtt")
    assert response.status_code == 409 and "was canceled" in response.json()["error"]["message"]
