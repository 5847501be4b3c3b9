"""The audio-provider contracts (speech, transcription, music) and the audio plumbing they share.

Results are plain dataclasses with `to_dict()` / `from_dict()`: the job row stores them as JSON.
Every vendor failure is a `ProviderError(message, permanent=...)`; a script the voice cannot
speak (wrong language, empty) is a permanent ProviderError too, raised before any synthesis.

Shared helpers: `read_wav` / `write_wav` (16-bit PCM), `decode_audio` / `encode_audio` (ffmpeg,
argument lists with timeouts), `join_with_crossfade` (click-free joins of synthesised chunks).
"""

from __future__ import annotations

import io
import subprocess
import wave
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, ClassVar

import numpy as np

from mediastudio.lib.providers import BaseProvider, ProviderError

OUTPUT_SAMPLE_RATE = 48_000
FFMPEG_TIMEOUT = 300

# Capabilities an audio provider can declare.
WORD_TIMINGS = "word_timings"  # synthesize() returns per-word timings
CHARACTER_TIMINGS = "character_timings"
LANGUAGE_DETECTION = "language_detection"
MULTILINGUAL = "multilingual"
OFFLINE = "offline"  # runs with no network and no key
LOOPABLE = "loopable"

ProgressCallback = Callable[[float, str], None]  # (fraction 0..1, message)


class _Serialisable:
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, data: dict[str, Any]):  # noqa: ANN206 - returns cls
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in data.items() if k in names})


# --- speech ---------------------------------------------------------------------------------


@dataclass
class WordTiming(_Serialisable):
    text: str
    start: float  # seconds from the start of the output file
    end: float


@dataclass
class CharacterAlignment(_Serialisable):
    characters: list[str]
    starts: list[float]
    ends: list[float]


@dataclass
class Voice(_Serialisable):
    id: str
    name: str
    language: str  # code such as "en-us"; "" when the voice is multilingual
    gender: str = ""


@dataclass
class SpeechResult(_Serialisable):
    path: str
    duration: float
    sample_rate: int
    words: list[WordTiming] | None = None
    characters: CharacterAlignment | None = None
    provider: str = ""
    voice: str = ""
    characters_billed: int = 0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SpeechResult":
        data = dict(data)
        if data.get("words") is not None:
            data["words"] = [WordTiming.from_dict(w) for w in data["words"]]
        if data.get("characters") is not None:
            data["characters"] = CharacterAlignment.from_dict(data["characters"])
        return super().from_dict(data)


class TTSProvider(BaseProvider):
    """Text to speech. `max_chars`: the longest text one vendor call takes; longer scripts are
    split at sentence boundaries by the adapter itself, so callers pass the whole script."""

    max_chars: ClassVar[int] = 5000

    def synthesize(
        self,
        text: str,
        *,
        voice: str,
        out_path: str | Path,
        language: str | None = None,
        rate: float | None = None,
        pitch: float | None = None,
    ) -> SpeechResult:
        raise NotImplementedError

    def list_voices(self) -> list[Voice]:
        raise NotImplementedError


# --- transcription -----------------------------------------------------------------------------


@dataclass
class Word(_Serialisable):
    text: str  # stripped of the recogniser's leading space
    start: float
    end: float
    probability: float | None = None


@dataclass
class Segment(_Serialisable):
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Segment":
        data = dict(data)
        data["words"] = [Word.from_dict(w) for w in data.get("words") or []]
        return super().from_dict(data)


@dataclass
class Transcript(_Serialisable):
    language: str
    language_probability: float
    duration: float
    segments: list[Segment] = field(default_factory=list)
    provider: str = ""
    model: str = ""

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments).strip()

    @property
    def words(self) -> list[Word]:
        return [w for s in self.segments for w in s.words]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Transcript":
        data = dict(data)
        data["segments"] = [Segment.from_dict(s) for s in data.get("segments") or []]
        return super().from_dict(data)


class TranscriptionProvider(BaseProvider):
    def transcribe(
        self, path: str | Path, *, language: str | None = None, progress: ProgressCallback | None = None
    ) -> Transcript:
        raise NotImplementedError

    def check_language(self, language: str) -> None:
        """Raise ProviderError(code="unsupported_language") for a language this provider surely
        cannot transcribe, when that is known without loading a model or calling the vendor (so a
        request is refused before it queues a job that can only fail). Default: no check."""


# --- music ---------------------------------------------------------------------------------------


@dataclass
class MusicResult(_Serialisable):
    path: str
    duration: float
    sample_rate: int
    channels: int
    mood: int
    category: str  # surreal_trip | intimate_story | luxury_reveal | high_energy
    tempo: float  # beats per minute actually used
    key: str  # e.g. "A minor"
    instruments: list[str] = field(default_factory=list)
    bars: float = 0.0
    seed: int = 0
    loopable: bool = True
    peak_dbfs: float = 0.0
    provider: str = ""


class MusicProvider(BaseProvider):
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
        raise NotImplementedError


# --- audio plumbing ------------------------------------------------------------------------------


def _run_ffmpeg(args: list[str], *, stdin: bytes | None = None) -> bytes:
    command = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", *args]
    if stdin is not None:
        command.remove("-nostdin")
    try:
        done = subprocess.run(command, input=stdin, capture_output=True, timeout=FFMPEG_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ProviderError(f"ffmpeg timed out after {FFMPEG_TIMEOUT}s", code="timeout") from exc
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()[-500:]
        raise ProviderError(f"ffmpeg failed: {message}", permanent=True, code="ffmpeg")
    return done.stdout


def decode_audio(source: str | Path | bytes, *, sample_rate: int = OUTPUT_SAMPLE_RATE, channels: int = 1) -> np.ndarray:
    """Any audio ffmpeg reads -> float32 array (frames,) or (frames, channels) in [-1, 1]."""
    data_args = ["-i", "pipe:0"] if isinstance(source, bytes) else ["-i", str(source)]
    raw = _run_ffmpeg(
        [*data_args, "-vn", "-ac", str(channels), "-ar", str(sample_rate), "-f", "f32le", "pipe:1"],
        stdin=source if isinstance(source, bytes) else None,
    )
    audio = np.frombuffer(raw, dtype="<f4").astype(np.float32)
    return audio.reshape(-1, channels) if channels > 1 else audio


def write_wav(path: str | Path | io.BytesIO, audio: np.ndarray, *, sample_rate: int) -> None:
    """Float audio (frames,) or (frames, channels) -> 16-bit PCM WAV, clipped to [-1, 1]."""
    data = np.asarray(audio, dtype=np.float64)
    channels = 1 if data.ndim == 1 else data.shape[1]
    pcm = np.round(np.clip(data, -1.0, 1.0) * 32767.0).astype("<i2")
    with wave.open(path if isinstance(path, io.BytesIO) else str(path), "wb") as handle:
        handle.setnchannels(channels)
        handle.setsampwidth(2)
        handle.setframerate(sample_rate)
        handle.writeframes(pcm.tobytes())


def read_wav(path: str | Path | bytes) -> tuple[np.ndarray, int]:
    """16-bit PCM WAV -> (float32 audio (frames,) or (frames, channels), sample_rate)."""
    source = io.BytesIO(path) if isinstance(path, bytes) else str(path)
    with wave.open(source, "rb") as handle:
        channels, rate = handle.getnchannels(), handle.getframerate()
        if handle.getsampwidth() != 2:
            raise ValueError("only 16-bit PCM WAV is supported")
        pcm = np.frombuffer(handle.readframes(handle.getnframes()), dtype="<i2")
    audio = (pcm.astype(np.float32) / 32768.0)
    return (audio.reshape(-1, channels) if channels > 1 else audio), rate


def encode_audio(audio: np.ndarray, *, sample_rate: int, out_path: str | Path) -> None:
    """Write float audio to `out_path`: WAV directly, other extensions (.mp3, .m4a, .aac) via ffmpeg."""
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".wav":
        write_wav(out, audio, sample_rate=sample_rate)
        return
    buffer = io.BytesIO()
    write_wav(buffer, audio, sample_rate=sample_rate)
    codec = {".mp3": ["-c:a", "libmp3lame", "-b:a", "192k"], ".m4a": ["-c:a", "aac", "-b:a", "192k"],
             ".aac": ["-c:a", "aac", "-b:a", "192k"]}.get(out.suffix.lower())
    if codec is None:
        raise ProviderError(f"unsupported audio output format '{out.suffix}'", permanent=True, code="invalid")
    _run_ffmpeg(["-y", "-f", "wav", "-i", "pipe:0", *codec, str(out)], stdin=buffer.getvalue())


def resample(audio: np.ndarray, *, source_rate: int, target_rate: int = OUTPUT_SAMPLE_RATE) -> np.ndarray:
    """Mono float audio resampled with ffmpeg's resampler (length follows the rate ratio)."""
    if source_rate == target_rate:
        return audio.astype(np.float32)
    raw = _run_ffmpeg(
        ["-f", "f32le", "-ar", str(source_rate), "-ac", "1", "-i", "pipe:0", "-af", f"aresample={target_rate}",
         "-f", "f32le", "pipe:1"],
        stdin=np.asarray(audio, dtype="<f4").tobytes(),
    )
    return np.frombuffer(raw, dtype="<f4").astype(np.float32)


def peak_normalise(audio: np.ndarray, *, peak_dbfs: float = -1.5) -> np.ndarray:
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak <= 1e-9:
        return audio
    return (audio * (10 ** (peak_dbfs / 20) / peak)).astype(np.float32)


def join_with_crossfade(chunks: list[np.ndarray], *, sample_rate: int, crossfade: float = 0.02) -> tuple[np.ndarray, list[int]]:
    """Join mono chunks with an equal-power crossfade; returns (audio, start offset of each chunk in samples).

    Why: concatenating synthesiser chunks leaves a step wherever one chunk's last sample differs from
    the next one's first; overlapping faded ends removes it. Chunk k's own time t maps to
    offsets[k] / sample_rate + t in the joined audio.
    """
    if not chunks:
        return np.zeros(0, dtype=np.float32), []
    overlap = int(round(crossfade * sample_rate))
    out = np.asarray(chunks[0], dtype=np.float32).copy()
    offsets = [0]
    for chunk in chunks[1:]:
        chunk = np.asarray(chunk, dtype=np.float32)
        n = min(overlap, len(out), len(chunk))
        offsets.append(len(out) - n)
        if n == 0:
            out = np.concatenate([out, chunk])
            continue
        ramp = np.linspace(0.0, np.pi / 2, n, dtype=np.float32)
        mixed = out[-n:] * np.cos(ramp) + chunk[:n] * np.sin(ramp)
        out = np.concatenate([out[:-n], mixed, chunk[n:]])
    return out, offsets


def fade_edges(audio: np.ndarray, *, sample_rate: int, fade: float = 0.005) -> np.ndarray:
    """Short raised-cosine fade-in/out so a chunk starts and ends at zero."""
    n = min(int(fade * sample_rate), len(audio) // 2)
    if n <= 0:
        return audio
    out = audio.astype(np.float32).copy()
    ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n))).astype(np.float32)
    out[:n] *= ramp
    out[-n:] *= ramp[::-1]
    return out


def words_from_characters(alignment: CharacterAlignment, *, offset: float = 0.0) -> list[WordTiming]:
    """Group per-character times into words split at whitespace (the input text's own words)."""
    words: list[WordTiming] = []
    current, start, end = "", None, None
    for ch, s, e in zip(alignment.characters, alignment.starts, alignment.ends):
        if ch.isspace():
            if current:
                words.append(WordTiming(current, offset + start, offset + end))  # type: ignore[operator]
            current, start, end = "", None, None
            continue
        if not current:
            start = s
        current += ch
        end = e
    if current:
        words.append(WordTiming(current, offset + start, offset + end))  # type: ignore[operator]
    return words
