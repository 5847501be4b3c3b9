import re

import jiwer
import pytest

from audio.providers.whisper_local import WhisperLocalProvider, bundled_model_path, load_model
from mediastudio.lib.providers import ProviderError

# Measured on the session voiceover (espeak-ng en-us, 175 wpm, tiny.en int8, beam 5): WER 0.22-0.30
# depending on the espeak/ctranslate2 build; the bound leaves room for that spread but fails on garbage.
WER_LIMIT = 0.35



def test_it_uses_the_bundled_tiny_en_model_without_downloading():
    path = bundled_model_path()
    assert (path / "model.bin").is_file() and (path / "tokenizer.json").is_file()
    assert "site-packages" in str(path) or "dist-packages" in str(path)


def test_it_transcribes_an_espeak_voiceover_with_a_low_word_error_rate(script, transcript):
    reference = " ".join(re.sub(r"[^a-z0-9' ]+", " ", script.lower()).split())
    hypothesis = " ".join(re.sub(r"[^a-z0-9' ]+", " ", transcript.text.lower()).split())
    wer = jiwer.wer(reference, hypothesis)
    print(f"WER {wer:.3f}: {hypothesis}")
    assert wer < WER_LIMIT


def test_it_returns_word_timestamps_within_the_audio(transcript, voiceover):
    words = transcript.words
    assert len(words) >= 25
    assert all(0 <= w.start <= w.end <= voiceover.duration + 0.05 for w in words)
    assert [w.start for w in words] == sorted(w.start for w in words)
    assert all(0 <= w.probability <= 1 for w in words)
    assert abs(transcript.duration - voiceover.duration) < 0.05


def test_it_reports_english_for_the_english_only_model(transcript):
    assert (transcript.language, transcript.language_probability) == ("en", 1.0)
    assert transcript.model == "tiny.en (bundled)"


def test_it_reports_progress_up_to_done_and_caches_the_model(voiceover):
    seen = []
    provider = WhisperLocalProvider(config={"WHISPER_CPU_THREADS": 2, "WHISPER_BEAM_SIZE": 1})
    provider.transcribe(voiceover.path, progress=lambda fraction, message: seen.append(fraction))
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen) and len(seen) >= 3
    again = load_model(model=str(bundled_model_path()), device="cpu", compute_type="int8", cpu_threads=2)
    assert again is provider._model()[0]


def test_it_refuses_another_language_on_the_english_only_model(voiceover):
    with pytest.raises(ProviderError) as caught:
        WhisperLocalProvider(config={}).transcribe(voiceover.path, language="fr")
    assert caught.value.permanent and caught.value.code == "unsupported_language"


def test_it_refuses_a_missing_or_undecodable_file(tmp_path):
    with pytest.raises(ProviderError, match="no audio file"):
        WhisperLocalProvider(config={}).transcribe(tmp_path / "missing.wav")
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio at all" * 100)
    with pytest.raises(ProviderError) as caught:
        WhisperLocalProvider(config={}).transcribe(junk)
    assert caught.value.permanent
