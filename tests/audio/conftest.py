"""Shared fixtures of the audio tests: one espeak voiceover and its Whisper transcript per session,
and the fake ElevenLabs / OpenAI servers."""

from __future__ import annotations

import importlib.util

from django.conf import settings

if not settings.configured and importlib.util.find_spec("mediastudio.settings_test") is None:
    # Only while the project's test settings do not exist yet: these tests need no database.
    settings.configure()

import pytest  # noqa: E402

# ~35 words, several sentences and commas: pauses, sentence joins and punctuation to keep.
SCRIPT = (
    "Meet the new Aurora lamp. It fills your room with warm, gentle light. "
    "Tap once for focus, twice for calm, and hold to fade into the night. "
    "Designed in Lisbon, built to last, and ready to ship today."
)


@pytest.fixture(scope="session")
def script() -> str:
    return SCRIPT


@pytest.fixture(scope="session")
def voiceover(tmp_path_factory):  # noqa: ANN001, ANN201
    from audio.providers.espeak import EspeakProvider

    out = tmp_path_factory.mktemp("voiceover") / "script.wav"
    return EspeakProvider(config={}).synthesize(SCRIPT, voice="en-us", out_path=out)


@pytest.fixture(scope="session")
def transcript(voiceover):  # noqa: ANN001, ANN201
    from audio.providers.whisper_local import WhisperLocalProvider

    return WhisperLocalProvider(config={"WHISPER_CPU_THREADS": 2}).transcribe(voiceover.path)


class SleepRecorder:
    """Stands in for time.sleep inside HttpClient: records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def elevenlabs_fake():  # noqa: ANN201
    from tests.fakes.elevenlabs_server import ElevenLabsFake

    with ElevenLabsFake() as fake:
        yield fake


@pytest.fixture
def openai_fake():  # noqa: ANN201
    from tests.fakes.openai_audio_server import OpenAIAudioFake

    with OpenAIAudioFake() as fake:
        yield fake
