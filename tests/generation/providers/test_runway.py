"""Runway specifics: data-URI fallback, first/last frames, THROTTLED, retired gen3a_turbo."""

from __future__ import annotations

import base64

import pytest

from generation.providers.base import QUEUED, VideoRequest
from generation.providers.runway import RunwayProvider
from mediastudio.lib.providers import ProviderError
from tests.fakes.runway_server import RunwayFake
from tests.generation.providers.harness import SleepRecorder, make_png


@pytest.fixture
def fake():
    with RunwayFake() as server:
        yield server


def _provider(fake, **extra):
    return RunwayProvider(config={"RUNWAY_API_KEY": RunwayFake.api_key, "RUNWAY_BASE_URL": fake.url,
                                  "HTTP_SLEEP": SleepRecorder(), **extra})


def test_it_sends_a_data_uri_when_uploads_are_off(fake, tmp_path):
    image = make_png(tmp_path / "a.png")
    provider = _provider(fake, RUNWAY_USE_UPLOADS=False)
    provider.submit(VideoRequest(prompt="x", model="gen4_turbo", image_path=str(image), duration=5, aspect_ratio="9:16"))
    body = fake.calls("POST", "/v1/image_to_video")[0].json
    assert body["promptImage"] == "data:image/png;base64," + base64.b64encode(image.read_bytes()).decode()
    assert body["ratio"] == "720:1280"
    assert fake.calls("POST", "/v1/uploads") == []


def test_it_sends_first_and_last_frames_to_veo31_as_positions(fake, tmp_path):
    first, last = make_png(tmp_path / "a.png"), make_png(tmp_path / "b.png")
    _provider(fake).submit(VideoRequest(prompt="x", model="veo3.1", image_path=str(first), last_frame_path=str(last),
                                        duration=8, aspect_ratio="16:9", resolution="1080p"))
    body = fake.calls("POST", "/v1/image_to_video")[0].json
    assert [p["position"] for p in body["promptImage"]] == ["first", "last"]
    assert body["ratio"] == "1920:1080" and body["audio"] is False


def test_it_reports_a_throttled_task_as_queued(fake):
    provider = _provider(fake)
    submitted = provider.submit(VideoRequest(prompt="x", model="gen4.5", duration=5))
    provider.poll(submitted.external_id)  # PENDING
    throttled = provider.poll(submitted.external_id)
    assert throttled.state == QUEUED and "concurrency" in throttled.message


def test_it_refuses_gen3a_turbo_with_its_retirement_date_and_replacements(fake, tmp_path):
    with pytest.raises(ProviderError) as caught:
        _provider(fake).submit(VideoRequest(prompt="x", model="gen3a_turbo", image_path=str(make_png(tmp_path / "a.png"))))
    assert "2026-06-10" in str(caught.value) and "gen4_turbo" in str(caught.value)
    assert fake.requests == []


def test_it_refuses_square_text_to_video_on_gen45_before_calling(fake):
    with pytest.raises(ProviderError) as caught:
        _provider(fake).submit(VideoRequest(prompt="x", model="gen4.5", duration=5, aspect_ratio="1:1"))
    assert caught.value.code == "unsupported" and fake.requests == []
