"""Exact captions: the script's words, timed in the audio by the TTS-based forced alignment.

Truth never comes from the aligner: it is espeak-ng's own word events of the voiceover being
aligned (spoken with another voice, rate and pitch than the aligner's reference), or the known
offsets at which separately synthesised phrases were joined with silences.
"""

from __future__ import annotations

import numpy as np
import pysubs2
import pytest

from audio.alignment import force_align_script, word_error_rate
from audio.captions import build_cues, to_ass, to_srt, to_vtt
from audio.providers.base import read_wav
from audio.providers.espeak import EspeakProvider
from audio.text import script_words

SCRIPT = (
    "Meet the new Aurora lamp. It fills your room with warm, gentle light. "
    "Tap once for focus, twice for calm, and hold to fade into the night. "
    "Designed in Lisbon, built to last, and ready to ship today."
)
PHRASES = [
    "Meet the new Aurora lamp.", "It fills your room with warm, gentle light.", "Tap once for focus, twice for calm,",
    "and hold to fade into the night.", "Designed in Lisbon, built to last,", "and ready to ship today.",
]
SILENCES = [0.4, 1.1, 0.15, 0.7, 0.05, 0.0]  # after each phrase; 0.6 s of silence before the first
LIMIT = 0.15
# Measured (2 cores): WER of Whisper tiny.en on the en-gb-x-rp voiceover 0.105 ("Aurora" and
# "Lisbon" are misheard); the check fails above 0.35.
WER_LIMIT = 0.35


def _report(label: str, errors: np.ndarray) -> None:
    print(f"{label}: |error| median {np.median(errors):.3f}s p95 {np.percentile(errors, 95):.3f}s max {errors.max():.3f}s")


@pytest.fixture(scope="module")
def other_voice(tmp_path_factory):
    # Another accent, slower and higher than the aligner's reference (en-us, 175 wpm, pitch 50).
    out = tmp_path_factory.mktemp("exact") / "rp.wav"
    return EspeakProvider(config={}).synthesize(SCRIPT, voice="en-gb-x-rp", out_path=out, rate=140, pitch=70)


@pytest.fixture(scope="module")
def joined(tmp_path_factory):
    """Phrases synthesised one by one (another voice and rate), joined with known silences."""
    folder = tmp_path_factory.mktemp("joined")
    rate = 48_000
    parts = [np.zeros(int(0.6 * rate), dtype=np.float32)]
    truth: list[float] = []
    for k, (phrase, silence) in enumerate(zip(PHRASES, SILENCES)):
        spoken = EspeakProvider(config={}).synthesize(phrase, voice="en-gb-scotland", out_path=folder / f"{k}.wav", rate=150)
        audio, _ = read_wav(spoken.path)
        offset = sum(len(p) for p in parts) / rate
        truth += [offset + w.start for w in spoken.words]
        parts += [audio, np.zeros(int(silence * rate), dtype=np.float32)]
    return np.concatenate(parts), rate, np.array(truth)


def test_it_times_every_script_word_within_150ms_in_another_voice_and_rate(other_voice):
    audio, rate = read_wav(other_voice.path)
    result = force_align_script(script_text=SCRIPT, audio=audio, sample_rate=rate)
    assert [w.text for w in result.words] == [w.text for w in script_words(SCRIPT)]
    errors = np.abs(np.array([a.start - t.start for a, t in zip(result.words, other_voice.words)]))
    _report("other voice", errors)
    assert errors.max() <= LIMIT, [(w.text, round(e, 3)) for w, e in zip(result.words, errors) if e > LIMIT]
    assert result.method == "tts_dtw"
    starts = [w.start for w in result.words]
    assert starts == sorted(starts) and all(w.end >= w.start for w in result.words)


def test_it_times_phrases_joined_at_known_offsets_within_150ms(joined):
    audio, rate, truth = joined
    result = force_align_script(script_text=" ".join(PHRASES), audio=audio, sample_rate=rate)
    assert " ".join(w.text for w in result.words) == " ".join(PHRASES)
    errors = np.abs(np.array([w.start for w in result.words]) - truth)
    _report("joined phrases", errors)
    assert errors.max() <= LIMIT
    # Phrase starts after a long silence land on the speech, not in the silence before it.
    firsts = np.cumsum([0] + [len(script_words(p)) for p in PHRASES[:-1]])
    assert np.abs(np.array([result.words[i].start for i in firsts]) - truth[firsts]).max() <= 0.06


def test_it_stays_within_150ms_under_background_hiss(joined):
    audio, rate, truth = joined
    noisy = audio + 0.01 * np.random.default_rng(7).standard_normal(len(audio)).astype(np.float32)
    result = force_align_script(script_text=" ".join(PHRASES), audio=noisy, sample_rate=rate)
    errors = np.abs(np.array([w.start for w in result.words]) - truth)
    _report("joined phrases + hiss at -40 dB", errors)
    assert errors.max() <= LIMIT


def test_it_checks_itself_against_whisper_and_reports_the_word_error_rate(other_voice):
    from audio.providers.whisper_local import WhisperLocalProvider

    transcript = WhisperLocalProvider(config={"WHISPER_CPU_THREADS": 2}).transcribe(other_voice.path)
    audio, rate = read_wav(other_voice.path)
    result = force_align_script(script_text=SCRIPT, audio=audio, sample_rate=rate, transcript_words=transcript.words)
    print(f"WER {result.wer:.3f}, agreement with Whisper {result.confidence:.2f}, heard: {transcript.text}")
    assert result.wer is not None and result.wer <= WER_LIMIT
    assert result.wer == pytest.approx(word_error_rate(reference=SCRIPT.split(), hypothesis=[w.text for w in transcript.words]))
    assert result.method == "tts_dtw" and result.confidence >= 0.8
    errors = np.abs(np.array([a.start - t.start for a, t in zip(result.words, other_voice.words)]))
    assert errors.max() <= LIMIT


def test_it_falls_back_to_the_transcript_when_the_warping_disagrees_with_it(other_voice):
    from audio.providers.whisper_local import WhisperLocalProvider

    transcript = WhisperLocalProvider(config={"WHISPER_CPU_THREADS": 2}).transcribe(other_voice.path)
    audio, rate = read_wav(other_voice.path)
    reference = EspeakProvider(config={}).synthesize(SCRIPT, voice="en-us", out_path=other_voice.path + ".ref.wav")
    ref_audio, ref_rate = read_wav(reference.path)

    def broken_reference(text, voice, rate_):  # word times 1.5 s off: the warping cannot be right
        return ref_audio, ref_rate, [(w.text, min(w.start + 1.5, reference.duration), min(w.end + 1.5, reference.duration))
                                     for w in reference.words]

    result = force_align_script(script_text=SCRIPT, audio=audio, sample_rate=rate, transcript_words=transcript.words,
                                synthesize=broken_reference)
    assert result.method == "transcript" and result.confidence < 0.6
    assert [w.text for w in result.words] == [w.text for w in script_words(SCRIPT)]


def test_its_captions_carry_the_script_exactly_and_parse_back(joined, tmp_path):
    audio, rate, _ = joined
    script = " ".join(PHRASES)
    words = force_align_script(script_text=script, audio=audio, sample_rate=rate).words
    cues = build_cues(words=words, max_chars_per_line=32, max_lines=2)
    for fmt, text in (("srt", to_srt(cues)), ("vtt", to_vtt(cues)), ("ass", to_ass(cues, karaoke=True))):
        path = tmp_path / f"captions.{fmt}"
        path.write_text(text, encoding="utf-8")
        parsed = pysubs2.load(str(path))
        assert " ".join(e.plaintext.replace("\n", " ") for e in parsed) == script, fmt
        assert len(parsed) == len(cues)
        assert abs(parsed[0].start / 1000 - cues[0].start) <= 0.011


def test_it_refuses_empty_audio_and_returns_nothing_for_an_empty_script():
    with pytest.raises(ValueError):
        force_align_script(script_text="Hello there.", audio=np.zeros(0, dtype=np.float32), sample_rate=48_000)
    assert force_align_script(script_text="  ", audio=np.zeros(10, dtype=np.float32), sample_rate=48_000).words == []


def test_word_error_rate_counts_substitutions_insertions_and_deletions():
    assert word_error_rate(reference=["a", "b", "c", "d"], hypothesis=["a", "x", "c"]) == 0.5
    assert word_error_rate(reference=["Hello,", "world."], hypothesis=["hello", "world"]) == 0.0
    assert word_error_rate(reference=["one"], hypothesis=["one", "two", "three"]) == 2.0
