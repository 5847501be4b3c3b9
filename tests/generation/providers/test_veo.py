"""Veo specifics: Google's bad-key answer, the key staying on the API host, 8 s rules."""

from __future__ import annotations

import pytest

from generation.providers.base import SUCCEEDED, PollResult, VideoProvider, VideoRequest
from generation.providers.veo import VeoProvider
from mediastudio.lib.providers import ProviderError
from tests.fakes.veo_server import VeoFake
from tests.generation.providers.harness import SleepRecorder


@pytest.fixture
def fake():
    with VeoFake() as server:
        yield server


def _provider(fake, **extra):
    return VeoProvider(config={"GEMINI_API_KEY": VeoFake.api_key, "GEMINI_BASE_URL": fake.url,
                               "HTTP_SLEEP": SleepRecorder(), **extra})


def test_it_maps_googles_api_key_invalid_400_to_unauthorized(fake):
    with pytest.raises(ProviderError) as caught:
        _provider(fake, GEMINI_API_KEY="wrong").submit(VideoRequest(prompt="x", model="veo-3.1-generate-preview", duration=8))
    assert caught.value.permanent and caught.value.code == "unauthorized"
    assert "wrong" not in str(caught.value)


def test_it_refuses_1080p_shorter_than_eight_seconds_before_calling(fake):
    with pytest.raises(ProviderError):
        _provider(fake).submit(VideoRequest(prompt="x", model="veo-3.1-generate-preview", duration=4, resolution="1080p"))
    assert fake.requests == []


def test_it_never_sends_the_key_to_another_host(fake, tmp_path, monkeypatch):
    handed = []
    monkeypatch.setattr(VideoProvider, "download", lambda self, result, dest: handed.append(result.result_urls[0]) or dest)
    with VeoFake() as other:
        url = f"{other.url}/v1beta/files/abc:download?alt=media"
        _provider(fake).download(PollResult(state=SUCCEEDED, result_urls=[url]), tmp_path / "v.mp4")
        assert handed == [url]  # went to the keyless SSRF-safe default download
        assert other.requests == []


def test_it_sends_reference_images_as_assets(fake, tmp_path):
    from tests.generation.providers.harness import make_png

    refs = [str(make_png(tmp_path / f"r{i}.png")) for i in range(2)]
    _provider(fake).submit(VideoRequest(prompt="x", model="veo-3.1-generate-preview", duration=8, reference_image_paths=refs))
    instance = fake.calls("POST")[0].json["instances"][0]
    assert [r["referenceType"] for r in instance["referenceImages"]] == ["ASSET", "ASSET"]
