"""ElevenLabs Music against its fake: a bed of the exact length, under -1 dBFS, and its failures."""

import numpy as np
import pytest

from audio.providers.base import read_wav
from audio.providers.elevenlabs_music import ElevenLabsMusicProvider
from mediastudio.lib.providers import ProviderError


def _provider(fake, sleeps, **config):
    return ElevenLabsMusicProvider(config={"ELEVENLABS_API_KEY": fake.api_key, "ELEVENLABS_BASE_URL": fake.url, **config},
                                   sleep=sleeps)


def test_it_composes_an_instrumental_bed_of_the_exact_length(elevenlabs_fake, sleeps, tmp_path):
    result = _provider(elevenlabs_fake, sleeps).generate(mood=82, duration=6.0, out_path=tmp_path / "bed.wav", seed=1)
    audio, rate = read_wav(tmp_path / "bed.wav")
    assert rate == 48000 and audio.shape == (6 * 48000, 2)
    assert 20 * np.log10(np.max(np.abs(audio))) <= -1.0
    assert abs(audio[-1]).max() < 1e-3  # faded, no click at the cut
    body = elevenlabs_fake.switches.extra["last_music_body"]
    assert body["music_length_ms"] == 6000 and body["force_instrumental"] is True and "seed" not in body
    assert "high energy" in body["prompt"] and result.category == "high_energy"


def test_it_refuses_a_length_the_api_cannot_make_before_calling(elevenlabs_fake, sleeps, tmp_path):
    with pytest.raises(ProviderError) as caught:
        _provider(elevenlabs_fake, sleeps).generate(mood=40, duration=2.0, out_path=tmp_path / "x.wav", seed=1)
    assert caught.value.permanent and elevenlabs_fake.calls("POST") == []


def test_a_bad_key_fails_permanently_and_a_429_is_retried(elevenlabs_fake, sleeps, tmp_path):
    bad = ElevenLabsMusicProvider(config={"ELEVENLABS_API_KEY": "sk_wrong_key_999", "ELEVENLABS_BASE_URL": elevenlabs_fake.url},
                                  sleep=sleeps)
    with pytest.raises(ProviderError) as caught:
        bad.generate(mood=40, duration=4.0, out_path=tmp_path / "x.wav", seed=1)
    assert caught.value.permanent and caught.value.status_code == 401 and "sk_wrong_key_999" not in str(caught.value)
    elevenlabs_fake.inject(429, headers={"Retry-After": "2"}, message="too_many_concurrent_requests")
    _provider(elevenlabs_fake, sleeps).generate(mood=40, duration=4.0, out_path=tmp_path / "y.wav", seed=1)
    assert sleeps.delays == [2.0]


def test_the_fake_validates_bodies_like_the_api(elevenlabs_fake, sleeps, tmp_path):
    provider = _provider(elevenlabs_fake, sleeps, ELEVENLABS_MUSIC_MODEL="music_v9")
    with pytest.raises(ProviderError) as caught:
        provider.generate(mood=40, duration=4.0, out_path=tmp_path / "x.wav", seed=1)
    assert caught.value.permanent and caught.value.status_code == 422


@pytest.mark.django_db
def test_the_api_makes_a_music_asset_through_elevenlabs(api_client, owner, elevenlabs_fake, settings, media_root,
                                                         django_capture_on_commit_callbacks):
    settings.ELEVENLABS_API_KEY, settings.ELEVENLABS_BASE_URL = elevenlabs_fake.api_key, elevenlabs_fake.url
    api_client.force_authenticate(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post("/api/audio/generate", {"type": "music", "mood": 60, "duration": 5,
                                                           "provider": "elevenlabs_music"}, format="json")
    assert response.status_code == 202, response.content
    detail = api_client.get(f"/api/audio/jobs/{response.json()['id']}").json()
    assert detail["job"]["status"] == "succeeded", detail["job"]
    assert detail["provider"] == "elevenlabs_music" and detail["asset"]
