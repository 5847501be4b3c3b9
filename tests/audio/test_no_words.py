"""A script of punctuation, symbols or emoji only has no words to speak: the API answers 400 on
`script` and the Audio page shows the error on the script field, instead of queueing an empty or
one-word voiceover. A known script for a transcription is refused the same way."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audio.models import AudioRequest
from audio.text import has_words_to_speak
from tests.audio.test_bad_input import _field_errors
from tests.audio.test_services import make_video_with_speech, store

NO_WORDS = ["...!!!", "—", "🙂🙂", "- – — ?!", "★ ♪ …"]


@pytest.mark.parametrize("script", NO_WORDS)
def test_it_finds_no_words_in_punctuation_symbols_and_emoji(script):
    assert not has_words_to_speak(script)


@pytest.mark.parametrize("script", ["Hi!", "50% off", "— go —", "你好。", "Привет", "🙂 Smile"])
def test_it_finds_words_in_any_writing_system_and_numbers(script):
    assert has_words_to_speak(script)


@pytest.mark.django_db
@pytest.mark.parametrize("script", NO_WORDS)
def test_the_api_refuses_a_script_with_no_words(client_owner, script):
    response = client_owner.post("/api/audio/generate", {"type": "voiceover", "script": script, "voice": "en-us"}, format="json")
    assert response.status_code == 400, response.content
    assert "no words to speak" in " ".join(response.json()["error"]["fields"]["script"])
    assert not AudioRequest.objects.exists()


@pytest.mark.django_db
def test_the_page_shows_the_error_on_the_script_field(logged_in):
    response = logged_in.post(reverse("audio:voiceover-create"),
                              {"script": "🙂🙂 ...!!!", "voice": "en-us", "rate": 175, "pitch": 50})
    assert response.status_code == 400
    html = response.content.decode()
    assert "no words to speak" in _field_errors(html, "script")
    assert "🙂🙂 ...!!!" in html  # what was typed is kept
    assert not AudioRequest.objects.exists()


@pytest.mark.django_db
def test_a_transcription_script_with_no_words_is_a_field_error(client_owner, workspace, tmp_path):
    video = store(workspace, make_video_with_speech(tmp_path), "video")
    response = client_owner.post("/api/audio/transcribe", {"asset": video.pk, "script": "... !!!"}, format="json")
    assert response.status_code == 400 and "script" in response.json()["error"]["fields"]
    assert not AudioRequest.objects.exists()
