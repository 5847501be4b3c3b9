"""ElevenLabs text to speech (reference/apis/elevenlabs.md).

Synchronous: `POST {ELEVENLABS_BASE_URL}/v1/text-to-speech/{voice_id}/with-timestamps?output_format=...`
answers `{"audio_base64", "alignment": {characters, character_start_times_seconds,
character_end_times_seconds}}`; characters are grouped between whitespace into word timings
(the `alignment` follows the input text, so the words are the script's own). Scripts longer than
the model's limit are split at sentences; each chunk sends `previous_text` / `next_text` for
continuous prosody, and chunks are joined with a short crossfade (timings offset to match).
Output: WAV 48 kHz mono, peak-normalised like the embedded voice, or mp3/m4a by extension.

Settings: ELEVENLABS_API_KEY (enables), ELEVENLABS_BASE_URL (https://api.elevenlabs.io),
ELEVENLABS_MODEL_ID (eleven_multilingual_v2), ELEVENLABS_OUTPUT_FORMAT (mp3_44100_128).
`rate` maps to voice_settings.speed (clamped 0.7-1.2: a multiplier, 1.0 normal); `pitch` is not
supported by the API and is ignored.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any, Callable

import httpx

from audio.providers.base import (
    CHARACTER_TIMINGS,
    MULTILINGUAL,
    OUTPUT_SAMPLE_RATE,
    WORD_TIMINGS,
    CharacterAlignment,
    SpeechResult,
    TTSProvider,
    Voice,
    WordTiming,
    decode_audio,
    encode_audio,
    join_with_crossfade,
    peak_normalise,
    words_from_characters,
)
from audio.text import chunk_text
from mediastudio.lib.http import HttpClient
from mediastudio.lib.providers import ProviderError

MODEL_CHAR_LIMITS = {"eleven_flash_v2_5": 40_000, "eleven_turbo_v2_5": 40_000, "eleven_flash_v2": 30_000,
                     "eleven_turbo_v2": 30_000, "eleven_multilingual_v2": 10_000, "eleven_v3": 5_000}


def elevenlabs_client(provider: Any, *, sleep: Callable[[float], None] | None, timeout: float, vendor: str) -> HttpClient:
    """The client every ElevenLabs adapter (speech, music) uses: one host, one key header."""
    key = provider.setting("ELEVENLABS_API_KEY", "")
    extra: dict[str, Any] = {"sleep": sleep} if sleep else {}
    return HttpClient(
        base_url=provider.setting("ELEVENLABS_BASE_URL", "") or "https://api.elevenlabs.io",
        headers={"xi-api-key": key},
        timeout=httpx.Timeout(timeout, connect=10.0),
        secrets=[key],
        vendor=vendor,
        **extra,
    )


class ElevenLabsProvider(TTSProvider):
    identifier = "elevenlabs"
    verbose_name = "ElevenLabs"
    capabilities = frozenset({WORD_TIMINGS, CHARACTER_TIMINGS, MULTILINGUAL})
    settings_keys = ("ELEVENLABS_API_KEY",)
    max_chars = 10_000

    def __init__(self, *, config=None, sleep: Callable[[float], None] | None = None) -> None:  # noqa: ANN001
        super().__init__(config=config)
        self._sleep = sleep

    def _client(self) -> HttpClient:
        return elevenlabs_client(self, sleep=self._sleep, timeout=120.0, vendor="ElevenLabs")

    def list_voices(self) -> list[Voice]:
        with self._client() as client:
            data = client.get("/v1/voices").json()
        return [
            Voice(id=v["voice_id"], name=v.get("name", v["voice_id"]), language=(v.get("labels") or {}).get("language", ""),
                  gender=(v.get("labels") or {}).get("gender", ""))
            for v in data.get("voices", [])
        ]

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
        if not voice:
            raise ProviderError("an ElevenLabs voice id is required", permanent=True, code="invalid")
        model = self.setting("ELEVENLABS_MODEL_ID", "") or "eleven_multilingual_v2"
        fmt = self.setting("ELEVENLABS_OUTPUT_FORMAT", "") or "mp3_44100_128"
        limit = min(int(self.setting("ELEVENLABS_MAX_CHARS", 0) or MODEL_CHAR_LIMITS.get(model, self.max_chars)),
                    MODEL_CHAR_LIMITS.get(model, self.max_chars))
        chunks = chunk_text(text, max_chars=limit)
        pieces, piece_words, characters = [], [], CharacterAlignment([], [], [])
        with self._client() as client:
            for i, chunk in enumerate(chunks):
                body: dict[str, Any] = {"text": chunk, "model_id": model}
                if language:
                    body["language_code"] = language.split("-")[0]
                if rate is not None:
                    body["voice_settings"] = {"speed": min(1.2, max(0.7, float(rate)))}
                if i > 0:
                    body["previous_text"] = chunks[i - 1]
                if i + 1 < len(chunks):
                    body["next_text"] = chunks[i + 1]
                response = client.post(f"/v1/text-to-speech/{voice}/with-timestamps", params={"output_format": fmt}, json=body)
                data = response.json()
                try:
                    audio_bytes = base64.b64decode(data["audio_base64"])
                except (KeyError, TypeError, ValueError) as exc:
                    raise ProviderError("ElevenLabs: response without audio_base64", code="bad_response") from exc
                pieces.append(self._decode(audio_bytes, fmt))
                alignment = data.get("alignment") or data.get("normalized_alignment")
                piece_words.append(
                    CharacterAlignment(alignment["characters"], alignment["character_start_times_seconds"],
                                       alignment["character_end_times_seconds"]) if alignment else None
                )
        joined, offsets = join_with_crossfade(pieces, sample_rate=OUTPUT_SAMPLE_RATE)
        words: list[WordTiming] | None = []
        for offset, chunk_alignment in zip(offsets, piece_words):
            if chunk_alignment is None or words is None:
                words = None
                continue
            shift = offset / OUTPUT_SAMPLE_RATE
            words.extend(words_from_characters(chunk_alignment, offset=shift))
            if characters.characters:
                characters.characters.append(" ")
                characters.starts.append(characters.ends[-1])
                characters.ends.append(shift + chunk_alignment.starts[0] if chunk_alignment.starts else characters.ends[-1])
            characters.characters.extend(chunk_alignment.characters)
            characters.starts.extend(s + shift for s in chunk_alignment.starts)
            characters.ends.extend(e + shift for e in chunk_alignment.ends)
        audio = peak_normalise(joined)
        encode_audio(audio, sample_rate=OUTPUT_SAMPLE_RATE, out_path=out_path)
        return SpeechResult(
            path=str(out_path), duration=len(audio) / OUTPUT_SAMPLE_RATE, sample_rate=OUTPUT_SAMPLE_RATE,
            words=words, characters=characters if words is not None else None, provider=self.identifier,
            voice=voice, characters_billed=sum(len(c) for c in chunks),
        )

    @staticmethod
    def _decode(audio: bytes, fmt: str):  # noqa: ANN205 - np.ndarray
        codec, _, rest = fmt.partition("_")
        if codec == "pcm":
            # Raw 16-bit little-endian mono at the format's rate: give ffmpeg the layout.
            import numpy as np

            from audio.providers.base import resample

            samples = np.frombuffer(audio, dtype="<i2").astype(np.float32) / 32768.0
            return resample(samples, source_rate=int(rest.split("_")[0]), target_rate=OUTPUT_SAMPLE_RATE)
        return decode_audio(audio, sample_rate=OUTPUT_SAMPLE_RATE)
