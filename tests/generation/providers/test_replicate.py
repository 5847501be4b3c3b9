"""Replicate adapter specifics beyond the shared contract: model vs pinned-version routes, input
mapping, file uploads, Prefer: wait, throttling advice, output expiry, listing, webhooks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from generation.providers import replicate as replicate_module
from generation.providers.base import CANCELED, FAILED, SUCCEEDED, VideoRequest
from generation.providers.fal import catalogue_routes
from generation.providers.replicate import ReplicateProvider
from mediastudio.lib.providers import ProviderError
from tests.fakes.replicate_server import MODELS, ReplicateFake
from tests.generation.providers.harness import SleepRecorder, make_png, run_to_end


@pytest.fixture
def fake():
    server = ReplicateFake().start()
    yield server
    server.stop()


@pytest.fixture
def sleep() -> SleepRecorder:
    return SleepRecorder()


def _provider(fake, sleep=None, **extra) -> ReplicateProvider:
    return ReplicateProvider(config={"REPLICATE_API_TOKEN": ReplicateFake.api_key, "REPLICATE_BASE_URL": fake.url,
                                     "REPLICATE_WEBHOOK_SECRET": ReplicateFake.webhook_secret,
                                     "HTTP_SLEEP": sleep or SleepRecorder(), **extra})


@pytest.fixture
def provider(fake, sleep) -> ReplicateProvider:
    return _provider(fake, sleep)


@pytest.fixture
def image(tmp_path: Path) -> Path:
    return make_png(tmp_path / "ref.png")


def _veo(**overrides) -> VideoRequest:
    return VideoRequest(**{"prompt": "a lighthouse at dusk", "model": "google/veo-3.1", "duration": 8.0, **overrides})


def test_it_maps_veo_fields_including_frames_and_references(fake, provider, image, tmp_path):
    last = make_png(tmp_path / "last.png")
    provider.submit(_veo(image_path=str(image), last_frame_path=str(last), reference_image_paths=[str(image)],
                         negative_prompt="text", seed=3, resolution="1080p"))
    [call] = fake.calls("POST", "/v1/models/google/veo-3.1/predictions")
    sent = call.json["input"]
    assert call.header("authorization") == f"Bearer {ReplicateFake.api_key}"
    assert sent["duration"] == 8 and sent["seed"] == 3 and sent["generate_audio"] is False
    assert sent["aspect_ratio"] == "16:9" and sent["resolution"] == "1080p" and sent["negative_prompt"] == "text"
    assert sent["image"].startswith("data:image/png;base64,") and sent["last_frame"].startswith("data:image/png;base64,")
    assert len(sent["reference_images"]) == 1
    assert "webhook" not in call.json and "prefer" not in call.headers


def test_it_uses_the_pinned_version_route_when_the_catalogue_names_one(fake, provider, monkeypatch):
    routes = {name: dict(route) for name, route in catalogue_routes("replicate").items()}
    routes["google/veo-3.1"]["version"] = MODELS["google/veo-3.1"][0]
    monkeypatch.setattr(replicate_module, "catalogue_routes", lambda provider: routes)
    submitted = provider.submit(_veo())
    [call] = fake.calls("POST", "/v1/predictions")
    assert call.json["version"] == MODELS["google/veo-3.1"][0] and call.json["input"]["prompt"] == "a lighthouse at dusk"
    assert fake.calls("POST", "/v1/models/") == []
    assert run_to_end(provider, submitted)[0].state == SUCCEEDED


def test_it_uploads_a_large_image_through_the_files_api(fake, image):
    provider = _provider(fake, REPLICATE_DATA_URI_MAX=64)
    provider.submit(VideoRequest(prompt="turn", model="kwaivgi/kling-v2.1", image_path=str(image), resolution="1080p"))
    [upload] = fake.calls("POST", "/v1/files")
    [created] = fake.calls("POST", "/v1/models/kwaivgi/kling-v2.1/predictions")
    file_id = created.json["input"]["start_image"].rsplit("/", 1)[1]
    assert fake.files[file_id] == image.read_bytes()
    assert created.json["input"]["mode"] == "pro"
    assert upload.header("authorization") == f"Bearer {ReplicateFake.api_key}"


def test_it_asks_for_webhooks_on_start_and_completion(fake, provider):
    provider.submit(_veo(webhook_url="https://studio.example.com/hooks/replicate"))
    [call] = fake.calls("POST")
    assert call.json["webhook"] == "https://studio.example.com/hooks/replicate"
    assert call.json["webhook_events_filter"] == ["start", "completed"]


def test_it_takes_a_finished_prediction_from_a_bounded_wait(fake):
    fake.fast_models.add("google/veo-3.1")
    provider = _provider(fake, REPLICATE_PREFER_WAIT=90, REPLICATE_CANCEL_AFTER="10m")
    submitted = provider.submit(_veo())
    [call] = fake.calls("POST")
    assert call.header("prefer") == "wait=60"  # Replicate caps the wait at 60 s
    assert call.header("cancel-after") == "10m"
    assert submitted.poll_after == 0 and submitted.raw["status"] == "succeeded"
    assert provider.result_of(submitted.raw).result_urls == [submitted.raw["output"]]


def test_it_keeps_polling_when_the_wait_ends_before_the_render(fake):
    provider = _provider(fake, REPLICATE_PREFER_WAIT=5)
    submitted = provider.submit(_veo())
    assert submitted.raw["status"] == "starting" and submitted.poll_after == 10


def test_it_reads_retry_advice_from_the_throttle_message(fake, provider, sleep):
    fake.inject(429, body={"title": "Too many requests", "status": 429,
                           "detail": "Request was throttled. Your rate limit resets in ~30s."}, times=10)
    with pytest.raises(ProviderError) as caught:
        provider.submit(_veo())
    assert caught.value.code == "rate_limited" and caught.value.retry_after == 30.0
    assert sleep.delays == [30.0, 30.0, 30.0]


def test_it_maps_a_validation_failure_to_a_permanent_error(fake, provider):
    fake.inject(422, message="- input.duration: must be one of 4, 6, 8")
    with pytest.raises(ProviderError) as caught:
        provider.submit(_veo())
    assert caught.value.permanent and caught.value.code == "invalid"
    assert "input.duration" in caught.value.message


def test_it_says_when_the_output_will_be_deleted(fake, provider):
    final, seen = run_to_end(provider, provider.submit(_veo()))
    assert [s.percent for s in seen if s.percent not in (None, 100)] == [30, 80]
    completed = dt.datetime.fromisoformat(final.raw["completed_at"].replace("Z", "+00:00"))
    expires = dt.datetime.fromisoformat(final.raw["output_expires_at"])
    assert expires - completed == dt.timedelta(hours=1)


def test_it_reports_a_deadline_abort_as_retryable_failure(provider):
    result = provider.result_of({"id": "p", "status": "aborted", "model": "google/veo-3.1"})
    assert result.state == FAILED and result.error.code == "deadline" and not result.error.permanent


def test_it_cancels_a_running_prediction(fake, provider):
    submitted = provider.submit(_veo())
    provider.poll(submitted.external_id)
    provider.cancel(submitted.external_id)
    assert fake.calls("POST", f"/v1/predictions/{submitted.external_id}/cancel")
    assert provider.poll(submitted.external_id).state == CANCELED


def test_it_lists_predictions_following_the_cursor(fake, provider):
    ids = [provider.submit(_veo()).external_id for _ in range(3)]
    jobs = provider.list_jobs(limit=3)
    assert sorted(j["id"] for j in jobs) == sorted(ids)
    assert len(fake.calls("GET", "/v1/predictions")) == 2  # page size 2


def test_it_verifies_a_webhook_and_reads_the_prediction(fake, provider):
    submitted = provider.submit(_veo())
    headers, body = fake.webhook_for(submitted.external_id)
    event = provider.verify_webhook(headers, body)
    assert event.external_id == submitted.external_id and event.delivery_id == headers["webhook-id"]
    assert event.result.state == SUCCEEDED and event.result.result_urls


def test_it_ignores_webhooks_when_no_secret_is_configured(fake):
    provider = _provider(fake, REPLICATE_WEBHOOK_SECRET="")
    submitted = provider.submit(_veo())
    assert provider.verify_webhook(*fake.webhook_for(submitted.external_id)) is None


def test_it_reports_a_flagged_output_as_moderation(fake, provider):
    fake.switches.moderation = True
    final, _ = run_to_end(provider, provider.submit(_veo()))
    assert final.state == FAILED and final.error.code == "moderation" and "flagged" in final.error.message


def test_it_refuses_sora_on_replicate_naming_the_replacements(fake, provider):
    with pytest.raises(ProviderError) as caught:
        provider.submit(VideoRequest(prompt="x", model="openai/sora-2-pro", duration=4.0))
    assert caught.value.code == "model_retired" and "2026-09-24" in caught.value.message
    assert "google/veo-3.1" in caught.value.message
    assert fake.requests == []
    from generation.catalog import find_model

    for name in provider.model("openai/sora-2-pro").lifecycle.replacements:
        assert find_model(name) is not None and not find_model(name).lifecycle.is_retired
