import json

import pytest

from audio.providers.base import read_wav
from audio.providers.elevenlabs import ElevenLabsProvider
from audio.text import chunk_text
from mediastudio.lib.providers import ProviderError

TEXT = "Meet the new Aurora lamp. It fills your room with warm, gentle light."
VOICE = "JBFqnCBsd6RMkjVDRZzb"


def _provider(fake, sleeps, **config):
    return ElevenLabsProvider(config={"ELEVENLABS_API_KEY": fake.api_key, "ELEVENLABS_BASE_URL": fake.url, **config},
                              sleep=sleeps)


def test_it_synthesises_with_word_timings_from_character_alignment(elevenlabs_fake, sleeps, tmp_path):
    result = _provider(elevenlabs_fake, sleeps).synthesize(TEXT, voice=VOICE, rate=1.1, out_path=tmp_path / "el.wav")
    (call,) = elevenlabs_fake.calls("POST")
    assert call.path == f"/v1/text-to-speech/{VOICE}/with-timestamps"
    assert call.query["output_format"] == "mp3_44100_128"
    body = json.loads(call.body)
    assert body["text"] == TEXT and body["model_id"] == "eleven_multilingual_v2"
    assert body["voice_settings"] == {"speed": 1.1}
    audio, rate = read_wav(result.path)
    assert rate == 48_000 and len(audio) / rate == pytest.approx(result.duration)
    assert result.duration > 2.0  # real speech decoded from the fake's MP3
    assert [w.text for w in result.words] == TEXT.split()
    starts = [w.start for w in result.words]
    assert starts == sorted(starts) and all(w.end > w.start for w in result.words)
    assert result.characters_billed == len(TEXT) and len(result.characters.characters) == len(TEXT)


def test_it_splits_long_scripts_and_sends_the_neighbouring_text(elevenlabs_fake, sleeps, tmp_path):
    text = TEXT + " Tap once for focus, twice for calm. Designed in Lisbon and ready to ship today."
    result = _provider(elevenlabs_fake, sleeps, ELEVENLABS_MAX_CHARS=50).synthesize(text, voice=VOICE, out_path=tmp_path / "x.wav")
    chunks = chunk_text(text, max_chars=50)
    calls = elevenlabs_fake.calls("POST")
    assert [json.loads(c.body)["text"] for c in calls] == chunks and len(chunks) >= 3
    assert json.loads(calls[1].body)["previous_text"] == chunks[0]
    assert json.loads(calls[1].body)["next_text"] == chunks[2]
    assert [w.text for w in result.words] == text.split()
    starts = [w.start for w in result.words]
    assert starts == sorted(starts) and starts[-1] < result.duration


def test_it_lists_voices(elevenlabs_fake, sleeps):
    voices = _provider(elevenlabs_fake, sleeps).list_voices()
    assert [(v.id, v.name, v.language) for v in voices][0] == (VOICE, "George", "en")


def test_it_fails_permanently_on_a_bad_key_without_leaking_it(elevenlabs_fake, sleeps, tmp_path):
    provider = ElevenLabsProvider(config={"ELEVENLABS_API_KEY": "sk_wrong_key_999", "ELEVENLABS_BASE_URL": elevenlabs_fake.url},
                                  sleep=sleeps)
    with pytest.raises(ProviderError) as caught:
        provider.synthesize(TEXT, voice=VOICE, out_path=tmp_path / "x.wav")
    assert caught.value.permanent and caught.value.status_code == 401
    assert "sk_wrong_key_999" not in str(caught.value)
    assert len(elevenlabs_fake.calls("POST")) == 1 and sleeps.delays == []


def test_it_retries_429_after_the_advised_delay(elevenlabs_fake, sleeps, tmp_path):
    elevenlabs_fake.inject(429, headers={"Retry-After": "3"}, message="too_many_concurrent_requests")
    result = _provider(elevenlabs_fake, sleeps).synthesize(TEXT, voice=VOICE, out_path=tmp_path / "x.wav")
    assert sleeps.delays == [3.0]
    assert len(elevenlabs_fake.calls("POST")) == 2 and result.words


def test_it_retries_500_then_fails_retryably(elevenlabs_fake, sleeps, tmp_path):
    elevenlabs_fake.inject(500, times=10)
    with pytest.raises(ProviderError) as caught:
        _provider(elevenlabs_fake, sleeps).synthesize(TEXT, voice=VOICE, out_path=tmp_path / "x.wav")
    assert not caught.value.permanent and caught.value.status_code == 500
    assert len(elevenlabs_fake.calls("POST")) == 4 and len(sleeps.delays) == 3


def test_it_fails_permanently_on_a_validation_error(elevenlabs_fake, sleeps, tmp_path):
    provider = _provider(elevenlabs_fake, sleeps, ELEVENLABS_MODEL_ID="eleven_nonexistent")
    with pytest.raises(ProviderError) as caught:
        provider.synthesize(TEXT, voice=VOICE, out_path=tmp_path / "x.wav")
    assert caught.value.permanent and caught.value.status_code == 422
    assert "unknown model_id" in str(caught.value)
    assert len(elevenlabs_fake.calls("POST")) == 1 and sleeps.delays == []


def test_it_fails_permanently_on_an_unknown_voice(elevenlabs_fake, sleeps, tmp_path):
    with pytest.raises(ProviderError) as caught:
        _provider(elevenlabs_fake, sleeps).synthesize(TEXT, voice="nope", out_path=tmp_path / "x.wav")
    assert caught.value.permanent and caught.value.status_code == 404
