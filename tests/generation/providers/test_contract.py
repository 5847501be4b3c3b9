"""The contract every remote video adapter keeps, run against its fake vendor server."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from generation.providers.base import CANCEL, CANCELED, FAILED, QUEUED, RUNNING, SUCCEEDED, VideoProvider
from mediastudio.lib.providers import ProviderError
from tests.generation.providers.cases import all_cases
from tests.generation.providers.harness import ProviderCase, SleepRecorder, make_png, outcome_error, run_to_end

CASES = all_cases()


@pytest.fixture(params=CASES, ids=[c.id for c in CASES])
def case(request: pytest.FixtureRequest) -> ProviderCase:
    return request.param


@pytest.fixture
def fake(case: ProviderCase):
    server = case.start_fake()
    yield server
    server.stop()


@pytest.fixture
def sleep() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def provider(case: ProviderCase, fake, sleep: SleepRecorder) -> VideoProvider:
    return case.provider(fake, sleep=sleep)


@pytest.fixture
def image(tmp_path: Path) -> Path:
    return make_png(tmp_path / "ref.png")


def _main_request(case: ProviderCase, fake, image: Path):
    return case.t2v_request() if case.t2v_model else case.i2v_request(image, fake)


def _api_calls(fake) -> list:
    return [r for r in fake.requests if not r.path.startswith("/_files/")]


def _download(provider: VideoProvider, result, dest: Path) -> Path:
    return provider.download(result, dest)


def _probe(path: Path) -> dict:
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
        capture_output=True, text=True, timeout=30, check=True,
    )
    return json.loads(done.stdout)


def test_it_renders_text_to_video_end_to_end(case, fake, provider):
    if not case.t2v_model:
        pytest.skip(f"{case.id} has no text-to-video model")
    submitted = provider.submit(case.t2v_request())
    assert submitted.external_id
    assert submitted.poll_after > 0
    final, seen = run_to_end(provider, submitted, max_polls=case.max_polls)
    assert final.state == SUCCEEDED, final
    assert final.result_urls
    assert len(seen) > 1, "the fake walks through queued/running before success"
    for step in seen[:-1]:
        assert step.state in (QUEUED, RUNNING)
        assert step.poll_after and step.poll_after > 0
    if case.reports_progress:
        percents = [s.percent for s in seen[:-1] if s.percent is not None]
        assert any(0 < p < 100 for p in percents), percents
        assert percents == sorted(percents)


def test_it_downloads_a_real_mp4(case, fake, provider, image, tmp_path):
    submitted = provider.submit(_main_request(case, fake, image))
    final, _ = run_to_end(provider, submitted, max_polls=case.max_polls)
    assert final.state == SUCCEEDED
    dest = _download(provider, final, tmp_path / "out.mp4")
    info = _probe(Path(dest))
    video = [s for s in info["streams"] if s["codec_type"] == "video"]
    assert video


def test_it_gets_the_clip_it_asked_for(case, fake, provider, image, tmp_path):
    # The fakes render what the request asks for (length, size, a colour from the prompt), so what
    # the adapter sends is what comes back: a wrong duration or a swapped ratio would show here.
    for aspect_ratio in ("16:9", "9:16"):
        request = _main_request(case, fake, image)
        if aspect_ratio not in provider.model(request.model).aspect_ratios:
            continue
        request = dataclasses.replace(request, aspect_ratio=aspect_ratio)
        final, _ = run_to_end(provider, provider.submit(request), max_polls=case.max_polls)
        assert final.state == SUCCEEDED, final
        info = _probe(Path(_download(provider, final, tmp_path / f"{aspect_ratio.replace(':', 'x')}.mp4")))
        video = next(s for s in info["streams"] if s["codec_type"] == "video")
        a, b = (int(x) for x in aspect_ratio.split(":"))
        assert abs(video["width"] / video["height"] - a / b) < 0.02, (aspect_ratio, video["width"], video["height"])
        assert min(video["width"], video["height"]) == int(request.resolution.rstrip("p"))
        assert abs(float(info["format"]["duration"]) - request.duration) < 0.1, info["format"]["duration"]


def test_it_sends_the_image_the_vendors_way(case, fake, provider, image):
    if not case.i2v_model:
        pytest.skip(f"{case.id} has no image-to-video model")
    request = case.i2v_request(image, fake)
    submitted = provider.submit(request)
    case.assert_image_sent(fake, request)
    final, _ = run_to_end(provider, submitted, max_polls=case.max_polls)
    assert final.state == SUCCEEDED
    assert final.result_urls


def test_it_refuses_a_bad_key_permanently_without_retrying(case, fake, provider, image, sleep):
    case.inject_unauthorized(fake)
    with pytest.raises(ProviderError) as caught:
        provider.submit(_main_request(case, fake, image))
    assert caught.value.permanent
    assert caught.value.code == "unauthorized"
    assert sleep.delays == []
    assert len(_api_calls(fake)) == 1


def test_it_retries_a_429_honouring_retry_after(case, fake, provider, image, sleep):
    case.inject_rate_limit(fake, times=1)
    submitted = provider.submit(_main_request(case, fake, image))
    assert submitted.external_id
    assert sleep.delays == [case.rate_limit_retry_after]


def test_it_reports_a_lasting_429_as_retryable_with_retry_after(case, fake, provider, image):
    case.inject_rate_limit(fake)
    with pytest.raises(ProviderError) as caught:
        provider.submit(_main_request(case, fake, image))
    assert not caught.value.permanent
    assert caught.value.retry_after == case.rate_limit_retry_after
    assert caught.value.code == "rate_limited"


def test_it_retries_a_500_then_succeeds(case, fake, provider, image, sleep):
    case.inject_server_error(fake, times=1)
    submitted = provider.submit(_main_request(case, fake, image))
    assert submitted.external_id
    assert len(sleep.delays) == 1


def test_it_reports_lasting_500s_as_retryable(case, fake, provider, image):
    case.inject_server_error(fake)
    with pytest.raises(ProviderError) as caught:
        provider.submit(_main_request(case, fake, image))
    assert not caught.value.permanent


def test_it_maps_moderation_to_a_permanent_failure(case, fake, provider, image):
    case.set_moderation(fake)
    error = outcome_error(provider, _main_request(case, fake, image), max_polls=case.max_polls)
    assert error.permanent
    assert error.code == "moderation"


def test_it_reports_moderation_as_a_failed_poll(case, fake, provider, image):
    case.set_moderation(fake)
    try:
        submitted = provider.submit(_main_request(case, fake, image))
    except ProviderError as exc:  # vendors that moderate the input at once
        assert exc.code == "moderation"
        return
    final, _ = run_to_end(provider, submitted, max_polls=case.max_polls)
    assert final.state == FAILED
    assert final.error is not None and final.error.code == "moderation"


def test_it_fails_to_download_an_expired_output(case, fake, provider, image, tmp_path):
    case.set_expired_outputs(fake)
    submitted = provider.submit(_main_request(case, fake, image))
    final, _ = run_to_end(provider, submitted, max_polls=case.max_polls)
    assert final.state == SUCCEEDED
    dest = tmp_path / "out.mp4"
    with pytest.raises(ProviderError):
        _download(provider, final, dest)
    assert not dest.exists() or dest.stat().st_size == 0


def test_it_keeps_a_never_finishing_task_running(case, fake, provider, image):
    case.set_never_finish(fake)
    submitted = provider.submit(_main_request(case, fake, image))
    final, seen = run_to_end(provider, submitted, max_polls=case.max_polls)
    assert len(seen) == case.max_polls
    assert all(s.state in (QUEUED, RUNNING) for s in seen)
    assert final.state == RUNNING


def test_it_cancels_or_says_it_cannot(case, fake, provider, image):
    submitted = provider.submit(_main_request(case, fake, image))
    before = len(_api_calls(fake))
    if CANCEL in provider.capabilities:
        provider.cancel(submitted.external_id)
        assert provider.poll(submitted.external_id).state == CANCELED
    else:
        with pytest.raises(ProviderError) as caught:
            provider.cancel(submitted.external_id)
        assert caught.value.permanent and caught.value.code == "unsupported"
        assert len(_api_calls(fake)) == before


def test_it_refuses_an_impossible_request_without_calling(case, fake, provider):
    with pytest.raises(ProviderError) as caught:
        provider.submit(case.invalid_request())
    assert caught.value.permanent
    assert fake.requests == []


def test_it_refuses_a_retired_model_naming_replacements(case, fake, provider):
    retired = [m for m in provider.models() if m.lifecycle.is_retired]
    if not retired:
        pytest.skip(f"{case.id} has no retired model in its catalogue")
    spec = retired[0]
    mode_model = {"model": spec.name}
    with pytest.raises(ProviderError) as caught:
        provider.submit(case.t2v_request(**mode_model))
    assert caught.value.code == "model_retired" and caught.value.permanent
    for name in spec.lifecycle.replacements:
        assert name in str(caught.value)
    assert fake.requests == []


def test_it_estimates_cost_from_the_catalogue(case, fake, provider, image):
    request = _main_request(case, fake, image)
    cost = provider.estimate_cost(request)
    assert isinstance(cost, Decimal)
    assert cost > 0
    assert cost == case.expected_cost(provider, request)
    spec = provider.model(request.model)
    assert spec.price.source.startswith("https://") and spec.price.as_of
    assert fake.requests == []


def test_it_declares_the_union_of_its_models_capabilities(case, provider):
    union = frozenset().union(*(m.capabilities for m in provider.models() if not m.lifecycle.is_retired))
    assert union <= provider.capabilities
    assert provider.identifier == case.identifier


def test_it_verifies_webhooks_or_returns_none(case, fake, provider, image):
    submitted = provider.submit(_main_request(case, fake, image))
    if not case.signs_webhooks:
        headers, body = case.unsigned_webhook(fake, submitted.external_id)
        assert provider.verify_webhook(headers, body) is None
        return
    headers, body = case.webhook_delivery(provider, fake, submitted.external_id)
    event = provider.verify_webhook(headers, body)
    assert event is not None and event.external_id == submitted.external_id
    for kwargs in ({"valid": False}, {"age_seconds": 3600}):
        headers, body = case.webhook_delivery(provider, fake, submitted.external_id, **kwargs)
        with pytest.raises(ProviderError) as caught:
            provider.verify_webhook(headers, body)
        assert caught.value.permanent and caught.value.code == "invalid_signature"


def test_the_credentials_check_makes_one_authenticated_call(case, fake, provider):
    description = provider.check_credentials()
    assert "key accepted" in description
    assert len(_api_calls(fake)) == 1


def test_the_credentials_check_reports_a_bad_key(case, fake):
    bad = case.provider(fake, **{key: "wrong-key-0123456789abcdef-0123456789" for key in case.config(fake) if "KEY" in key or "TOKEN" in key})
    with pytest.raises(ProviderError) as caught:
        bad.check_credentials()
    assert caught.value.permanent and caught.value.status_code in (400, 401, 403)  # Gemini answers 400 API_KEY_INVALID
