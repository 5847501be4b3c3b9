"""Luma specifics: the surface follows the model family and its key."""

from __future__ import annotations

import pytest

from generation.providers.base import VideoRequest
from generation.providers.luma import LumaProvider
from mediastudio.lib.providers import ProviderError
from tests.fakes.luma_server import LumaFake
from tests.generation.providers.harness import SleepRecorder, make_png


@pytest.fixture
def fake():
    with LumaFake() as server:
        yield server


def _provider(fake, *, agents=True, legacy=True):
    return LumaProvider(config={
        "LUMA_API_KEY": LumaFake.agents_key if agents else "", "LUMA_BASE_URL": f"{fake.url}/v1",
        "LUMA_DREAM_MACHINE_API_KEY": LumaFake.legacy_key if legacy else "",
        "LUMA_DREAM_MACHINE_BASE_URL": f"{fake.url}/dream-machine/v1", "HTTP_SLEEP": SleepRecorder()})


def test_it_defaults_to_ray32_and_falls_back_to_ray2_with_only_the_legacy_key(fake):
    assert _provider(fake).model().name == "ray-3.2"
    assert _provider(fake, agents=False).model().name == "ray-2"


def test_it_refuses_a_model_whose_surface_has_no_key_before_calling(fake):
    with pytest.raises(ProviderError) as caught:
        _provider(fake, legacy=False).submit(VideoRequest(prompt="x", model="ray-2", duration=5))
    assert caught.value.code == "unauthorized" and "LUMA_DREAM_MACHINE_API_KEY" in str(caught.value)
    assert fake.requests == []


def test_it_needs_a_public_url_for_legacy_image_to_video(fake, tmp_path):
    request = VideoRequest(prompt="x", model="ray-2", duration=5, image_path=str(make_png(tmp_path / "a.png")))
    with pytest.raises(ProviderError) as caught:
        _provider(fake).submit(request)
    assert caught.value.code == "image_url_required" and fake.requests == []


def test_it_polls_each_surface_on_its_own_path(fake):
    provider = _provider(fake)
    legacy = provider.submit(VideoRequest(prompt="x", model="ray-2", duration=9, webhook_url="https://app.example/hook"))
    current = provider.submit(VideoRequest(prompt="x", model="ray-3.2", duration=10))
    assert legacy.external_id.startswith("dm:") and not current.external_id.startswith("dm:")
    provider.poll(legacy.external_id)
    provider.poll(current.external_id)
    paths = [r.path for r in fake.calls("GET")]
    assert paths == [f"/dream-machine/v1/generations/{legacy.external_id[3:]}", f"/v1/generations/{current.external_id}"]
    assert fake.calls("POST")[0].json["callback_url"] == "https://app.example/hook"
    assert provider.verify_webhook({}, b'{"id": "x", "state": "completed"}') is None
