"""A model name the catalogue does not know (a typo) is refused, by the estimate and by generate, rather
than dropped without a word while the tier's first model makes (and bills) the video."""

from __future__ import annotations

import pytest

from generation.models import VideoGeneration

pytestmark = pytest.mark.django_db


def test_it_refuses_to_generate_with_an_unknown_model(client_owner):
    response = client_owner.post("/api/video/generate", {"prompt": "Cold brew can", "model": "veo-3.1-generat"}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "unknown_model" and "veo-3.1-generat" in error["message"]
    assert not VideoGeneration.objects.exists()


def test_it_refuses_a_model_the_named_provider_does_not_have(client_owner):
    response = client_owner.post("/api/video/generate", {"prompt": "Cold brew can", "provider": "animatic", "model": "nope"},
                                 format="json")
    assert response.status_code == 400
    assert "for provider 'animatic'" in response.json()["error"]["message"]


def test_it_estimates_an_unknown_model_as_an_error_and_a_known_one_as_before(client_owner):
    response = client_owner.get("/api/video/estimate-cost", {"model": "nope"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "unknown_model"
    known = client_owner.get("/api/video/estimate-cost", {"model": "animatic-v1"})
    assert known.status_code == 200 and known.json()["model"] == "animatic-v1"


def test_it_still_takes_an_embedded_providers_model_by_name_alone(client, owner):
    # The Generate page lists the animatic's model, which lives in code rather than in the catalogue.
    client.force_login(owner)
    response = client.post("/generate/", {"prompt": "Cold brew can", "mood": 50, "aspect_ratio": "9:16", "duration": 4,
                                          "resolution": "720p", "tier": "draft", "model": "animatic-v1"},
                           HTTP_ACCEPT="application/json")
    assert response.status_code == 202, response.json()
    assert response.json()["chain"][0]["model"] == "animatic-v1"
