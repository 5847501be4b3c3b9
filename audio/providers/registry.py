"""identifier -> audio adapter class (dotted path, imported lazily). A new provider is one line here.

The embedded defaults (espeak, whisper_local, procedural_music) need no key and are always enabled
unless <IDENTIFIER>_ENABLED is False; remote ones are enabled by their API key setting.
"""

from __future__ import annotations

from typing import Any, Mapping

from mediastudio.lib.providers import Registry

tts_providers = Registry()
tts_providers.register("espeak", "audio.providers.espeak.EspeakProvider")
tts_providers.register("elevenlabs", "audio.providers.elevenlabs.ElevenLabsProvider")
tts_providers.register("openai_speech", "audio.providers.openai_speech.OpenAISpeechProvider")

transcription_providers = Registry()
transcription_providers.register("whisper_local", "audio.providers.whisper_local.WhisperLocalProvider")
transcription_providers.register("openai_transcribe", "audio.providers.openai_transcribe.OpenAITranscriptionProvider")

music_providers = Registry()
music_providers.register("procedural_music", "audio.providers.procedural_music.ProceduralMusicProvider")
music_providers.register("elevenlabs_music", "audio.providers.elevenlabs_music.ElevenLabsMusicProvider")

DEFAULT_TTS = "espeak"
DEFAULT_TRANSCRIPTION = "whisper_local"
DEFAULT_MUSIC = "procedural_music"


def get_tts_provider(identifier: str = DEFAULT_TTS, *, config: Mapping[str, Any] | None = None, require_enabled: bool = True):  # noqa: ANN201
    return tts_providers.get(identifier, config=config, require_enabled=require_enabled)


def get_transcription_provider(identifier: str = DEFAULT_TRANSCRIPTION, *, config: Mapping[str, Any] | None = None,
                               require_enabled: bool = True):  # noqa: ANN201
    return transcription_providers.get(identifier, config=config, require_enabled=require_enabled)


def get_music_provider(identifier: str = DEFAULT_MUSIC, *, config: Mapping[str, Any] | None = None, require_enabled: bool = True):  # noqa: ANN201
    return music_providers.get(identifier, config=config, require_enabled=require_enabled)
