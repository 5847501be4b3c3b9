"""The Generate page without JavaScript: a plain post comes back with every field's error on the page."""

from __future__ import annotations

import pytest
from django.utils.html import escape

from generation.models import VideoGeneration
from tests.factories import CampaignFactory
from tests.generation.engine_fakes import ScriptedProvider, register

pytestmark = pytest.mark.django_db


def test_it_shows_every_field_error_of_a_plain_post(client, owner, workspace, other_workspace):
    client.force_login(owner)
    gone = CampaignFactory(workspace=other_workspace)  # a stale choice: not this workspace's
    bad = {"prompt": "", "mood": "loud", "camera_move": "spin", "lighting": "neon", "campaign": gone.pk, "elements": [999],
           "platform": "myspace", "aspect_ratio": "3:2", "duration": "0", "resolution": "8k", "tier": "cheap",
           "provider": "nobody", "model": "nothing"}
    response = client.post("/generate/", bad)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == set(bad)  # every field is wrong ...
    html = response.content.decode()
    for field, messages in errors.items():  # ... and each says so on the page
        for message in messages:
            assert escape(message) in html, (field, message)
    assert "That campaign is no longer in this workspace" in html
    assert not VideoGeneration.objects.exists()


def test_it_shows_a_refusal_of_the_service_as_a_form_error(client, owner, workspace, monkeypatch, settings):
    ScriptedProvider.reset(polls_to_finish=1, never_finish=False)
    register(monkeypatch, settings, ScriptedProvider)  # $1 a video: more than the campaign has
    client.force_login(owner)
    campaign = CampaignFactory(workspace=workspace, budget=0)
    data = {"prompt": "A can", "mood": 50, "aspect_ratio": "9:16", "duration": 6, "resolution": "480p", "tier": "standard",
            "campaign": campaign.pk}
    response = client.post("/generate/", data)
    assert response.status_code == 200
    refusal = response.context["form"].non_field_errors()
    assert refusal and "exceed the budget" in refusal[0]
    assert escape(refusal[0]) in response.content.decode()
    assert not VideoGeneration.objects.exists()
