"""Every editor route, pages and API, asked for another workspace's composition or render: 404 with
nothing leaked. A viewer reads but cannot write (403). Anonymous users are sent to log in / 401-403."""

from __future__ import annotations

import pytest
from django.urls import reverse

from media_assets import editor_services as services
from media_assets.compositions import Composition, Render
from media_assets.services import asset_create_from_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def theirs(other_workspace, media, media_root):  # noqa: F811
    asset = asset_create_from_file(workspace=other_workspace, path=media["red.mp4"], source="uploaded", make_previews=False)
    composition = services.composition_create(workspace=other_workspace, title="SecretComposition", clips=[{"asset": asset}])
    render = Render.objects.create(composition=composition, preset="tiktok")
    return composition, render


@pytest.fixture
def ours(workspace, media, media_root):  # noqa: F811
    asset = asset_create_from_file(workspace=workspace, path=media["blue.mp4"], source="uploaded", make_previews=False)
    composition = services.composition_create(workspace=workspace, title="OurComposition", clips=[{"asset": asset}])
    render = Render.objects.create(composition=composition, preset="tiktok")
    return composition, render


PAGE_ROUTES = [("get", "editor:composition-edit"), ("post", "editor:composition-delete")]
API_ROUTES = [
    ("get", "api-composition-detail", "composition"),
    ("patch", "api-composition-detail", "composition"),
    ("delete", "api-composition-detail", "composition"),
    ("get", "api-composition-renders", "composition"),
    ("post", "api-composition-renders", "composition"),
    ("get", "api-render-detail", "render"),
    ("delete", "api-render-detail", "render"),
]


@pytest.mark.parametrize("method,name", PAGE_ROUTES)
def test_pages_answer_404_for_another_workspaces_composition(client, owner, theirs, method, name):
    client.force_login(owner)
    response = getattr(client, method)(reverse(name, kwargs={"pk": theirs[0].pk}))
    assert response.status_code == 404
    assert b"SecretComposition" not in response.content
    assert Composition.objects.filter(pk=theirs[0].pk).exists()


@pytest.mark.parametrize("method,name,target", API_ROUTES)
def test_api_answers_404_for_another_workspaces_objects(api_client, owner, theirs, method, name, target):
    api_client.force_authenticate(owner)
    obj = theirs[0] if target == "composition" else theirs[1]
    response = getattr(api_client, method)(reverse(name, kwargs={"pk": obj.pk}), {"title": "x", "presets": ["tiktok"]}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert "SecretComposition" not in response.content.decode()
    assert Composition.objects.filter(pk=theirs[0].pk, title="SecretComposition").exists()
    assert Render.objects.filter(pk=theirs[1].pk).exists()


def test_lists_show_only_the_users_workspace(client, api_client, owner, ours, theirs):
    client.force_login(owner)
    api_client.force_authenticate(owner)
    page = client.get(reverse("editor:composition-list")).content.decode()
    assert "OurComposition" in page and "SecretComposition" not in page
    body = api_client.get(reverse("api-composition-list")).json()
    assert [c["id"] for c in body["results"]] == [ours[0].pk]
    assert api_client.get(reverse("api-composition-list"), {"workspace": theirs[0].workspace_id}).json()["count"] == 0


VIEWER_API_WRITES = [
    ("patch", "api-composition-detail", "composition"),
    ("delete", "api-composition-detail", "composition"),
    ("post", "api-composition-renders", "composition"),
    ("delete", "api-render-detail", "render"),
]


@pytest.mark.parametrize("method,name,target", VIEWER_API_WRITES)
def test_a_viewer_cannot_write_through_the_api(api_client, viewer, ours, method, name, target):
    api_client.force_authenticate(viewer)
    obj = ours[0] if target == "composition" else ours[1]
    response = getattr(api_client, method)(reverse(name, kwargs={"pk": obj.pk}), {"title": "changed", "presets": ["tiktok"]}, format="json")
    assert response.status_code == 403
    ours[0].refresh_from_db()
    assert ours[0].title == "OurComposition" and Render.objects.filter(pk=ours[1].pk).exists()


def test_a_viewer_cannot_create_or_delete_through_pages_or_api(client, api_client, viewer, ours):
    api_client.force_authenticate(viewer)
    assert api_client.post(reverse("api-composition-list"), {"title": "New"}, format="json").status_code == 403
    client.force_login(viewer)
    assert client.post(reverse("editor:composition-new"), {"title": "New"}).status_code == 403
    assert client.post(reverse("editor:composition-delete", kwargs={"pk": ours[0].pk})).status_code == 403
    assert Composition.objects.count() == 1
    # Reading is fine.
    assert client.get(reverse("editor:composition-edit", kwargs={"pk": ours[0].pk})).status_code == 200
    assert api_client.get(reverse("api-composition-detail", kwargs={"pk": ours[0].pk})).status_code == 200


def test_anonymous_users_are_turned_away(client, api_client, ours):
    response = client.get(reverse("editor:composition-edit", kwargs={"pk": ours[0].pk}))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert api_client.get(reverse("api-composition-detail", kwargs={"pk": ours[0].pk})).status_code in (401, 403)
    assert api_client.get(reverse("api-composition-list")).status_code in (401, 403)
