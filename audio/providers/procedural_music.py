"""Procedural music beds: the embedded music default (numpy only, no key, no network).

Mood 0-100 picks one of the strategy's four categories, which decides tempo range, mode,
chord progressions and instrumentation:

    0-25   surreal_trip    60-76 bpm, minor/dorian, slow pads, shimmering bells, sub drone
    25-50  intimate_story  72-92 bpm, major, soft broken-chord piano, pluck melody, quiet pad
    50-75  luxury_reveal   86-104 bpm, warm FM electric-piano 7th chords, sub bass, subtle beat
    75-100 high_energy     118-132 bpm, four-on-the-floor drums, driving bass, 16th saw arpeggio

Everything is deterministic for a seed (numpy PCG64). Seamless loops by construction: the bed is
exactly `duration` long (round(duration * 48000) frames); the tempo is nudged so the bed holds a
whole number of bars (or beats when bars would bend the tempo by more than 15 %); note tails
that run past the end are wrapped onto the start; the low-pass filters and the reverb are
circular (FFT) operations. The signal is therefore periodic: the last sample flows into the first.
Master: tanh soft limiter, then peak-normalised to -1.5 dBFS; written as 48 kHz stereo 16-bit WAV
(or .m4a/.mp3 by extension through ffmpeg; AAC/MP3 encoder padding makes those not sample-exact).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from audio.providers.base import LOOPABLE, OFFLINE, MusicProvider, MusicResult, encode_audio
from mediastudio.lib.providers import ProviderError

SR = 48_000
PEAK_DBFS = -1.5
NOTE_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
FLATS = {"Db": "C#", "Eb": "D#", "Gb": "F#", "Ab": "G#", "Bb": "A#"}
MODES = {
    "major": [0, 2, 4, 5, 7, 9, 11],
    "minor": [0, 2, 3, 5, 7, 8, 10],
    "dorian": [0, 2, 3, 5, 7, 9, 10],
}


@dataclass(frozen=True)
class Style:
    category: str
    tempo: tuple[float, float]
    modes: tuple[str, ...]
    roots: tuple[str, ...]
    progressions: tuple[tuple[int, ...], ...]  # scale degrees (0 = tonic)
    bars_per_chord: int
    instruments: tuple[str, ...]


STYLES = [
    Style("surreal_trip", (60, 76), ("minor", "dorian"), ("D", "E", "F#", "A", "B"),
          ((0, 5, 2, 6), (0, 3, 5, 4), (0, 6, 5, 6)), 2, ("pad", "bells", "drone")),
    Style("intimate_story", (72, 92), ("major",), ("C", "D", "F", "G", "A"),
          ((0, 4, 5, 3), (0, 5, 3, 4), (3, 0, 4, 5), (0, 3, 0, 4)), 1, ("piano", "pluck", "soft_pad")),
    Style("luxury_reveal", (86, 104), ("minor", "major"), ("C", "D#", "F", "G#", "A#"),
          ((0, 5, 1, 4), (1, 4, 0, 5), (0, 3, 6, 2)), 1, ("electric_piano", "sub_bass", "soft_kick", "snap", "hats")),
    Style("high_energy", (118, 132), ("minor",), ("A", "B", "C#", "E", "F#"),
          ((0, 5, 2, 6), (0, 6, 5, 4), (0, 3, 4, 4)), 1, ("kick", "clap", "hats", "bass", "arp", "pad_stabs")),
]


def style_for_mood(mood: int) -> Style:
    if not 0 <= mood <= 100:
        raise ProviderError("mood must be within 0..100", permanent=True, code="invalid")
    return STYLES[min(3, int(mood // 25))] if mood < 100 else STYLES[3]


def parse_key(key: str) -> tuple[str, str]:
    """"A minor", "F#m", "Bb major", "C" -> (root name with sharps, mode)."""
    match = re.fullmatch(r"\s*([A-Ga-g])([#b]?)\s*(m|min|minor|maj|major|dorian)?\s*", key or "")
    if not match:
        raise ProviderError(f"cannot read musical key '{key}' (e.g. 'A minor', 'F# major')", permanent=True, code="invalid")
    root = match.group(1).upper() + match.group(2)
    root = FLATS.get(root, root)
    if root not in NOTE_NAMES:  # E#, B#, Cb, Fb
        raise ProviderError(f"unsupported key root '{root}'", permanent=True, code="invalid")
    mode = {"m": "minor", "min": "minor", "minor": "minor", "maj": "major", "major": "major", "dorian": "dorian"}.get(
        match.group(3) or "major")
    return root, mode  # type: ignore[return-value]


def _hz(midi: float) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


def _t(seconds: float) -> np.ndarray:
    return np.arange(int(seconds * SR)) / SR


def _adsr(n: int, *, attack: float, release: float, sustain_n: int | None = None) -> np.ndarray:
    env = np.ones(n)
    a = max(1, min(n, int(attack * SR)))
    env[:a] = np.linspace(0, 1, a)
    r = max(1, min(n - a, int(release * SR)))
    start = n - r if sustain_n is None else min(n - r, sustain_n)
    env[start:start + r] *= np.linspace(1, 0, r)
    env[start + r:] = 0
    return env


# --- instruments: each returns a mono note (numpy float64) -----------------------------------------


def _harmonics(freq: float, t: np.ndarray, amps: list[float], decays: list[float] | None = None, stretch: float = 0.0) -> np.ndarray:
    out = np.zeros_like(t)
    for k, amp in enumerate(amps, start=1):
        f = freq * k * (1 + stretch * k * k)
        if f >= SR / 2 * 0.9:
            break
        part = amp * np.sin(2 * np.pi * f * t)
        if decays is not None:
            part *= np.exp(-t * decays[k - 1])
        out += part
    return out


def pad(freq: float, dur: float, rng: np.random.Generator) -> np.ndarray:
    release = 1.2
    t = _t(dur + release)
    voice = np.zeros_like(t)
    for cents in (-7, 0, 7):
        f = freq * 2 ** (cents / 1200)
        voice += _harmonics(f, t + rng.uniform(0, 0.01), [1 / k for k in range(1, 9)])
    return voice / 3 * _adsr(len(t), attack=min(0.8, dur / 2), release=release)


def piano(freq: float, dur: float, rng: np.random.Generator) -> np.ndarray:
    length = min(dur + 0.4, 3.0)
    t = _t(length)
    amps = [1 / k**1.4 for k in range(1, 9)]
    decays = [1.1 + 0.9 * k for k in range(1, 9)]
    note = _harmonics(freq, t, amps, decays, stretch=0.0004)
    return note * _adsr(len(t), attack=0.004, release=0.25)


def pluck(freq: float, dur: float, rng: np.random.Generator) -> np.ndarray:
    t = _t(min(0.9, dur + 0.5))
    note = _harmonics(freq, t, [1 / k for k in range(1, 7)], [5 + 3 * k for k in range(1, 7)])
    return note * _adsr(len(t), attack=0.003, release=0.05)


def bell(freq: float, dur: float, rng: np.random.Generator) -> np.ndarray:
    t = _t(2.5)
    note = (np.sin(2 * np.pi * freq * t) * np.exp(-t * 1.5) + 0.4 * np.sin(2 * np.pi * freq * 2.76 * t) * np.exp(-t * 3)
            + 0.2 * np.sin(2 * np.pi * freq * 5.4 * t) * np.exp(-t * 6))
    return note * _adsr(len(t), attack=0.002, release=0.3)


def electric_piano(freq: float, dur: float, rng: np.random.Generator) -> np.ndarray:
    t = _t(dur + 0.6)
    index = 1.8 * np.exp(-t * 4)
    note = np.sin(2 * np.pi * freq * t + index * np.sin(2 * np.pi * freq * t)) * np.exp(-t * 0.9)
    return note * _adsr(len(t), attack=0.003, release=0.5)


def bass(freq: float, dur: float, rng: np.random.Generator) -> np.ndarray:
    t = _t(dur + 0.05)
    note = np.tanh(1.6 * (np.sin(2 * np.pi * freq * t) + 0.35 * np.sin(4 * np.pi * freq * t)))
    return note * _adsr(len(t), attack=0.004, release=0.05) * (0.75 + 0.25 * np.exp(-t * 6))


def saw(freq: float, dur: float, rng: np.random.Generator) -> np.ndarray:
    t = _t(min(0.35, dur + 0.15))
    note = _harmonics(freq, t, [1 / k for k in range(1, 16)])
    return note * np.exp(-t * 9) * _adsr(len(t), attack=0.002, release=0.03)


def kick(freq: float, dur: float, rng: np.random.Generator) -> np.ndarray:
    t = _t(0.45)
    phase = 2 * np.pi * np.cumsum(45 + 90 * np.exp(-t * 28)) / SR
    return np.sin(phase) * np.exp(-t * 7) * _adsr(len(t), attack=0.001, release=0.05)


def clap(freq: float, dur: float, rng: np.random.Generator) -> np.ndarray:
    t = _t(0.25)
    noise = np.diff(rng.standard_normal(len(t) + 1))
    body = noise * np.exp(-t * 22) * 0.5 + 0.35 * np.sin(2 * np.pi * 190 * t) * np.exp(-t * 25)
    return body * _adsr(len(t), attack=0.001, release=0.03)


def hat(freq: float, dur: float, rng: np.random.Generator) -> np.ndarray:
    t = _t(0.09 if dur < 0.2 else 0.3)
    noise = np.diff(np.diff(rng.standard_normal(len(t) + 2)))
    return noise * np.exp(-t * (60 if dur < 0.2 else 14)) * 0.35 * _adsr(len(t), attack=0.0005, release=0.01)


Instrument = Callable[[float, float, np.random.Generator], np.ndarray]


class _Track:
    """A stereo bus rendered past the loop end, then folded back (circular)."""

    def __init__(self, frames: int, *, pan: float = 0.0, gain: float = 1.0, lowpass: float | None = None,
                 highpass: float | None = None, reverb: float = 0.2) -> None:
        self.frames = frames
        self.buffer = np.zeros(frames + 12 * SR)
        self.pan, self.gain, self.lowpass, self.highpass, self.reverb = pan, gain, lowpass, highpass, reverb

    def add(self, start: float, note: np.ndarray, velocity: float = 1.0) -> None:
        i = int(round(start * SR)) % self.frames
        end = min(len(self.buffer), i + len(note))
        self.buffer[i:end] += velocity * note[: end - i]

    def folded(self) -> np.ndarray:
        out = np.zeros(self.frames)
        for offset in range(0, len(self.buffer), self.frames):
            piece = self.buffer[offset: offset + self.frames]
            out[: len(piece)] += piece  # tails past the loop end continue at its start
        if self.lowpass or self.highpass:
            spectrum = np.fft.rfft(out)
            freqs = np.fft.rfftfreq(self.frames, 1 / SR)
            if self.lowpass:
                spectrum /= np.sqrt(1 + (freqs / self.lowpass) ** 4)
            if self.highpass:
                spectrum *= 1 / np.sqrt(1 + (self.highpass / np.maximum(freqs, 1e-3)) ** 4)
            out = np.fft.irfft(spectrum, n=self.frames)
        return out * self.gain


def _reverb(signal: np.ndarray, *, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Circular convolution with a decaying, darkened noise tail (per channel, decorrelated)."""
    frames = signal.shape[0]
    length = max(16, min(int(seconds * SR), frames))
    t = np.arange(length) / SR
    out = np.zeros_like(signal)
    freqs = np.fft.rfftfreq(frames, 1 / SR)
    darken = 1 / np.sqrt(1 + (freqs / 4500.0) ** 2)
    for channel in range(signal.shape[1]):
        ir = rng.standard_normal(length) * np.exp(-t * 6.9 / seconds)
        ir /= np.sqrt(np.sum(ir**2))
        out[:, channel] = np.fft.irfft(np.fft.rfft(signal[:, channel]) * np.fft.rfft(ir, n=frames) * darken, n=frames)
    return out


class ProceduralMusicProvider(MusicProvider):
    identifier = "procedural_music"
    verbose_name = "Procedural music bed (embedded)"
    capabilities = frozenset({OFFLINE, LOOPABLE})
    embedded = True

    def generate(
        self,
        *,
        mood: int,
        duration: float,
        out_path: str | Path,
        seed: int,
        tempo: float | None = None,
        key: str | None = None,
    ) -> MusicResult:
        """Render a loopable bed of exactly `duration` seconds (1-600) for `mood` (0-100)."""
        if not 1.0 <= duration <= 600.0:
            raise ProviderError("music duration must be within 1..600 seconds", permanent=True, code="invalid")
        style = style_for_mood(int(mood))
        rng = np.random.default_rng(seed)
        frames = int(round(duration * SR))
        # Tempo: the mood's place inside its category, a little seeded variation, then fitted to the loop.
        position = (mood - STYLES.index(style) * 25) / 25
        nominal = tempo or (style.tempo[0] + (style.tempo[1] - style.tempo[0]) * min(1.0, max(0.0, position))
                            + rng.uniform(-2, 2))
        seconds = frames / SR
        bars = max(1, round(seconds * nominal / 240))
        fitted = bars * 240 / seconds
        if abs(fitted - nominal) / nominal > 0.15:
            beats = max(1, round(seconds * nominal / 60))
            fitted, bars = beats * 60 / seconds, beats / 4
        beat = 60 / fitted
        total_beats = int(round(bars * 4))

        if key:
            root_name, mode = parse_key(key)
        else:
            root_name = style.roots[int(rng.integers(len(style.roots)))]
            mode = style.modes[int(rng.integers(len(style.modes)))]
        scale = MODES[mode]
        root = 48 + NOTE_NAMES.index(root_name)  # C3..B3
        progression = style.progressions[int(rng.integers(len(style.progressions)))]

        def degree(d: int, octave: int = 0) -> int:
            return root + scale[d % 7] + 12 * (d // 7 + octave)

        def chord(bar: int, size: int = 3) -> list[int]:
            d = progression[(bar // style.bars_per_chord) % len(progression)]
            return [degree(d + 2 * i) for i in range(size)]

        tracks = self._arrange(style.category, frames=frames, beat=beat, total_beats=total_beats,
                               chord=chord, degree=degree, rng=rng, scale=scale)
        mix = np.zeros((frames, 2))
        wet_in = np.zeros((frames, 2))
        for track in tracks:
            mono = track.folded()
            left, right = np.cos((track.pan + 1) * np.pi / 4), np.sin((track.pan + 1) * np.pi / 4)
            stereo = np.stack([mono * left, mono * right], axis=1)
            mix += stereo
            wet_in += stereo * track.reverb
        mix += 0.5 * _reverb(wet_in, seconds=2.8 if style.category == "surreal_trip" else 1.6, rng=rng)
        # Soft limiter, then exact peak normalisation (tanh is memoryless: the loop stays seamless).
        level = np.percentile(np.abs(mix), 99.5) or 1.0
        mix = np.tanh(1.2 * mix / level)
        mix *= 10 ** (PEAK_DBFS / 20) / np.max(np.abs(mix))
        encode_audio(mix.astype(np.float32), sample_rate=SR, out_path=out_path)
        peak = 20 * np.log10(np.max(np.abs(np.round(mix * 32767) / 32767)))
        return MusicResult(
            path=str(out_path), duration=frames / SR, sample_rate=SR, channels=2, mood=int(mood),
            category=style.category, tempo=round(fitted, 3), key=f"{root_name} {mode}",
            instruments=list(style.instruments), bars=bars, seed=seed, loopable=True,
            peak_dbfs=round(float(peak), 3), provider=self.identifier,
        )

    @staticmethod
    def _arrange(category: str, *, frames: int, beat: float, total_beats: int, chord, degree, rng, scale) -> list[_Track]:  # noqa: ANN001, PLR0913
        bar_beats = 4
        bars = max(1, (total_beats + bar_beats - 1) // bar_beats)
        end_beat = total_beats

        def at(b: float) -> float:
            return b * beat

        if category == "surreal_trip":
            pads = _Track(frames, gain=0.22, lowpass=1600, reverb=0.6)
            bells = _Track(frames, gain=0.10, pan=0.3, reverb=0.8)
            drone = _Track(frames, gain=0.20, lowpass=300, reverb=0.1)
            for bar in range(0, bars, 2):
                length = min(8, end_beat - bar * 4) * beat
                for i, note in enumerate(chord(bar, 4)):
                    pads.add(at(bar * 4), pad(_hz(note + (12 if i == 3 else 0)), length, rng), 0.8)
                drone.add(at(bar * 4), pad(_hz(chord(bar)[0] - 24), length, rng))
            pentatonic = [0, 1, 2, 4, 5]
            for b in range(end_beat):
                if rng.random() < 0.3:
                    bells.add(at(b + rng.choice([0, 0.5])), bell(_hz(degree(pentatonic[int(rng.integers(5))], 2)), 1, rng),
                              rng.uniform(0.5, 1.0))
            return [pads, bells, drone]

        if category == "intimate_story":
            keys = _Track(frames, gain=0.30, lowpass=5000, reverb=0.3)
            soft = _Track(frames, gain=0.07, lowpass=1200, reverb=0.4)
            plucks = _Track(frames, gain=0.12, pan=-0.25, reverb=0.35)
            figure = [0, 2, 1, 2, 0, 2, 1, 2]  # broken chord in eighths
            for bar in range(bars):
                notes = chord(bar)
                keys.add(at(bar * 4), piano(_hz(notes[0] - 12), 4 * beat, rng), 0.9)
                for i, idx in enumerate(figure):
                    b = bar * 4 + i / 2
                    if b < end_beat:
                        keys.add(at(b), piano(_hz(notes[idx] + 12 * (i == 4)), beat, rng), rng.uniform(0.45, 0.65))
                for note in notes:
                    soft.add(at(bar * 4), pad(_hz(note), min(4, end_beat - bar * 4) * beat, rng))
                for half in range(8):
                    b = bar * 4 + half / 2
                    if b < end_beat and rng.random() < 0.22:
                        plucks.add(at(b), pluck(_hz(degree(int(rng.choice([0, 1, 2, 4, 5])), 2)), beat, rng), rng.uniform(0.6, 1))
            return [keys, soft, plucks]

        if category == "luxury_reveal":
            ep = _Track(frames, gain=0.20, lowpass=3500, reverb=0.35)
            sub = _Track(frames, gain=0.30, lowpass=220, reverb=0.0)
            drums = _Track(frames, gain=0.35, reverb=0.08)
            hats = _Track(frames, gain=0.12, pan=0.2, highpass=6000, reverb=0.05)
            for bar in range(bars):
                notes = chord(bar, 4)
                for hit in (0, 1.5, 2.5):
                    b = bar * 4 + hit
                    if b < end_beat:
                        for note in notes:
                            ep.add(at(b), electric_piano(_hz(note), beat * (1.5 if hit == 0 else 1), rng), 0.5)
                for hit, length in ((0, 1.5), (1.5, 1.0), (3, 0.75)):
                    if bar * 4 + hit < end_beat:
                        sub.add(at(bar * 4 + hit), bass(_hz(notes[0] - 12), length * beat, rng), 0.9)
                for b in range(4):
                    pos = bar * 4 + b
                    if pos >= end_beat:
                        break
                    drums.add(at(pos), kick(0, beat, rng) if b in (0, 2) else clap(0, beat, rng) * 0.5, 0.7)
                    for off in (0, 0.5):
                        hats.add(at(pos + off), hat(0, 0.1, rng), 0.5 if off else 0.8)
            return [ep, sub, drums, hats]

        kicks = _Track(frames, gain=0.55, reverb=0.02)
        claps = _Track(frames, gain=0.28, reverb=0.15)
        hats = _Track(frames, gain=0.18, pan=0.15, highpass=7000, reverb=0.05)
        bassline = _Track(frames, gain=0.30, lowpass=700, reverb=0.0)
        arp = _Track(frames, gain=0.10, pan=-0.3, lowpass=3200, reverb=0.25)
        stabs = _Track(frames, gain=0.08, lowpass=2500, reverb=0.3)
        for bar in range(bars):
            notes = chord(bar)
            for b in range(4):
                pos = bar * 4 + b
                if pos >= end_beat:
                    break
                kicks.add(at(pos), kick(0, beat, rng))
                if b in (1, 3):
                    claps.add(at(pos), clap(0, beat, rng))
                for s in range(4):
                    hats.add(at(pos + s / 4), hat(0, 0.1 if s != 2 else 0.3, rng), 1.0 if s == 2 else 0.45)
                    arp.add(at(pos + s / 4), saw(_hz(notes[(b * 4 + s) % 3] + 12 * (s == 3)), beat / 4, rng), 0.8)
                for e in range(2):
                    bassline.add(at(pos + e / 2), bass(_hz(notes[0] - 12 + 12 * e), beat / 2 * 0.9, rng))
            for note in notes:
                if bar * 4 < end_beat:
                    stabs.add(at(bar * 4), pad(_hz(note + 12), beat * 2, rng), 0.6)
        return [kicks, claps, hats, bassline, arp, stabs]
