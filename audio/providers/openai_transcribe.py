"""OpenAI transcription: `POST {OPENAI_BASE_URL}/audio/transcriptions` (multipart form).

Fields: file, model (whisper-1: the model that returns `verbose_json` with word timestamps),
response_format=verbose_json, timestamp_granularities[]=word and segment, language (optional,
ISO-639-1). Response: {"task", "language" (a name such as "english"), "duration", "text",
"segments": [{start, end, text, avg_logprob, no_speech_prob, ...}], "words": [{word, start, end}]}.
Words are top-level; they are attached to the segment whose span holds their midpoint. No
per-word probability and no language probability is returned (reported as None / 1.0).
File limit 25 MB (checked before upload). Shapes follow the openai-python SDK as I know it;
gpt-4o-transcribe models answer only json/text without timestamps (unconfirmed for newer ones).

Settings: OPENAI_API_KEY, OPENAI_BASE_URL (https://api.openai.com/v1), OPENAI_TRANSCRIBE_MODEL (whisper-1).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import httpx

from audio.providers.base import (
    LANGUAGE_DETECTION,
    MULTILINGUAL,
    ProgressCallback,
    Segment,
    Transcript,
    TranscriptionProvider,
    Word,
)
from mediastudio.lib.http import HttpClient
from mediastudio.lib.providers import ProviderError

MAX_UPLOAD_BYTES = 25 * 1024 * 1024
LANGUAGE_CODES = {
    "english": "en", "french": "fr", "german": "de", "spanish": "es", "italian": "it", "portuguese": "pt",
    "dutch": "nl", "japanese": "ja", "chinese": "zh", "korean": "ko", "russian": "ru", "arabic": "ar",
    "hindi": "hi", "polish": "pl", "turkish": "tr", "swedish": "sv",
}


class OpenAITranscriptionProvider(TranscriptionProvider):
    identifier = "openai_transcribe"
    verbose_name = "OpenAI transcription (Whisper API)"
    capabilities = frozenset({LANGUAGE_DETECTION, MULTILINGUAL})
    settings_keys = ("OPENAI_API_KEY",)

    def __init__(self, *, config=None, sleep: Callable[[float], None] | None = None) -> None:  # noqa: ANN001
        super().__init__(config=config)
        self._sleep = sleep

    def _client(self) -> HttpClient:
        key = self.setting("OPENAI_API_KEY", "")
        extra: dict[str, Any] = {"sleep": self._sleep} if self._sleep else {}
        base = (self.setting("OPENAI_BASE_URL", "") or "https://api.openai.com/v1").rstrip("/")
        return HttpClient(base_url=base + "/", headers={"Authorization": f"Bearer {key}"},
                          timeout=httpx.Timeout(300.0, connect=10.0), secrets=[key], vendor="OpenAI", **extra)

    def transcribe(
        self, path: str | Path, *, language: str | None = None, progress: ProgressCallback | None = None
    ) -> Transcript:
        source = Path(path)
        if not source.is_file():
            raise ProviderError(f"no audio file at {path}", permanent=True, code="invalid")
        if source.stat().st_size > MAX_UPLOAD_BYTES:
            raise ProviderError("audio over OpenAI's 25 MB upload limit; compress or split it", permanent=True, code="too_large")
        model = self.setting("OPENAI_TRANSCRIBE_MODEL", "") or "whisper-1"
        form: dict[str, Any] = {"model": model, "response_format": "verbose_json",
                                "timestamp_granularities[]": ["word", "segment"]}  # a list repeats the field
        if language:
            form["language"] = language.split("-")[0]
        if progress:
            progress(0.0, "uploading")
        # Bytes, not a file handle: a sized body (Content-Length) rather than a chunked upload.
        files = {"file": (source.name, source.read_bytes(), "application/octet-stream")}
        with self._client() as client:
            response = client.post("audio/transcriptions", data=form, files=files)
        data = response.json()
        words = [Word(text=w["word"].strip(), start=float(w["start"]), end=float(w["end"]))
                 for w in data.get("words") or [] if str(w.get("word", "")).strip()]
        segments = [Segment(start=float(s["start"]), end=float(s["end"]), text=str(s.get("text", "")).strip())
                    for s in data.get("segments") or []]
        if not segments and words:
            segments = [Segment(start=words[0].start, end=words[-1].end, text=data.get("text", ""))]
        for word in words:
            middle = (word.start + word.end) / 2
            home = next((s for s in segments if s.start <= middle <= s.end), None)
            if home is None:
                home = min(segments, key=lambda s: min(abs(s.start - middle), abs(s.end - middle)))
            home.words.append(word)
        name = str(data.get("language") or language or "")
        if progress:
            progress(1.0, "done")
        return Transcript(language=LANGUAGE_CODES.get(name.lower(), name.lower()), language_probability=1.0,
                          duration=float(data.get("duration") or 0.0), segments=segments,
                          provider=self.identifier, model=model)
