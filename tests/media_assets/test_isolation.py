"""Every library route, pages and API, asked for another workspace's asset: 404, no leak.
A viewer's writes: 403."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from media_assets import services
from media_assets.models import MediaAsset
from tests.media_assets.conftest import requires_ffmpeg

pytestmark = [pytest.mark.django_db, requires_ffmpeg]


@pytest.fixture
def theirs(other_workspace, png_file):
    return services.asset_create_from_file(workspace=other_workspace, path=png_file, source="uploaded", title="SecretAssetTitle")


@pytest.fixture
def ours(workspace, mp3_file):
    return services.asset_create_from_file(workspace=workspace, path=mp3_file, source="uploaded", title="OurSound")


PAGE_ROUTES = [
    ("get", "media_assets:asset-detail", {}),
    ("get", "media_assets:asset-card", {}),
    ("post", "media_assets:asset-edit", {}),
    ("post", "media_assets:asset-delete", {}),
    ("get", "media_assets:asset-file", {}),
    ("get", "media_assets:asset-preview", {"variant": "thumbnail"}),
]
API_ROUTES = [
    ("get", "api-asset-detail"),
    ("patch", "api-asset-detail"),
    ("delete", "api-asset-detail"),
    ("get", "api-asset-download"),
]


@pytest.mark.parametrize("method,name,extra", PAGE_ROUTES)
def test_pages_answer_404_for_another_workspaces_asset(client, owner, theirs, method, name, extra):
    client.force_login(owner)
    response = getattr(client, method)(reverse(name, kwargs={"pk": theirs.pk, **extra}), {"title": "x"})
    assert response.status_code == 404
    assert b"SecretAssetTitle" not in (b"" if response.streaming else response.content)
    assert MediaAsset.objects.filter(pk=theirs.pk, title="SecretAssetTitle").exists()


@pytest.mark.parametrize("method,name", API_ROUTES)
def test_api_answers_404_for_another_workspaces_asset(api_client, owner, theirs, method, name):
    api_client.force_authenticate(owner)
    response = getattr(api_client, method)(reverse(name, kwargs={"pk": theirs.pk}), {"title": "x"}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert "SecretAssetTitle" not in response.content.decode()


def test_lists_show_only_the_users_workspace(client, api_client, owner, ours, theirs):
    client.force_login(owner)
    api_client.force_authenticate(owner)
    page = client.get(reverse("media_assets:asset-list"))
    api = api_client.get(reverse("api-asset-list"))
    assert page.status_code == api.status_code == 200
    assert "OurSound" in page.content.decode() and "SecretAssetTitle" not in page.content.decode()
    assert [a["id"] for a in api.json()["results"]] == [ours.pk]
    assert api_client.get(reverse("api-asset-list"), {"workspace": theirs.workspace_id}).json()["count"] == 0


VIEWER_PAGE_WRITES = [("media_assets:asset-edit", {"title": "changed"}), ("media_assets:asset-delete", {})]


@pytest.mark.parametrize("name,data", VIEWER_PAGE_WRITES)
def test_a_viewer_cannot_write_through_pages(client, viewer, ours, name, data):
    client.force_login(viewer)
    assert client.post(reverse(name, kwargs={"pk": ours.pk}), data).status_code == 403
    ours.refresh_from_db()
    assert ours.title == "OurSound"


def test_a_viewer_cannot_upload_through_the_page_or_the_api(client, api_client, viewer, workspace, png_file, media_root):
    client.force_login(viewer)
    data = png_file.read_bytes()
    page = client.post(reverse("media_assets:asset-upload"), {"file": SimpleUploadedFile("a.png", data)})
    assert page.status_code == 403
    api_client.force_authenticate(viewer)
    api = api_client.post(reverse("api-asset-list"), {"file": SimpleUploadedFile("a.png", data)}, format="multipart")
    assert api.status_code == 403
    assert not MediaAsset.objects.exists()


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_a_viewer_cannot_write_through_the_api(api_client, viewer, ours, method):
    api_client.force_authenticate(viewer)
    response = getattr(api_client, method)(reverse("api-asset-detail", kwargs={"pk": ours.pk}), {"title": "x"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_a_viewer_can_read_and_stream(client, viewer, ours):
    client.force_login(viewer)
    assert client.get(reverse("media_assets:asset-detail", kwargs={"pk": ours.pk})).status_code == 200
    assert client.get(reverse("media_assets:asset-file", kwargs={"pk": ours.pk})).status_code == 200


def test_the_api_cannot_upload_into_another_workspace(api_client, owner, other_workspace, png_file):
    api_client.force_authenticate(owner)
    response = api_client.post(
        reverse("api-asset-list"), {"file": SimpleUploadedFile("a.png", png_file.read_bytes()), "workspace": other_workspace.pk}, format="multipart"
    )
    assert response.status_code == 400 and response.json()["error"]["fields"]["workspace"] == ["No such workspace."]


def test_anonymous_users_go_to_login_and_are_refused_by_the_api(client, api_client, ours):
    response = client.get(reverse("media_assets:asset-list"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert api_client.get(reverse("api-asset-list")).status_code in (401, 403)
