"""eSpeak NG: the embedded text-to-speech default (no key, no network).

Audio and word timings come from one synthesis: libespeak-ng (ctypes, Debian `libespeak-ng1`) runs
in synchronous mode with a callback that receives both the samples and the word events
(`espeakEVENT_WORD`: character position and length in the input, sample index of the word's start).
Each of the script's whitespace words gets the start of the first engine word inside it, so the
timings are keyed to the script exactly as written (punctuation kept).

Long scripts are split at sentence boundaries into chunks of at most `max_chars`, synthesised one
by one, faded at their edges and joined with a short equal-power crossfade; word timings are
offset by each chunk's position. The result is resampled to 48 kHz mono with ffmpeg and
peak-normalised to -1.5 dBFS.

The library keeps global state, so synthesis is serialised by a process-wide lock.
Settings: ESPEAK_LIBRARY (default "libespeak-ng.so.1"), ESPEAK_MAX_CHARS (default 600),
ESPEAK_DEFAULT_VOICE ("en-us").
"""

from __future__ import annotations

import ctypes
import functools
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from audio.providers.base import (
    OFFLINE,
    OUTPUT_SAMPLE_RATE,
    WORD_TIMINGS,
    MULTILINGUAL,
    SpeechResult,
    TTSProvider,
    Voice,
    WordTiming,
    encode_audio,
    fade_edges,
    join_with_crossfade,
    peak_normalise,
    resample,
)
from audio.text import LanguageMismatch, check_language, chunk_text, script_words
from mediastudio.lib.providers import ProviderError

# espeak_lib.h constants
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_EVENT_LIST_TERMINATED, _EVENT_WORD, _EVENT_END, _EVENT_MSG_TERMINATED = 0, 1, 5, 6
_POS_CHARACTER = 1
_CHARS_UTF8, _ENDPAUSE = 1, 0x1000
_PARAM_RATE, _PARAM_PITCH = 1, 3

DEFAULT_RATE = 175  # words per minute, espeak-ng's own default
DEFAULT_PITCH = 50  # 0-100


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based character index in the input
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # milliseconds
        ("sample", ctypes.c_int),  # sample index from the start of the synthesis
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@dataclass
class _Chunk:
    audio: np.ndarray  # float32 at the engine's rate
    word_starts: list[tuple[int, int]]  # (text_position 0-based, sample)


class _Engine:
    """One libespeak-ng per process; `synth` is serialised by a lock."""

    _instance: ClassVar["_Engine | None"] = None
    _create_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, library: str) -> None:
        try:
            self.lib = ctypes.CDLL(library)
        except OSError as exc:
            raise ProviderError(
                f"espeak-ng library '{library}' not found (install libespeak-ng1): {exc}", permanent=True, code="not_installed"
            ) from exc
        self.lib.espeak_Initialize.restype = ctypes.c_int
        self.lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self.lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
            ctypes.c_void_p, ctypes.c_void_p,
        ]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self.sample_rate = self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, None, _INITIALIZE_DONT_EXIT)
        if self.sample_rate <= 0:
            raise ProviderError("espeak-ng failed to initialise (voice data missing?)", permanent=True, code="not_installed")
        self.lock = threading.Lock()
        self._samples: list[np.ndarray] = []
        self._events: list[tuple[int, int, int]] = []
        self._callback = _Callback(self._on_synth)  # kept referenced: the C side holds the pointer
        self.lib.espeak_SetSynthCallback(self._callback)

    @classmethod
    def get(cls, library: str) -> "_Engine":
        with cls._create_lock:
            if cls._instance is None:
                cls._instance = cls(library)
            return cls._instance

    def _on_synth(self, wav, count, events) -> int:  # noqa: ANN001 - ctypes callback
        if wav and count > 0:
            self._samples.append(np.ctypeslib.as_array(wav, shape=(count,)).astype(np.float32) / 32768.0)
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            event = events[i]
            if event.type == _EVENT_WORD:
                self._events.append((event.type, event.text_position - 1, event.sample))
            i += 1
        return 0

    def synth(self, text: str, *, voice: str, rate: int, pitch: int) -> _Chunk:
        with self.lock:
            # Voice ids are language codes; the engine loads a voice by its file name ("gmw/en").
            if self.lib.espeak_SetVoiceByName(_voice_files().get(voice, voice).encode()) != 0:
                raise ProviderError(f"espeak-ng has no voice '{voice}'", permanent=True, code="voice_not_found")
            self.lib.espeak_SetParameter(_PARAM_RATE, rate, 0)
            self.lib.espeak_SetParameter(_PARAM_PITCH, pitch, 0)
            self._samples, self._events = [], []
            data = text.encode("utf-8")
            status = self.lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8 | _ENDPAUSE, None, None)
            self.lib.espeak_Synchronize()
            if status != 0:
                raise ProviderError(f"espeak-ng synthesis failed (status {status})", code="synthesis")
            audio = np.concatenate(self._samples) if self._samples else np.zeros(0, dtype=np.float32)
            return _Chunk(audio=audio, word_starts=[(pos, sample) for _, pos, sample in self._events])


def _voice_files() -> dict[str, str]:
    return dict(_installed_voice_table()[1])


def _installed_voices() -> tuple[Voice, ...]:
    return _installed_voice_table()[0]


@functools.lru_cache(maxsize=1)
def _installed_voice_table() -> tuple[tuple[Voice, ...], tuple[tuple[str, str], ...]]:
    try:
        done = subprocess.run(["espeak-ng", "--voices"], capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ProviderError(f"cannot list espeak-ng voices: {exc}", permanent=True, code="not_installed") from exc
    voices, files = [], []
    for line in done.stdout.splitlines()[1:]:
        parts = line.split()
        if len(parts) < 5:
            continue
        language, age_gender, name, file_name = parts[1], parts[2], parts[3], parts[4]
        gender = {"M": "male", "F": "female"}.get(age_gender.split("/")[-1], "")
        # A language with two voices (Cantonese, and Cantonese written as Jyutping) names the second
        # by its file, so that each can be chosen.
        voice_id = language if language not in dict(files) else file_name.rsplit("/", 1)[-1]
        # Its language carries its writing system when the file says it reads romanised text
        # (yue-Latn-jyutping: Cantonese written in Latin letters), so a Latin script is not refused.
        written = f"{language}-Latn" if "-latn" in file_name.lower() and "-latn" not in language.lower() else language
        voices.append(Voice(id=voice_id, name=name.replace("_", " "), language=written, gender=gender))
        files.append((voice_id, file_name))
    return tuple(voices), tuple(files)


def _word_timings(text: str, chunk: _Chunk, *, sample_rate: int) -> list[WordTiming]:
    """Script words of one chunk with times (seconds, chunk-relative) from the engine's word events."""
    words = script_words(text)
    starts: list[float | None] = []
    events = sorted(chunk.word_starts)
    for word in words:
        hit = next((s for pos, s in events if word.start_char <= pos < word.end_char), None)
        starts.append(None if hit is None else hit / sample_rate)
    total = len(chunk.audio) / sample_rate
    # A token the engine did not speak (a lone dash) takes its next spoken neighbour's start.
    for i in range(len(starts) - 1, -1, -1):
        if starts[i] is None:
            starts[i] = starts[i + 1] if i + 1 < len(starts) else total
    timings = []
    energy_floor = 10 ** (-40 / 20)
    for i, word in enumerate(words):
        start = float(starts[i])  # type: ignore[arg-type]
        limit = float(starts[i + 1]) if i + 1 < len(words) else total  # type: ignore[arg-type]
        # The word ends where its sound ends, not where the following pause does.
        segment = np.abs(chunk.audio[int(start * sample_rate): int(limit * sample_rate)])
        loud = np.nonzero(segment > energy_floor)[0]
        end = start + float(loud[-1] + 1) / sample_rate if loud.size else limit
        timings.append(WordTiming(word.text, start, float(max(start, min(end, limit)))))
    return timings


class EspeakProvider(TTSProvider):
    identifier = "espeak"
    verbose_name = "eSpeak NG (embedded)"
    capabilities = frozenset({WORD_TIMINGS, MULTILINGUAL, OFFLINE})
    embedded = True
    max_chars = 600

    def list_voices(self) -> list[Voice]:
        return list(_installed_voices())

    def _voice(self, voice: str, language: str | None) -> Voice:
        voices = self.list_voices()
        wanted = voice or language or self.setting("ESPEAK_DEFAULT_VOICE", "en-us")
        for candidate in voices:
            if candidate.id.lower() == wanted.lower():
                return candidate
        if not voice:
            # A bare language ("fr"): its voice of that id, else the one espeak-ng files under the
            # language's name ("roa/fr", which is fr-fr), else any of its regional variants.
            base = wanted.lower().split("-")[0]
            files = _voice_files()
            for matches in (
                lambda c: c.id.lower() == base,
                lambda c: files.get(c.id, "").rsplit("/", 1)[-1].lower() == base,
                lambda c: c.id.lower().split("-")[0] == base,
            ):
                for candidate in voices:
                    if matches(candidate):
                        return candidate
        raise ProviderError(f"espeak-ng has no voice '{wanted}'", permanent=True, code="voice_not_found")

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
        """Speak `text` with espeak voice `voice` (an id from list_voices(), e.g. "en-us").

        rate: words per minute (80-450, default 175); pitch: 0-100 (default 50).
        Raises ProviderError(permanent=True) for an empty script, an unknown voice or a script
        obviously in another language than the voice's.
        """
        if not text.strip():
            raise ProviderError("the script is empty", permanent=True, code="invalid")
        chosen = self._voice(voice, language)
        if language and chosen.language.split("-")[0] != language.lower().split("-")[0]:
            raise ProviderError(
                f"voice '{chosen.id}' speaks '{chosen.language}', not '{language}'", permanent=True, code="language_mismatch"
            )
        try:
            check_language(text, language=chosen.language)
        except LanguageMismatch as exc:
            raise ProviderError(str(exc), permanent=True, code="language_mismatch") from exc
        wpm = int(round(min(450, max(80, rate if rate is not None else DEFAULT_RATE))))
        pitch_value = int(round(min(100, max(0, pitch if pitch is not None else DEFAULT_PITCH))))
        engine = _Engine.get(self.setting("ESPEAK_LIBRARY", "libespeak-ng.so.1"))
        max_chars = int(self.setting("ESPEAK_MAX_CHARS", self.max_chars))

        pieces: list[np.ndarray] = []
        piece_words: list[list[WordTiming]] = []
        for chunk_text_ in chunk_text(text, max_chars=max_chars):
            chunk = engine.synth(chunk_text_, voice=chosen.id, rate=wpm, pitch=pitch_value)
            pieces.append(fade_edges(chunk.audio, sample_rate=engine.sample_rate))
            piece_words.append(_word_timings(chunk_text_, chunk, sample_rate=engine.sample_rate))
        joined, offsets = join_with_crossfade(pieces, sample_rate=engine.sample_rate)
        words = [
            WordTiming(w.text, w.start + offset / engine.sample_rate, w.end + offset / engine.sample_rate)
            for offset, chunk_words in zip(offsets, piece_words)
            for w in chunk_words
        ]
        audio = peak_normalise(resample(joined, source_rate=engine.sample_rate, target_rate=OUTPUT_SAMPLE_RATE))
        encode_audio(audio, sample_rate=OUTPUT_SAMPLE_RATE, out_path=out_path)
        return SpeechResult(
            path=str(out_path),
            duration=len(audio) / OUTPUT_SAMPLE_RATE,
            sample_rate=OUTPUT_SAMPLE_RATE,
            words=words,
            provider=self.identifier,
            voice=chosen.id,
            characters_billed=0,
        )
