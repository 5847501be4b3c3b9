"""An idempotency key replays the request it made only for the same kind of audio request with the
same parameters: a key used for a voiceover and sent again for music or a transcription is a 409,
and sent again with another script, voice, mood... a 422 naming what differs, never the old request."""

from __future__ import annotations

import pytest

from audio.models import AudioRequest
from tests.audio.test_services import SHORT, make_video_with_speech, store

pytestmark = pytest.mark.django_db

VOICEOVER = {"type": "voiceover", "script": SHORT, "voice": "en-us"}
MUSIC = {"type": "music", "mood": 40, "duration": 3}


def _post(client, url, payload, key):
    return client.post(url, {**payload, "idempotency_key": key}, format="json")


def test_it_replays_the_same_kind_of_request(client_owner):
    first = _post(client_owner, "/api/audio/generate", VOICEOVER, "launch-1")
    again = _post(client_owner, "/api/audio/generate", VOICEOVER, "launch-1")
    assert first.status_code == again.status_code == 202, again.content
    assert again.json()["id"] == first.json()["id"]
    assert AudioRequest.objects.count() == 1


def test_it_refuses_a_voiceover_key_reused_for_music(client_owner):
    first = _post(client_owner, "/api/audio/generate", VOICEOVER, "launch-1")
    assert first.status_code == 202
    response = _post(client_owner, "/api/audio/generate", MUSIC, "launch-1")
    assert response.status_code == 409, response.content
    error = response.json()["error"]
    assert error["code"] == "conflict" and "used for a voiceover" in error["message"]
    assert list(AudioRequest.objects.values_list("kind", flat=True)) == ["voiceover"]


def test_it_refuses_a_music_key_reused_for_a_voiceover(client_owner):
    assert _post(client_owner, "/api/audio/generate", MUSIC, "bed-1").status_code == 202
    response = _post(client_owner, "/api/audio/generate", VOICEOVER, "bed-1")
    assert response.status_code == 409 and "used for music" in response.json()["error"]["message"]
    assert AudioRequest.objects.count() == 1


def test_it_refuses_a_voiceover_key_reused_for_a_transcription(client_owner, workspace, tmp_path):
    video = store(workspace, make_video_with_speech(tmp_path), "video")
    assert _post(client_owner, "/api/audio/generate", VOICEOVER, "clip-1").status_code == 202
    response = _post(client_owner, "/api/audio/transcribe", {"asset": video.pk}, "clip-1")
    assert response.status_code == 409 and "used for a voiceover" in response.json()["error"]["message"]
    # ... and the other way round.
    assert _post(client_owner, "/api/audio/transcribe", {"asset": video.pk}, "clip-2").status_code == 202
    response = _post(client_owner, "/api/audio/generate", VOICEOVER, "clip-2")
    assert response.status_code == 409 and "used for a transcription" in response.json()["error"]["message"]
    assert sorted(AudioRequest.objects.values_list("kind", flat=True)) == ["transcription", "voiceover"]


def lose_the_race(monkeypatch) -> list:
    """The next request checks for its key before the winner committed: its own check sees nothing,
    and only the key's unique constraint stops it. Returns the checks made, to clear for another."""
    from audio import services

    real = services._existing
    calls = []

    def not_yet_committed(*args, **kwargs):
        calls.append(1)
        return None if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(services, "_existing", not_yet_committed)
    return calls


def test_a_concurrent_request_with_the_same_key_gets_the_winners_request(workspace, owner, monkeypatch):
    from audio import services

    winner = services.music_request(workspace=workspace, user=owner, mood=40, duration=3, idempotency_key="race")
    calls = lose_the_race(monkeypatch)
    again = services.music_request(workspace=workspace, user=owner, mood=40, duration=3, idempotency_key="race")
    assert again.pk == winner.pk and AudioRequest.objects.count() == 1
    calls.clear()
    with pytest.raises(services.Conflict, match="used for music"):
        services.voiceover_request(workspace=workspace, user=owner, script=SHORT, voice="en-us", idempotency_key="race")


def test_it_refuses_a_voiceover_key_reused_with_another_script_and_voice(client_owner):
    first = _post(client_owner, "/api/audio/generate", VOICEOVER, "launch-1")
    assert first.status_code == 202
    response = _post(client_owner, "/api/audio/generate",
                     {**VOICEOVER, "script": "Another script entirely.", "voice": "en-gb"}, "launch-1")
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "idempotency_mismatch"
    assert "different script and voice" in error["message"] and "new key" in error["message"]
    assert AudioRequest.objects.count() == 1


def test_a_voiceover_key_replays_despite_spacing_and_voice_case(client_owner):
    first = _post(client_owner, "/api/audio/generate", VOICEOVER, "launch-1")
    again = _post(client_owner, "/api/audio/generate", {**VOICEOVER, "script": f"  {SHORT}\n", "voice": "EN-US"},
                  "launch-1")
    assert again.status_code == 202, again.content
    assert again.json()["id"] == first.json()["id"] and AudioRequest.objects.count() == 1


def test_it_refuses_a_music_key_reused_with_another_mood(client_owner):
    assert _post(client_owner, "/api/audio/generate", MUSIC, "bed-1").status_code == 202
    response = _post(client_owner, "/api/audio/generate", {**MUSIC, "mood": 90}, "bed-1")
    assert response.status_code == 422, response.content
    assert "different mood" in response.json()["error"]["message"]
    assert AudioRequest.objects.count() == 1


def test_a_music_key_without_a_seed_replays_the_random_seed_it_drew(client_owner):
    first = _post(client_owner, "/api/audio/generate", MUSIC, "bed-1")
    again = _post(client_owner, "/api/audio/generate", MUSIC, "bed-1")
    assert again.status_code == 202 and again.json()["id"] == first.json()["id"]
    seed = AudioRequest.objects.get().seed
    # Sending the seed it drew is the same request; another seed is not.
    assert _post(client_owner, "/api/audio/generate", {**MUSIC, "seed": seed}, "bed-1").status_code == 202
    response = _post(client_owner, "/api/audio/generate", {**MUSIC, "seed": seed + 1}, "bed-1")
    assert response.status_code == 422 and "different seed" in response.json()["error"]["message"]


def test_it_refuses_a_transcription_key_reused_with_another_script(client_owner, workspace, tmp_path):
    video = store(workspace, make_video_with_speech(tmp_path), "video")
    first = _post(client_owner, "/api/audio/transcribe", {"asset": video.pk}, "clip-1")
    assert first.status_code == 202
    assert _post(client_owner, "/api/audio/transcribe", {"asset": video.pk}, "clip-1").json()["id"] == first.json()["id"]
    response = _post(client_owner, "/api/audio/transcribe", {"asset": video.pk, "script": "Other words."}, "clip-1")
    assert response.status_code == 422 and "different script" in response.json()["error"]["message"]
    assert AudioRequest.objects.count() == 1


def test_a_concurrent_request_with_the_same_key_and_another_body_is_refused(workspace, owner, monkeypatch):
    from audio import services
    from mediastudio.lib.exceptions import ApplicationError

    services.music_request(workspace=workspace, user=owner, mood=40, duration=3, idempotency_key="race")
    lose_the_race(monkeypatch)
    with pytest.raises(ApplicationError, match="different duration") as refused:
        services.music_request(workspace=workspace, user=owner, mood=40, duration=8, idempotency_key="race")
    assert refused.value.status_code == 422 and AudioRequest.objects.count() == 1
