"""Input a marketer or an API client really sends: a universe name already taken, a workspace id that
is not a number, a `next` that leaves the studio, another workspace's images as references, and
detail pages reached in a workspace other than the switcher's. Each is an answer, never a 500."""

import pytest
from rest_framework.test import APIClient

from campaigns.models import Element, Universe
from media_assets.models import MediaAsset
from tests.conftest import pick_workspace
from tests.factories import CampaignFactory, ElementFactory, MembershipFactory, UniverseFactory

pytestmark = pytest.mark.django_db


def _image(workspace, name="photo.png"):
    return MediaAsset.objects.create(workspace=workspace, kind="image", file=f"x/{name}", sha256=name, original_name=name)


@pytest.fixture
def api(owner):
    client = APIClient()
    client.force_authenticate(owner)
    return client


def test_it_answers_a_taken_universe_name_with_a_field_error(client, owner, workspace):
    client.force_login(owner)
    UniverseFactory(workspace=workspace, name="Aurora")
    response = client.post("/universes/new/", {"name": "Aurora", "tone": "warm"})
    assert response.status_code == 400
    assert "already has a universe named" in response.content.decode()
    assert 'value="warm"' in response.content.decode()  # what was typed stays in the form

    other = UniverseFactory(workspace=workspace, name="Borealis")
    response = client.post(f"/universes/{other.pk}/edit/", {"name": "Aurora"})
    assert response.status_code == 400 and "already has a universe named" in response.content.decode()
    assert Universe.objects.filter(workspace=workspace, name="Aurora").count() == 1


def test_it_keeps_a_universe_name_free_in_another_workspace(client, owner, workspace, other_workspace):
    client.force_login(owner)
    UniverseFactory(workspace=other_workspace, name="Aurora")
    universe = UniverseFactory(workspace=workspace, name="Aurora")
    assert client.post("/universes/new/", {"name": "Aurora"}).status_code == 400
    # Saving a universe under its own name is no clash.
    assert client.post(f"/universes/{universe.pk}/edit/", {"name": "Aurora", "tone": "dry"}).status_code == 302


@pytest.mark.parametrize("workspace_id", ["abc", [1], {"id": 1}, 1.5])
def test_it_refuses_a_workspace_id_that_is_not_a_number(api, workspace_id):
    response = api.post("/api/universes/", {"name": "Odd", "workspace": workspace_id}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"workspace": ["No such workspace."]}
    response = api.post("/api/campaigns/", {"name": "Odd", "workspace": workspace_id}, format="json")
    assert response.status_code == 400
    assert not Universe.objects.filter(name="Odd").exists()


def test_it_answers_a_switch_to_a_garbled_workspace_with_404(client, owner):
    client.force_login(owner)
    assert client.post("/workspaces/switch/", {"workspace": "abc"}).status_code == 404


def test_it_never_redirects_a_workspace_switch_off_the_studio(client, owner, workspace):
    client.force_login(owner)
    response = client.post("/workspaces/switch/", {"workspace": workspace.pk, "next": "https://evil.example/phish"})
    assert response.status_code == 302 and response["Location"] == "/"
    response = client.post("/workspaces/switch/", {"workspace": workspace.pk, "next": "/campaigns/"})
    assert response["Location"] == "/campaigns/"


def test_it_refuses_another_workspaces_image_as_an_elements_reference(api, owner, workspace, other_workspace):
    # The user belongs to both workspaces; members of the first must not get the second's image as a first frame.
    MembershipFactory(workspace=other_workspace, user=owner, role="owner")
    theirs = _image(other_workspace, "secret.png")
    ours = _image(workspace, "ours.png")
    universe = UniverseFactory(workspace=workspace)

    response = api.post("/api/elements/", {"universe": universe.pk, "kind": "product", "name": "Can",
                                           "reference_assets": [ours.pk, theirs.pk]}, format="json")
    assert response.status_code == 400
    assert "reference_assets" in response.json()["error"]["fields"]
    assert not Element.objects.filter(name="Can").exists()

    element = ElementFactory(universe=universe)
    response = api.patch(f"/api/elements/{element.pk}/", {"reference_assets": [theirs.pk]}, format="json")
    assert response.status_code == 400
    assert list(element.reference_assets.all()) == []
    response = api.patch(f"/api/elements/{element.pk}/", {"reference_assets": [ours.pk]}, format="json")
    assert response.status_code == 200 and list(element.reference_assets.all()) == [ours]


def test_it_refuses_another_workspaces_image_as_a_universe_logo(api, owner, workspace, other_workspace):
    MembershipFactory(workspace=other_workspace, user=owner, role="owner")
    theirs = _image(other_workspace, "their-logo.png")
    universe = UniverseFactory(workspace=workspace)
    response = api.patch(f"/api/universes/{universe.pk}/", {"logo": theirs.pk}, format="json")
    assert response.status_code == 400 and "logo" in response.json()["error"]["fields"]
    universe.refresh_from_db()
    assert universe.logo_id is None
    response = api.post("/api/universes/", {"name": "New", "workspace": workspace.pk, "logo": theirs.pk}, format="json")
    assert response.status_code == 400 and not Universe.objects.filter(name="New").exists()


def test_it_offers_edit_by_the_role_in_the_objects_own_workspace(client, workspace, other_workspace, viewer):
    # The viewer of Acme owns Rival; the switcher stays on Acme while they open Rival's pages.
    MembershipFactory(workspace=other_workspace, user=viewer, role="owner")
    client.force_login(viewer)
    pick_workspace(client, workspace)
    universe = UniverseFactory(workspace=other_workspace)
    element = ElementFactory(universe=universe)
    campaign = CampaignFactory(workspace=other_workspace)
    for page in (f"/universes/{universe.pk}/", f"/elements/{element.pk}/", f"/campaigns/{campaign.pk}/"):
        assert f'href="{page}edit/"' in client.get(page).content.decode(), page

    # And the other way round: no Edit button where the role is read-only.
    pick_workspace(client, other_workspace)
    ours = CampaignFactory(workspace=workspace)
    assert f'href="/campaigns/{ours.pk}/edit/"' not in client.get(f"/campaigns/{ours.pk}/").content.decode()


def test_it_cancels_an_edit_back_to_where_it_came_from(client, owner, workspace):
    client.force_login(owner)
    universe = UniverseFactory(workspace=workspace)
    element = ElementFactory(universe=universe)
    campaign = CampaignFactory(workspace=workspace)
    cancels = {
        f"/universes/{universe.pk}/elements/new/": f"/universes/{universe.pk}/",
        f"/elements/{element.pk}/edit/": f"/elements/{element.pk}/",
        f"/universes/{universe.pk}/edit/": f"/universes/{universe.pk}/",
        f"/campaigns/{campaign.pk}/edit/": f"/campaigns/{campaign.pk}/",
        "/campaigns/new/": "/campaigns/",
    }
    for page, back in cancels.items():
        assert f'<a class="button" href="{back}">Cancel</a>' in client.get(page).content.decode(), page
