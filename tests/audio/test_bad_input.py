"""Bad input on the audio pages, API and admin is answered with a field error, never a 500 or a
job that can only fail: a seed too large for its column, a filter that is not a number, a
language given without a voice, a silent video; the admin adds no request that would never run."""

from __future__ import annotations

import re
import subprocess

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from audio import services
from audio.models import AudioRequest
from audio.providers.espeak import EspeakProvider
from tests.audio.test_services import store

pytestmark = pytest.mark.django_db
HUGE = str(2**70)


def _field_errors(html: str, name: str) -> str:
    """The errors listed under one field of the form (empty when it has none)."""
    match = re.search(rf'(?s)<label for="id_{name}">.*?(?=<div class="field|<p class|</form>)', html)
    errors = re.search(r'(?s)<ul class="errorlist".*?</ul>', match.group(0)) if match else None
    return errors.group(0) if errors else ""


def test_a_music_seed_too_large_is_a_field_error_on_the_page(logged_in):
    response = logged_in.post(reverse("audio:music-create"), {"mood": 50, "duration": 5, "seed": HUGE})
    assert response.status_code == 400
    assert "less than or equal to" in _field_errors(response.content.decode(), "seed")
    assert HUGE in response.content.decode()  # what was typed is kept
    assert not AudioRequest.objects.exists()


def test_a_music_seed_too_large_is_a_field_error_in_the_api(client_owner, workspace):
    response = client_owner.post("/api/audio/generate", {"type": "music", "mood": 50, "duration": 5, "seed": 2**70}, format="json")
    assert response.status_code == 400 and "seed" in response.json()["error"]["fields"]
    with pytest.raises(services.ApplicationError):
        services.music_request(workspace=workspace, mood=50, duration=5, seed=2**63)


def test_an_unknown_key_is_shown_on_the_key_field(logged_in):
    response = logged_in.post(reverse("audio:music-create"), {"mood": 50, "duration": 5, "key": "H dorian"})
    assert response.status_code == 400
    assert "Unknown key." in _field_errors(response.content.decode(), "key")


@pytest.mark.parametrize("query,field", [("workspace=abc", "workspace"), ("kind=podcast", "kind")])
def test_a_bad_audio_jobs_filter_is_a_400(client_owner, query, field):
    response = client_owner.get(f"/api/audio/jobs?{query}")
    assert response.status_code == 400 and field in response.json()["error"]["fields"]


def test_a_language_without_a_voice_takes_that_languages_voice():
    # "fr" names no voice of its own: espeak-ng files French (France) under it.
    engine = EspeakProvider(config={})
    assert engine._voice("", "fr").id == "fr-fr"
    assert engine._voice("", "de").id == "de"
    assert engine._voice("en-us", None).id == "en-us"


def test_a_language_no_voice_speaks_is_refused_before_a_job_is_made(client_owner):
    response = client_owner.post("/api/audio/generate", {"type": "voiceover", "script": "hello", "language": "xx"}, format="json")
    assert response.status_code == 400 and "language" in response.json()["error"]["fields"]
    assert not AudioRequest.objects.exists()
    ok = client_owner.post("/api/audio/generate", {"type": "voiceover", "script": "Bonjour à tous, et bienvenue.", "language": "fr"},
                           format="json")
    assert ok.status_code == 202, ok.content


def test_a_silent_video_is_an_error_on_the_media_field(logged_in, workspace, tmp_path):
    path = tmp_path / "silent.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=red:s=160x90:d=1", "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", str(path)], check=True, timeout=60)
    video = store(workspace, path, "video")
    response = logged_in.post(reverse("audio:transcribe"), {"asset": video.pk, "script": "typed words"})
    assert response.status_code == 400
    assert "No sound track." in _field_errors(response.content.decode(), "asset")
    assert "typed words" in response.content.decode()


def test_the_admin_offers_no_audio_request_form_to_add(client):
    client.force_login(get_user_model().objects.create_superuser("ops", "ops@example.com", "pw-for-tests-123"))
    assert client.get(reverse("admin:audio_audiorequest_add")).status_code == 403
    assert client.get(reverse("admin:audio_audiorequest_changelist")).status_code == 200


def test_a_refusal_on_a_field_is_shown_under_that_field_only(logged_in):
    response = logged_in.post(reverse("audio:music-create"), {"mood": 50, "duration": 5, "key": "H dorian"})
    html = response.content.decode()
    assert response.status_code == 400 and "Unknown key." in _field_errors(html, "key")
    assert html.count("Unknown key") == 1 and 'class="form-error"' not in html
    french = "Nous avons pour vous une lampe, et elle est douce avec vous dans le salon."
    response = logged_in.post(reverse("audio:voiceover-create"), {"script": french, "voice": "en-us", "rate": 175, "pitch": 50})
    html = response.content.decode()
    assert response.status_code == 400 and "looks like &#x27;fr&#x27;" in _field_errors(html, "voice")
    assert html.count("looks like") == 1 and 'class="form-error"' not in html
    assert french in html  # what was typed is kept


def test_a_refusal_on_no_field_is_shown_at_the_top_of_the_form(logged_in, workspace, tmp_path):
    from tests.audio.test_services import make_video_with_speech

    video = store(workspace, make_video_with_speech(tmp_path), "video")
    type(video).objects.filter(pk=video.pk).update(status="processing")
    response = logged_in.post(reverse("audio:transcribe"), {"asset": video.pk, "script": "typed words"})
    html = response.content.decode()
    assert response.status_code == 400
    assert re.search(r'<div class="form-error" role="alert">The asset is not ready yet.</div>', html)
    assert html.count("not ready yet") == 1 and "typed words" in html
    assert not AudioRequest.objects.exists()
