"""OpenAI text to speech: `POST {OPENAI_BASE_URL}/audio/speech` (base includes /v1).

Body: {"model", "input" (at most 4096 characters), "voice", "response_format": "wav", "speed"
(0.25-4.0), "instructions" (gpt-4o-mini-tts only)}; the response body is the audio. The API
returns no timings: `words` is None and the caller aligns the script with a transcription
(audio.alignment) when it needs word timings. Shapes follow the openai-python SDK as I know it;
the voice list per model is unconfirmed (voices beyond alloy..shimmer are gpt-4o-mini-tts only).

Settings: OPENAI_API_KEY (enables), OPENAI_BASE_URL (https://api.openai.com/v1),
OPENAI_TTS_MODEL (gpt-4o-mini-tts). `rate` is the speed multiplier; `pitch` is unsupported and
ignored; `language` is not a parameter (the model speaks the script's language).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import httpx

from audio.providers.base import (
    MULTILINGUAL,
    OUTPUT_SAMPLE_RATE,
    SpeechResult,
    TTSProvider,
    Voice,
    decode_audio,
    encode_audio,
    join_with_crossfade,
    peak_normalise,
)
from audio.text import chunk_text
from mediastudio.lib.http import HttpClient
from mediastudio.lib.providers import ProviderError

VOICES = ("alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer", "verse")


class OpenAISpeechProvider(TTSProvider):
    identifier = "openai_speech"
    verbose_name = "OpenAI speech"
    capabilities = frozenset({MULTILINGUAL})
    settings_keys = ("OPENAI_API_KEY",)
    max_chars = 4096

    def __init__(self, *, config=None, sleep: Callable[[float], None] | None = None) -> None:  # noqa: ANN001
        super().__init__(config=config)
        self._sleep = sleep

    def _client(self) -> HttpClient:
        key = self.setting("OPENAI_API_KEY", "")
        extra: dict[str, Any] = {"sleep": self._sleep} if self._sleep else {}
        base = (self.setting("OPENAI_BASE_URL", "") or "https://api.openai.com/v1").rstrip("/")
        return HttpClient(base_url=base + "/", headers={"Authorization": f"Bearer {key}"},
                          timeout=httpx.Timeout(120.0, connect=10.0), secrets=[key], vendor="OpenAI", **extra)

    def list_voices(self) -> list[Voice]:
        return [Voice(id=v, name=v.capitalize(), language="") for v in VOICES]

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
        if not text.strip():
            raise ProviderError("the script is empty", permanent=True, code="invalid")
        if voice not in VOICES:
            raise ProviderError(f"OpenAI has no voice '{voice}'", permanent=True, code="voice_not_found")
        model = self.setting("OPENAI_TTS_MODEL", "") or "gpt-4o-mini-tts"
        chunks = chunk_text(text, max_chars=self.max_chars)
        pieces = []
        with self._client() as client:
            for chunk in chunks:
                body: dict[str, Any] = {"model": model, "input": chunk, "voice": voice, "response_format": "wav"}
                if rate is not None:
                    body["speed"] = min(4.0, max(0.25, float(rate)))
                response = client.post("audio/speech", json=body)
                if not response.content:
                    raise ProviderError("OpenAI: empty audio response", code="bad_response")
                pieces.append(decode_audio(response.content, sample_rate=OUTPUT_SAMPLE_RATE))
        joined, _ = join_with_crossfade(pieces, sample_rate=OUTPUT_SAMPLE_RATE)
        audio = peak_normalise(joined)
        encode_audio(audio, sample_rate=OUTPUT_SAMPLE_RATE, out_path=out_path)
        return SpeechResult(path=str(out_path), duration=len(audio) / OUTPUT_SAMPLE_RATE, sample_rate=OUTPUT_SAMPLE_RATE,
                            words=None, provider=self.identifier, voice=voice, characters_billed=len(text))
