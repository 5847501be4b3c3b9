"""ElevenLabs Music (reference/apis/music.md): `POST {ELEVENLABS_BASE_URL}/v1/music?output_format=...`
with `xi-api-key`; synchronous, the response body is the audio.

The studio describes the bed from the mood (the same four categories as the video strategy and
the procedural bed: tempo range, instrumentation), asks for an instrumental of the requested
length (`music_length_ms`, 3-600 s), then decodes it, fits it to the exact duration (the API's
length is approximate) with a short fade, and peak-normalises it to -1.5 dBFS like every bed.
`seed` cannot be combined with `prompt` in this API, so results are not reproducible by seed.

Settings: ELEVENLABS_API_KEY (enables), ELEVENLABS_BASE_URL, ELEVENLABS_MUSIC_MODEL (music_v1),
ELEVENLABS_MUSIC_FORMAT (mp3_44100_128). Price: unconfirmed (a 2026 note quotes $0.15/min).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from audio.providers.base import OUTPUT_SAMPLE_RATE, MusicProvider, MusicResult, decode_audio, encode_audio, peak_normalise
from audio.providers.elevenlabs import elevenlabs_client
from audio.providers.procedural_music import style_for_mood
from mediastudio.lib.http import HttpClient
from mediastudio.lib.providers import ProviderError

MIN_SECONDS, MAX_SECONDS = 3.0, 600.0
PEAK_DBFS = -1.5


def music_prompt(*, mood: int, tempo: float | None, key: str | None) -> tuple[str, float]:
    """A compose prompt for the mood, and the tempo it asks for."""
    style = style_for_mood(mood)
    bpm = tempo or round(sum(style.tempo) / 2)
    feel = style.category.replace("_", " ")
    instruments = ", ".join(i.replace("_", " ") for i in style.instruments)
    prompt = (f"Instrumental background music bed for a short marketing video, {feel} mood, about {bpm:g} BPM, "
              f"{instruments}{f', in {key}' if key else ''}; steady energy, no vocals, loop-friendly ending.")
    return prompt, float(bpm)


class ElevenLabsMusicProvider(MusicProvider):
    identifier = "elevenlabs_music"
    verbose_name = "ElevenLabs Music"
    capabilities = frozenset()
    settings_keys = ("ELEVENLABS_API_KEY",)

    def __init__(self, *, config=None, sleep: Callable[[float], None] | None = None) -> None:  # noqa: ANN001
        super().__init__(config=config)
        self._sleep = sleep

    def _client(self) -> HttpClient:
        return elevenlabs_client(self, sleep=self._sleep, timeout=300.0, vendor="ElevenLabs Music")

    def generate(self, *, mood: int, duration: float, out_path: str | Path, seed: int,
                 tempo: float | None = None, key: str | None = None) -> MusicResult:
        if not MIN_SECONDS <= duration <= MAX_SECONDS:
            raise ProviderError(f"ElevenLabs Music makes {MIN_SECONDS:g}-{MAX_SECONDS:g} s of music, not {duration:g} s.",
                                permanent=True, code="invalid")
        prompt, bpm = music_prompt(mood=mood, tempo=tempo, key=key)
        body = {"prompt": prompt, "music_length_ms": int(round(duration * 1000)),
                "model_id": self.setting("ELEVENLABS_MUSIC_MODEL", "music_v1"), "force_instrumental": True}
        fmt = self.setting("ELEVENLABS_MUSIC_FORMAT", "mp3_44100_128")
        with self._client() as client:
            response = client.post("/v1/music", params={"output_format": fmt}, json=body)
        if not response.content:
            raise ProviderError("ElevenLabs Music returned no audio.", permanent=True, code="empty_result")
        audio = decode_audio(response.content, channels=2)
        frames = int(round(duration * OUTPUT_SAMPLE_RATE))
        if len(audio) < frames:
            audio = np.concatenate([audio, np.zeros((frames - len(audio), 2), dtype=audio.dtype)])
        audio = audio[:frames].copy()
        fade = min(len(audio), int(0.25 * OUTPUT_SAMPLE_RATE))  # the cut end must not click
        audio[len(audio) - fade:] *= np.linspace(1.0, 0.0, fade, dtype=audio.dtype)[:, None]
        audio = peak_normalise(audio, peak_dbfs=PEAK_DBFS)
        encode_audio(audio, sample_rate=OUTPUT_SAMPLE_RATE, out_path=out_path)
        style = style_for_mood(mood)
        return MusicResult(path=str(out_path), duration=frames / OUTPUT_SAMPLE_RATE, sample_rate=OUTPUT_SAMPLE_RATE,
                           channels=2, mood=mood, category=style.category, tempo=bpm, key=key or "",
                           instruments=list(style.instruments), seed=seed, loopable=False, peak_dbfs=PEAK_DBFS,
                           provider=self.identifier)
