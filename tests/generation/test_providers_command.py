"""`manage.py providers`: the catalogue with lifecycle and prices, and the key check."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from tests.fakes.replicate_server import ReplicateFake

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("providers", *args, stdout=out)
    return out.getvalue()


def test_it_lists_models_with_lifecycle_and_prices():
    text = run()
    assert "sora-2" in text and "retired 2026-09-24" in text
    assert "animatic" in text and "enabled" in text
    assert "off (set RUNWAY_API_KEY)" in text
    assert "tier draft: animatic" in text


def test_it_lists_as_json():
    data = json.loads(run("--json"))
    rows = data["providers"]
    sora = next(m for r in rows if r["provider"] == "openai_video" for m in r["models"] if m["name"] == "sora-2")
    assert sora["lifecycle"]["status"] == "retired" and sora["lifecycle"]["replacements"]
    assert {r["kind"] for r in rows} >= {"video", "speech", "transcription", "music"}
    assert data["tiers"]["draft"] == ["animatic"]


def test_check_refuses_a_provider_without_a_key():
    with pytest.raises(CommandError, match="not enabled: set REPLICATE_API_TOKEN"):
        run("check", "replicate")


def test_check_makes_one_authenticated_call():
    with ReplicateFake() as fake:
        with override_settings(REPLICATE_API_TOKEN=ReplicateFake.api_key, REPLICATE_BASE_URL=fake.url):
            assert "key accepted" in run("check", "replicate")
        with override_settings(REPLICATE_API_TOKEN="r8_wrong", REPLICATE_BASE_URL=fake.url):
            with pytest.raises(CommandError, match="401"):
                run("check", "replicate")
        assert [r.path for r in fake.requests] == ["/v1/account", "/v1/account"]
