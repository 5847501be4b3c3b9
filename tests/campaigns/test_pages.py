"""The campaign-side pages write through the services: create and edit a universe, an element and a
campaign from their forms; bad input comes back as field errors and nothing is saved."""

import pytest

from campaigns.models import Campaign, Element, Universe

pytestmark = pytest.mark.django_db


def test_a_universe_element_and_campaign_are_made_and_edited_from_their_pages(client, owner, workspace):
    client.force_login(owner)
    response = client.post("/universes/new/", {"name": "Aurora", "tone": "warm", "palette": "#1f2a44, #e07a5f", "fonts": "DejaVu Sans"})
    universe = Universe.objects.get(workspace=workspace, name="Aurora")
    assert response.status_code == 302 and universe.palette == ["#1f2a44", "#e07a5f"]

    response = client.post(f"/universes/{universe.pk}/elements/new/", {"kind": "product", "name": "Can", "description": "matte black"})
    element = Element.objects.get(universe=universe)
    assert response.status_code == 302 and element.description == "matte black"
    client.post(f"/elements/{element.pk}/edit/", {"kind": "product", "name": "Can 2", "description": "copper lid"})
    element.refresh_from_db()
    assert element.name == "Can 2"

    response = client.post("/campaigns/new/", {"name": "Launch", "universe": universe.pk, "objective": "launch", "budget": "40",
                                               "currency": "USD", "status": "draft", "target_platforms": ["tiktok", "shorts"]})
    campaign = Campaign.objects.get(workspace=workspace)
    assert response.status_code == 302 and campaign.target_platforms == ["tiktok", "shorts"]


def test_bad_input_is_a_field_error_and_saves_nothing(client, owner, workspace):
    client.force_login(owner)
    response = client.post("/universes/new/", {"name": "Broken", "palette": "#zzzzzz"})
    assert response.status_code == 400 and "is not a hex colour" in response.content.decode()
    response = client.post("/universes/new/", {"name": "Person"})
    universe = Universe.objects.get(name="Person")
    response = client.post(f"/universes/{universe.pk}/elements/new/", {"kind": "character", "name": "Ana", "is_person": "on"})
    assert response.status_code == 400 and "consent record" in response.content.decode()
    assert not Universe.objects.filter(name="Broken").exists() and not Element.objects.exists()
