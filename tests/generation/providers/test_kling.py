"""Kling specifics: the JWT, its verification by the fake, and Kling's business codes."""

from __future__ import annotations

import time

import jwt
import pytest

from generation.providers.kling import KlingProvider, make_token
from mediastudio.lib.providers import ProviderError
from tests.fakes.kling_server import KlingFake
from tests.generation.providers.harness import SleepRecorder


@pytest.fixture
def fake():
    with KlingFake() as server:
        yield server


def _provider(fake, **extra):
    return KlingProvider(config={"KLING_ACCESS_KEY": KlingFake.access_key, "KLING_SECRET_KEY": KlingFake.secret_key,
                                 "KLING_BASE_URL": fake.url, "HTTP_SLEEP": SleepRecorder(), **extra})


def _t2v():
    from generation.providers.base import VideoRequest

    return VideoRequest(prompt="a kite over a beach", model="kling-v2-6", duration=5, aspect_ratio="9:16")


def test_it_signs_a_thirty_minute_hs256_token_valid_from_five_seconds_back():
    token = make_token("ak", "s" * 40, now=1_000_000)
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    claims = jwt.decode(token, "s" * 40, algorithms=["HS256"], options={"verify_exp": False, "verify_nbf": False})
    assert claims == {"iss": "ak", "exp": 1_000_000 + 1800, "nbf": 1_000_000 - 5}


def test_it_is_refused_by_the_fake_with_a_wrong_secret_or_an_expired_token(fake):
    with pytest.raises(ProviderError) as caught:
        _provider(fake, KLING_SECRET_KEY="another-secret-of-at-least-32-bytes!!").submit(_t2v())
    assert caught.value.permanent and caught.value.code == "unauthorized" and "1002" in str(caught.value)
    old = make_token(KlingFake.access_key, KlingFake.secret_key, now=time.time() - 3600)
    import httpx

    answer = httpx.post(f"{fake.url}/v1/videos/text2video", headers={"Authorization": f"Bearer {old}"}, json={})
    assert answer.status_code == 401 and answer.json()["code"] == 1004


def test_it_treats_a_used_up_resource_pack_as_permanent_despite_http_429(fake):
    fake.inject(429, {"code": 1102, "message": "Resource pack depleted", "request_id": "r"}, times=5)
    with pytest.raises(ProviderError) as caught:
        _provider(fake).submit(_t2v())
    assert caught.value.permanent and caught.value.code == "insufficient_credit"
    assert len(fake.requests) == 1


def test_it_maps_a_content_policy_refusal_at_submit_to_moderation(fake):
    fake.inject(400, {"code": 1301, "message": "Content security policy triggered", "request_id": "r"})
    with pytest.raises(ProviderError) as caught:
        _provider(fake).submit(_t2v())
    assert caught.value.permanent and caught.value.code == "moderation"


def test_it_polls_the_path_of_the_task_kind_and_sends_sound_for_audio_models(fake):
    provider = _provider(fake)
    submitted = provider.submit(_t2v())
    assert submitted.external_id.startswith("text2video/")
    provider.poll(submitted.external_id)
    body = fake.calls("POST", "/v1/videos/text2video")[0].json
    assert body["sound"] == "off" and body["duration"] == "5" and body["aspect_ratio"] == "9:16"
    assert fake.calls("GET")[0].path == f"/v1/videos/{submitted.external_id}"
