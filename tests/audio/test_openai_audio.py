import json

import pytest

from audio.providers.base import read_wav
from audio.providers.openai_speech import OpenAISpeechProvider
from audio.providers.openai_transcribe import OpenAITranscriptionProvider
from mediastudio.lib.providers import ProviderError

TEXT = "Tap once for focus, twice for calm."


def _config(fake, **extra):
    return {"OPENAI_API_KEY": fake.api_key, "OPENAI_BASE_URL": f"{fake.url}/v1", **extra}


def test_it_synthesises_speech_as_wav(openai_fake, sleeps, tmp_path):
    result = OpenAISpeechProvider(config=_config(openai_fake), sleep=sleeps).synthesize(
        TEXT, voice="coral", rate=1.25, out_path=tmp_path / "speech.wav")
    (call,) = openai_fake.calls("POST")
    assert call.path == "/v1/audio/speech" and call.header("authorization") == f"Bearer {openai_fake.api_key}"
    assert json.loads(call.body) == {"model": "gpt-4o-mini-tts", "input": TEXT, "voice": "coral",
                                     "response_format": "wav", "speed": 1.25}
    audio, rate = read_wav(result.path)
    assert rate == 48_000 and result.duration > 1.0 and result.words is None


def test_it_refuses_an_unknown_voice_before_calling(openai_fake, sleeps, tmp_path):
    with pytest.raises(ProviderError, match="no voice"):
        OpenAISpeechProvider(config=_config(openai_fake), sleep=sleeps).synthesize(TEXT, voice="bob", out_path=tmp_path / "x.wav")
    assert openai_fake.calls("POST") == []


@pytest.mark.parametrize(
    ("status", "headers", "times", "permanent", "calls", "delays"),
    [(401, {}, 1, True, 1, []), (422, {}, 1, True, 1, []), (500, {}, 10, False, 4, 3)],
)
def test_it_classifies_speech_failures(openai_fake, sleeps, tmp_path, status, headers, times, permanent, calls, delays):
    openai_fake.inject(status, headers=headers, times=times)
    with pytest.raises(ProviderError) as caught:
        OpenAISpeechProvider(config=_config(openai_fake), sleep=sleeps).synthesize(TEXT, voice="alloy", out_path=tmp_path / "x.wav")
    assert caught.value.permanent is permanent and caught.value.status_code == status
    assert len(openai_fake.calls("POST")) == calls
    assert len(sleeps.delays) == (delays if isinstance(delays, int) else len(delays))


def test_it_retries_speech_after_429_honouring_retry_after(openai_fake, sleeps, tmp_path):
    openai_fake.inject(429, headers={"Retry-After": "2"})
    OpenAISpeechProvider(config=_config(openai_fake), sleep=sleeps).synthesize(TEXT, voice="alloy", out_path=tmp_path / "x.wav")
    assert sleeps.delays == [2.0] and len(openai_fake.calls("POST")) == 2


def test_it_fails_permanently_with_a_bad_key(openai_fake, sleeps, tmp_path):
    config = {**_config(openai_fake), "OPENAI_API_KEY": "sk-wrong-000000"}
    with pytest.raises(ProviderError) as caught:
        OpenAISpeechProvider(config=config, sleep=sleeps).synthesize(TEXT, voice="alloy", out_path=tmp_path / "x.wav")
    assert caught.value.permanent and caught.value.status_code == 401 and "sk-wrong-000000" not in str(caught.value)


def test_it_transcribes_with_word_timestamps(openai_fake, sleeps, voiceover, script):
    openai_fake.transcript_text = script
    progress = []
    transcript = OpenAITranscriptionProvider(config=_config(openai_fake), sleep=sleeps).transcribe(
        voiceover.path, language="en-US", progress=lambda f, m: progress.append(f))
    (call,) = openai_fake.calls("POST")
    assert call.path == "/v1/audio/transcriptions" and call.header("content-type").startswith("multipart/form-data")
    body = call.body
    assert b'name="response_format"\r\n\r\nverbose_json' in body and b'name="language"\r\n\r\nen' in body
    assert body.count(b'name="timestamp_granularities[]"') == 2
    assert (transcript.language, transcript.model) == ("en", "whisper-1")
    assert transcript.duration == pytest.approx(voiceover.duration, abs=0.05)
    assert len(transcript.words) == len(script.split())
    assert all(s.start <= w.start and w.end <= s.end + 0.01 for s in transcript.segments for w in s.words)
    assert progress == [0.0, 1.0]


def test_it_fails_permanently_when_the_model_cannot_give_timestamps(openai_fake, sleeps, voiceover):
    provider = OpenAITranscriptionProvider(config=_config(openai_fake, OPENAI_TRANSCRIBE_MODEL="gpt-4o-transcribe"), sleep=sleeps)
    with pytest.raises(ProviderError) as caught:
        provider.transcribe(voiceover.path)
    assert caught.value.permanent and caught.value.status_code == 400 and sleeps.delays == []


@pytest.mark.parametrize(("status", "permanent", "calls"), [(401, True, 1), (422, True, 1), (503, False, 4)])
def test_it_classifies_transcription_failures(openai_fake, sleeps, voiceover, status, permanent, calls):
    openai_fake.inject(status, times=10)
    with pytest.raises(ProviderError) as caught:
        OpenAITranscriptionProvider(config=_config(openai_fake), sleep=sleeps).transcribe(voiceover.path)
    assert caught.value.permanent is permanent and len(openai_fake.calls("POST")) == calls


def test_it_retries_transcription_after_429(openai_fake, sleeps, voiceover):
    openai_fake.inject(429, headers={"Retry-After": "1.5"})
    transcript = OpenAITranscriptionProvider(config=_config(openai_fake), sleep=sleeps).transcribe(voiceover.path)
    assert sleeps.delays == [1.5] and transcript.words
