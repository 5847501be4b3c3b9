"""fal adapter specifics beyond the shared contract: input mapping per endpoint, app-root routes,
queue states, cancel outcomes, webhook resolution and payloads."""

from __future__ import annotations

from pathlib import Path

import pytest

from generation.providers import fal as fal_module
from generation.providers.base import CANCELED, FAILED, QUEUED, RUNNING, SUCCEEDED, VideoRequest
from generation.providers.fal import FalProvider, map_inputs
from mediastudio.lib.providers import ProviderError
from tests.fakes.fal_server import FalFake
from tests.generation.providers.harness import SleepRecorder, make_png, run_to_end


@pytest.fixture
def fake():
    server = FalFake().start()
    yield server
    server.stop()


@pytest.fixture
def provider(fake) -> FalProvider:
    return FalProvider(config={"FAL_KEY": FalFake.api_key, "FAL_BASE_URL": fake.url, "FAL_JWKS_URL": fake.jwks_url,
                               "HTTP_SLEEP": SleepRecorder()})


@pytest.fixture
def image(tmp_path: Path) -> Path:
    return make_png(tmp_path / "ref.png")


def test_it_maps_pika_text_to_video_fields_with_their_types(fake, provider):
    provider.submit(VideoRequest(prompt="a kite", model="pika-2.2", negative_prompt="blur", duration=10.0,
                                 aspect_ratio="9:16", resolution="1080p", seed=7))
    [call] = fake.calls("POST", "/fal-ai/pika/v2.2/text-to-video")
    assert call.header("authorization") == f"Key {FalFake.api_key}"
    assert call.json == {"prompt": "a kite", "negative_prompt": "blur", "duration": 10, "aspect_ratio": "9:16",
                         "resolution": "1080p", "seed": 7}


def test_it_leaves_out_empty_fields_so_vendor_defaults_apply(fake, provider):
    provider.submit(VideoRequest(prompt="a kite", model="pika-2.5", duration=5.0, resolution="480p"))
    [call] = fake.calls("POST", "/fal-ai/pika/v2.5/text-to-video")
    assert call.json == {"prompt": "a kite", "duration": 5, "resolution": "480p"}  # no seed, no negative, no aspect


def test_it_sends_kling_durations_as_strings_and_prefers_a_public_image_url(fake, provider):
    provider.submit(VideoRequest(prompt="turn", model="kling-2.5-turbo-standard", image_url="https://cdn.example.com/a.png",
                                 duration=10.0))
    [call] = fake.calls("POST", "/fal-ai/kling-video/v2.5-turbo/standard/image-to-video")
    assert call.json == {"prompt": "turn", "image_url": "https://cdn.example.com/a.png", "duration": "10"}


def test_it_maps_inputs_from_data_not_code():
    route = {"inputs": {"text_to_video": {"text": "prompt", "len": "duration", "q": "resolution"}},
             "types": {"len": "str"}, "values": {"q": {"720p": "std"}}, "fixed": {"v": 2}}
    fields = {"prompt": "p", "duration": 5.0, "resolution": "720p", "seed": None}
    assert map_inputs(route, "text_to_video", fields) == {"v": 2, "text": "p", "len": "5", "q": "std"}


def test_it_polls_the_app_root_and_reports_queue_position_then_progress(fake, provider):
    submitted = provider.submit(VideoRequest(prompt="a kite", model="pika-2.2"))
    assert submitted.external_id.startswith("fal-ai/pika:")
    final, seen = run_to_end(provider, submitted)
    assert [s.state for s in seen] == [QUEUED, QUEUED, RUNNING, RUNNING, SUCCEEDED]
    assert "position 1" in seen[0].message
    assert [s.percent for s in seen[2:4]] == [30, 70]
    assert final.result_urls[0].startswith(fake.url + "/_files/")
    request_id = submitted.external_id.split(":")[1]
    paths = {c.path for c in fake.calls("GET")}
    assert paths == {f"/fal-ai/pika/requests/{request_id}/status", f"/fal-ai/pika/requests/{request_id}"}
    assert all(c.query.get("logs") == "1" for c in fake.calls("GET") if c.path.endswith("/status"))


def test_it_passes_the_webhook_url_as_fal_webhook(fake, provider):
    provider.submit(VideoRequest(prompt="a kite", model="pika-2.2", webhook_url="https://studio.example.com/hooks/fal?job=9"))
    [call] = fake.calls("POST")
    assert call.query["fal_webhook"] == "https://studio.example.com/hooks/fal?job=9"


def test_it_reports_a_model_validation_error_as_permanent(fake, provider, image):
    with pytest.raises(ProviderError) as caught:
        provider.submit(VideoRequest(prompt="x", model="kling-2.1-standard", image_url="ftp://example.com/a.png"))
    assert caught.value.permanent and caught.value.status_code == 422 and caught.value.code == "invalid"
    assert "invalid value" in caught.value.message


def test_it_cancels_a_queued_request_and_refuses_to_cancel_a_finished_one(fake, provider):
    submitted = provider.submit(VideoRequest(prompt="a kite", model="pika-2.2"))
    provider.cancel(submitted.external_id)
    [put] = fake.calls("PUT")
    assert put.path.endswith("/cancel") and put.path.startswith("/fal-ai/pika/requests/")
    assert provider.poll(submitted.external_id).state == CANCELED

    done = provider.submit(VideoRequest(prompt="a kite", model="pika-2.2"))
    run_to_end(provider, done)
    with pytest.raises(ProviderError) as caught:
        provider.cancel(done.external_id)
    assert caught.value.code == "already_completed"


def test_it_retries_a_model_error_fal_marks_retryable(fake, provider):
    fake.inject(422, body={"detail": [{"loc": ["body"], "msg": "runner busy", "type": "downstream_service_error"}]},
                headers={"X-Fal-Retryable": "true"}, times=10)
    with pytest.raises(ProviderError) as caught:
        provider.submit(VideoRequest(prompt="a kite", model="pika-2.2"))
    assert not caught.value.permanent
    assert len(fake.calls("POST")) == 4


def test_it_refuses_a_malformed_job_id_without_calling(fake, provider):
    with pytest.raises(ProviderError) as caught:
        provider.poll("no-app-here")
    assert caught.value.permanent
    assert fake.requests == []


def test_it_resolves_the_app_of_a_webhook_in_a_fresh_process(fake, provider, image):
    submitted = provider.submit(VideoRequest(prompt="turn", model="kling-2.1-standard", image_path=str(image)))
    run_to_end(provider, submitted)
    fal_module._APPS.clear()  # as in a worker that did not make the submit
    headers, body = fake.webhook_for(submitted.external_id.split(":")[1])
    event = provider.verify_webhook(headers, body)
    assert event.external_id == submitted.external_id == f"fal-ai/kling-video:{event.delivery_id}"
    assert event.result.state == SUCCEEDED and event.result.result_urls
    probed = [c.path for c in fake.calls("GET") if c.path.endswith("/status")]
    assert probed[-2].startswith("/fal-ai/pika/") and probed[-1].startswith("/fal-ai/kling-video/")


def test_it_turns_an_error_webhook_into_a_moderation_failure(fake, provider):
    fake.switches.moderation = True
    submitted = provider.submit(VideoRequest(prompt="a kite", model="pika-2.2"))
    headers, body = fake.webhook_for(submitted.external_id.split(":")[1])
    event = provider.verify_webhook(headers, body)
    assert event.result.state == FAILED
    assert event.result.error.code == "moderation" and event.result.error.permanent


def test_it_fetches_the_jwks_once_for_many_webhooks(fake, provider):
    for _ in range(3):
        submitted = provider.submit(VideoRequest(prompt="a kite", model="pika-2.2"))
        headers, body = fake.webhook_for(submitted.external_id.split(":")[1])
        assert provider.verify_webhook(headers, body) is not None
    assert len(fake.calls("GET", "/.well-known/jwks.json")) == 1


def test_it_returns_none_for_an_unsigned_callback(fake, provider):
    assert provider.verify_webhook({"content-type": "application/json"}, b'{"request_id": "x", "status": "OK"}') is None


def test_it_keeps_the_key_out_of_error_messages(fake, provider):
    fake.inject(401, body={"detail": f"bad key {FalFake.api_key}"})
    with pytest.raises(ProviderError) as caught:
        provider.submit(VideoRequest(prompt="a kite", model="pika-2.2"))
    assert caught.value.code == "unauthorized"
    assert FalFake.api_key not in str(caught.value)
