"""OpenAI video protocol specifics beyond the shared contract: retired Sora models, the gateway
model setting, create body forms, remix, list, delete, authenticated download, webhooks."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from generation.providers.base import FAILED, RUNNING, SUCCEEDED, VideoRequest
from generation.providers.openai_video import OpenAIVideoProvider
from mediastudio.lib.providers import ProviderError
from tests.fakes.openai_video_server import OpenAIVideoFake, parse_form
from tests.generation.providers.harness import SleepRecorder, make_png, run_to_end


@pytest.fixture
def fake():
    server = OpenAIVideoFake().start()
    yield server
    server.stop()


def _provider(fake, **extra) -> OpenAIVideoProvider:
    return OpenAIVideoProvider(config={"OPENAI_VIDEO_API_KEY": OpenAIVideoFake.api_key,
                                       "OPENAI_VIDEO_BASE_URL": f"{fake.url}/v1", "OPENAI_VIDEO_MODEL": "gw-video-1",
                                       "OPENAI_VIDEO_WEBHOOK_SECRET": OpenAIVideoFake.webhook_secret,
                                       "HTTP_SLEEP": SleepRecorder(), **extra})


@pytest.fixture
def provider(fake) -> OpenAIVideoProvider:
    return _provider(fake)


def _request(**overrides) -> VideoRequest:
    return VideoRequest(**{"prompt": "a paper boat on a puddle", "duration": 8.0, "aspect_ratio": "9:16", **overrides})


def _finished(provider) -> str:
    submitted = provider.submit(_request())
    final, _ = run_to_end(provider, submitted)
    assert final.state == SUCCEEDED
    return submitted.external_id


@pytest.mark.parametrize("model", ["sora-2", "sora-2-pro"])
def test_it_refuses_retired_sora_models_before_any_call(fake, provider, model):
    with pytest.raises(ProviderError) as caught:
        provider.submit(_request(model=model))
    message = caught.value.message
    assert caught.value.code == "model_retired" and caught.value.permanent
    assert "2026-09-24" in message and "veo-3.1-generate-preview" in message and "gen4.5" in message
    assert fake.requests == []


def test_it_names_replacements_that_exist_in_the_catalogue(provider):
    from generation.catalog import find_model

    for spec in provider.models():
        for name in spec.lifecycle.replacements:
            found = find_model(name)
            assert found is not None and not found.lifecycle.is_retired, name


def test_it_sends_the_gateway_model_as_multipart_fields(fake, provider):
    provider.submit(_request())
    [call] = fake.calls("POST", "/v1/videos")
    assert call.header("authorization") == f"Bearer {OpenAIVideoFake.api_key}"
    fields, files = parse_form(call)
    assert fields == {"prompt": "a paper boat on a puddle", "seconds": "8", "size": "720x1280", "model": "gw-video-1"}
    assert files == {}


def test_it_lets_the_gateway_pick_its_model_when_none_is_configured(fake):
    provider = _provider(fake, OPENAI_VIDEO_MODEL="")
    submitted = provider.submit(_request())
    fields, _ = parse_form(fake.calls("POST", "/v1/videos")[0])
    assert "model" not in fields and submitted.raw["model"] == "gw-video-1"


def test_it_sends_a_public_image_url_as_a_json_input_reference(fake, provider):
    provider.submit(_request(image_url="https://cdn.example.com/first.png"))
    [call] = fake.calls("POST", "/v1/videos")
    assert call.header("content-type").startswith("application/json")
    assert call.json["input_reference"] == {"image_url": "https://cdn.example.com/first.png"}


def test_it_follows_the_poll_after_header_and_reports_progress(fake, provider):
    submitted = provider.submit(_request())
    assert submitted.poll_after == 2.0
    first = provider.poll(submitted.external_id)
    second = provider.poll(submitted.external_id)
    assert (first.state, second.state) == ("queued", RUNNING)
    assert second.percent == 20 and second.poll_after == 2.0


def test_it_remixes_a_finished_video(fake, provider):
    source = _finished(provider)
    remix = provider.submit(_request(remix_of=source, prompt="same boat, now at night"))
    [call] = fake.calls("POST", f"/v1/videos/{source}/remix")
    assert call.json == {"prompt": "same boat, now at night"}
    assert remix.external_id != source and remix.raw["remixed_from_video_id"] == source


def test_it_downloads_the_video_with_the_api_key(fake, provider, tmp_path):
    video_id = _finished(provider)
    final = provider.poll(video_id)
    dest = provider.download(final, tmp_path / "clip.mp4")
    [call] = fake.calls("GET", f"/v1/videos/{video_id}/content")
    assert call.query == {"variant": "video"} and call.header("authorization") == f"Bearer {OpenAIVideoFake.api_key}"
    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(dest)],
                                      capture_output=True, text=True, timeout=30, check=True).stdout)
    video = [s for s in probe["streams"] if s["codec_type"] == "video"][0]
    assert (video["width"], video["height"]) == (720, 1280)  # the 9:16 request (size 720x1280) got its size


def test_it_reports_expired_assets_as_a_permanent_expired_error(fake, provider, tmp_path):
    fake.switches.expire_outputs = True
    video_id = _finished(provider)
    with pytest.raises(ProviderError) as caught:
        provider.download(provider.poll(video_id), tmp_path / "clip.mp4")
    assert caught.value.code == "expired" and caught.value.permanent
    assert not (tmp_path / "clip.mp4").exists()


def test_it_lists_jobs_across_pages(fake, provider):
    ids = {provider.submit(_request()).external_id for _ in range(3)}
    jobs = provider.list_jobs(limit=2)
    assert len(jobs) == 2 and {j["id"] for j in jobs} <= ids
    assert {j["id"] for j in provider.list_jobs(limit=10)} == ids


def test_it_deletes_a_video_and_refuses_to_cancel(fake, provider):
    submitted = provider.submit(_request())
    with pytest.raises(ProviderError) as caught:
        provider.cancel(submitted.external_id)
    assert caught.value.code == "unsupported"
    provider.delete(submitted.external_id)
    with pytest.raises(ProviderError) as gone:
        provider.poll(submitted.external_id)
    assert gone.value.code == "not_found" and gone.value.permanent


def test_it_treats_an_exhausted_quota_as_permanent(fake, provider):
    fake.inject(429, body={"error": {"message": "You exceeded your current quota.", "type": "insufficient_quota",
                                     "param": None, "code": "insufficient_quota"}})
    with pytest.raises(ProviderError) as caught:
        provider.submit(_request())
    assert caught.value.permanent and caught.value.code == "insufficient_credit"
    assert len(fake.calls("POST")) == 1


def test_it_reads_the_failure_reason_when_a_failed_webhook_arrives(fake, provider):
    fake.switches.moderation = True
    submitted = provider.submit(_request())
    headers, body = fake.webhook_for(submitted.external_id, kind="video.failed")
    event = provider.verify_webhook(headers, body)
    assert event.external_id == submitted.external_id and event.delivery_id == headers["webhook-id"]
    assert event.result.state == FAILED and event.result.error.code == "moderation"


def test_it_ignores_events_it_does_not_know(fake, provider):
    submitted = provider.submit(_request())
    headers, body = fake.webhook_for(submitted.external_id, kind="batch.completed")
    assert provider.verify_webhook(headers, body) is None


def test_it_refuses_a_size_the_protocol_lacks_without_calling(fake, provider):
    with pytest.raises(ProviderError):
        provider.submit(_request(aspect_ratio="1:1"))
    assert fake.requests == []


def test_it_sends_the_image_file_the_way_the_sdk_does(fake, provider, tmp_path):
    image = make_png(tmp_path / "first.png", width=36, height=64)
    provider.submit(_request(image_path=str(image)))
    fields, files = parse_form(fake.calls("POST", "/v1/videos")[0])
    assert files["input_reference"] == ("first.png", Path(image).read_bytes())
    assert fields["size"] == "720x1280"
