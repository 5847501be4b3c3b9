import json

import pytest

from audio.providers.base import (
    CharacterAlignment,
    MusicResult,
    Segment,
    SpeechResult,
    Transcript,
    Word,
    WordTiming,
)
from audio.providers.registry import (
    get_music_provider,
    get_transcription_provider,
    get_tts_provider,
    music_providers,
    transcription_providers,
    tts_providers,
)
from mediastudio.lib.providers import ProviderDisabled


def test_it_round_trips_results_through_json():
    speech = SpeechResult(path="/a.wav", duration=1.5, sample_rate=48000, words=[WordTiming("Hi.", 0.1, 0.4)],
                          characters=CharacterAlignment(["H", "i", "."], [0.1, 0.2, 0.3], [0.2, 0.3, 0.4]), provider="espeak")
    transcript = Transcript(language="en", language_probability=1.0, duration=2.0,
                            segments=[Segment(0.0, 1.0, "Hi.", [Word("Hi.", 0.1, 0.4, 0.9)])], provider="whisper_local")
    music = MusicResult(path="/m.wav", duration=5.0, sample_rate=48000, channels=2, mood=80, category="high_energy",
                        tempo=128.0, key="A minor", instruments=["kick"], bars=2.5, seed=3)
    for result in (speech, transcript, music):
        again = type(result).from_dict(json.loads(json.dumps(result.to_dict())))
        assert again == result
    assert transcript.text == "Hi." and transcript.words[0].probability == 0.9


def test_it_registers_the_embedded_defaults_as_enabled_without_keys(settings):
    for name in ("ELEVENLABS_API_KEY", "OPENAI_API_KEY"):
        setattr(settings, name, "")
    assert get_tts_provider().identifier == "espeak"
    assert get_transcription_provider().identifier == "whisper_local"
    assert get_music_provider().identifier == "procedural_music"
    assert {c.identifier for c in tts_providers.enabled()} == {"espeak"}
    assert {c.identifier for c in transcription_providers.enabled()} == {"whisper_local"}
    assert {c.identifier for c in music_providers.enabled()} == {"procedural_music"}
    with pytest.raises(ProviderDisabled, match="ELEVENLABS_API_KEY"):
        get_tts_provider("elevenlabs")


def test_it_enables_remote_providers_by_their_key(settings):
    settings.ELEVENLABS_API_KEY = "el-key"
    settings.OPENAI_API_KEY = "sk-key"
    assert get_tts_provider("elevenlabs").identifier == "elevenlabs"
    assert get_tts_provider("openai_speech").identifier == "openai_speech"
    assert get_transcription_provider("openai_transcribe").identifier == "openai_transcribe"
