import hashlib
import json
import subprocess

import numpy as np
import pytest

from audio.providers.base import read_wav
from audio.providers.procedural_music import ProceduralMusicProvider
from mediastudio.lib.providers import ProviderError

MINUS_1_DBFS = 10 ** (-1 / 20)


@pytest.fixture(scope="module")
def beds(tmp_path_factory):
    folder = tmp_path_factory.mktemp("music")
    provider = ProceduralMusicProvider(config={})
    return {mood: provider.generate(mood=mood, duration=9.37, out_path=folder / f"bed-{mood}.wav", seed=11)
            for mood in (10, 40, 60, 90)}


def test_it_renders_exactly_the_requested_duration_as_48k_stereo(beds):
    for result in beds.values():
        audio, rate = read_wav(result.path)
        assert (rate, audio.shape) == (48_000, (round(9.37 * 48_000), 2))
        probed = json.loads(subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "format=duration:stream=channels,sample_rate", "-of", "json", result.path],
            capture_output=True, text=True, timeout=30, check=True).stdout)
        assert abs(float(probed["format"]["duration"]) - 9.37) <= 1 / 48_000
        assert result.duration == pytest.approx(9.37, abs=1 / 48_000)


def test_it_keeps_every_sample_below_minus_one_dbfs(beds):
    for result in beds.values():
        audio, _ = read_wav(result.path)
        peak = np.max(np.abs(audio))
        assert peak <= MINUS_1_DBFS
        assert peak > 10 ** (-2 / 20)  # normalised, not just quiet
        assert result.peak_dbfs <= -1.0


def _rms(x):
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))


def _seam_ratio(audio):
    """Curvature (second difference) across the wrap point, relative to the 99.5th percentile of
    the curvature in the 100 ms around it: about 1 or less when the end flows into the start."""
    joined = np.concatenate([audio[-2400:], audio[:2400]])
    curvature = np.abs(np.diff(joined, n=2, axis=0)).max(axis=1)
    return curvature[2398] / np.percentile(curvature, 99.5)


def _window_rms_is_ordinary(audio, rate):
    w = rate // 20
    across = _rms(np.concatenate([audio[-w // 2:], audio[: w // 2]]))
    around = [_rms(audio[-w * k - w: -w * k]) for k in range(1, 4)] + [_rms(audio[w * k: w * k + w]) for k in range(0, 3)]
    return min(around) * 0.6 <= across <= max(around) * 1.6


def test_it_loops_seamlessly(beds):
    for result in beds.values():
        audio, rate = read_wav(result.path)
        jumps = np.abs(np.diff(audio, axis=0)).max(axis=1)
        assert np.abs(audio[0] - audio[-1]).max() <= np.percentile(jumps, 99.5), result.category
        assert _seam_ratio(audio) <= 1.0, result.category
        assert _window_rms_is_ordinary(audio, rate), result.category


def test_it_fails_the_seam_check_for_cuts_that_do_not_loop(beds):
    # Control: the same check notices a smooth bed cut at arbitrary points (measured ratios 25-70).
    audio, _ = read_wav(beds[10].path)
    for fraction in (0.37, 0.5, 0.613, 0.81):
        assert _seam_ratio(audio[: int(len(audio) * fraction)]) > 5.0


def test_it_is_deterministic_for_a_seed(tmp_path):
    provider = ProceduralMusicProvider(config={})
    a = provider.generate(mood=55, duration=3.0, out_path=tmp_path / "a.wav", seed=5)
    b = provider.generate(mood=55, duration=3.0, out_path=tmp_path / "b.wav", seed=5)
    provider.generate(mood=55, duration=3.0, out_path=tmp_path / "c.wav", seed=6)
    digest = [hashlib.sha256((tmp_path / n).read_bytes()).hexdigest() for n in ("a.wav", "b.wav", "c.wav")]
    assert digest[0] == digest[1] != digest[2]
    assert (a.tempo, a.key) == (b.tempo, b.key)


def _beat(path, tempo):
    """(autocorrelation of the onset envelope at the stated beat, tempo of the strongest lag 0.4-1.5 s)."""
    audio, _ = read_wav(path)
    mono = audio.mean(axis=1)
    frames = mono[: len(mono) // 480 * 480].reshape(-1, 480)  # 10 ms
    envelope = np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-9)
    onsets = np.clip(np.diff(envelope), 0, None)
    onsets -= onsets.mean()
    ac = np.correlate(onsets, onsets, "full")[len(onsets) - 1:]
    ac /= ac[0]
    best = 30 + int(np.argmax(ac[30:150]))
    return float(ac[int(round(6000 / tempo))]), 6000 / best


def test_it_gives_each_mood_its_own_tempo_and_instrumentation(beds):
    categories = [beds[m].category for m in (10, 40, 60, 90)]
    assert categories == ["surreal_trip", "intimate_story", "luxury_reveal", "high_energy"]
    tempos = [beds[m].tempo for m in (10, 40, 60, 90)]
    assert tempos == sorted(tempos) and tempos[-1] > 1.6 * tempos[0]
    assert len({tuple(beds[m].instruments) for m in beds}) == 4
    assert "kick" in beds[90].instruments and "pad" in beds[10].instruments
    # Audible: the driving beat is found in the audio at the stated tempo (measured strength ~0.75);
    # the dreamy pads have no such pulse (~0.16-0.19); the luxury beat is subtle but on tempo.
    strength, found = _beat(beds[90].path, beds[90].tempo)
    assert strength > 0.5 and found == pytest.approx(beds[90].tempo, rel=0.03)
    assert _beat(beds[10].path, beds[10].tempo)[0] < 0.35
    assert _beat(beds[60].path, beds[60].tempo)[1] == pytest.approx(beds[60].tempo, rel=0.03)


def test_it_honours_a_requested_key_and_tempo(tmp_path):
    result = ProceduralMusicProvider(config={}).generate(mood=80, duration=8.0, out_path=tmp_path / "k.wav", seed=1,
                                                         tempo=120, key="F# minor")
    assert result.key == "F# minor"
    assert result.tempo == pytest.approx(120.0)  # 8 s at 120 bpm is exactly 4 bars
    assert result.bars == 4


def test_it_refuses_bad_moods_keys_and_durations(tmp_path):
    provider = ProceduralMusicProvider(config={})
    for kwargs in ({"mood": 101}, {"mood": 50, "key": "H dorian"}, {"mood": 50, "duration": 0.2}):
        params = {"duration": 2.0, "seed": 1, **kwargs}
        with pytest.raises(ProviderError) as caught:
            provider.generate(out_path=tmp_path / "x.wav", **params)
        assert caught.value.permanent


def test_it_can_write_aac(tmp_path):
    result = ProceduralMusicProvider(config={}).generate(mood=30, duration=2.0, out_path=tmp_path / "bed.m4a", seed=3)
    probed = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,channels,sample_rate", "-of", "json", result.path],
        capture_output=True, text=True, timeout=30, check=True).stdout)
    assert probed["streams"][0]["codec_name"] == "aac" and probed["streams"][0]["channels"] == 2
