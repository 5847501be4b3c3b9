"""Every list/detail/update route, pages and API, asked for another workspace's object: 404, no leak.
A viewer's writes: 403."""

import json

import pytest
from django.urls import reverse

from mediastudio.jobs.models import Job
from tests.factories import CampaignFactory, ElementFactory, JobFactory, UniverseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def theirs(other_workspace):
    """Objects of the other workspace, with recognisable names that must never leak."""
    universe = UniverseFactory(workspace=other_workspace, name="SecretUniverseName")
    return {
        "universe": universe,
        "element": ElementFactory(universe=universe, name="SecretElementName"),
        "campaign": CampaignFactory(workspace=other_workspace, name="SecretCampaignName"),
        "job": JobFactory(workspace=other_workspace, title="SecretJobTitle", status=Job.Status.FAILED),
    }


@pytest.fixture
def ours(workspace):
    universe = UniverseFactory(workspace=workspace, name="OurUniverse")
    return {
        "universe": universe,
        "element": ElementFactory(universe=universe),
        "campaign": CampaignFactory(workspace=workspace),
        "job": JobFactory(workspace=workspace, status=Job.Status.FAILED),
    }


PAGE_ROUTES = [
    ("get", "campaigns:universe-detail", "universe"),
    ("get", "campaigns:universe-edit", "universe"),
    ("post", "campaigns:universe-edit", "universe"),
    ("get", "campaigns:element-create", "universe"),
    ("get", "campaigns:element-detail", "element"),
    ("get", "campaigns:element-edit", "element"),
    ("post", "campaigns:element-edit", "element"),
    ("get", "campaigns:campaign-detail", "campaign"),
    ("get", "campaigns:campaign-edit", "campaign"),
    ("post", "campaigns:campaign-edit", "campaign"),
    ("get", "jobs:detail", "job"),
    ("post", "jobs:cancel", "job"),
    ("post", "jobs:retry", "job"),
]
API_ROUTES = [
    ("get", "api-universe-detail", "universe"),
    ("patch", "api-universe-detail", "universe"),
    ("delete", "api-universe-detail", "universe"),
    ("get", "api-element-detail", "element"),
    ("patch", "api-element-detail", "element"),
    ("delete", "api-element-detail", "element"),
    ("get", "api-campaign-detail", "campaign"),
    ("patch", "api-campaign-detail", "campaign"),
    ("delete", "api-campaign-detail", "campaign"),
    ("get", "api-job-detail", "job"),
    ("post", "api-job-cancel", "job"),
    ("post", "api-job-retry", "job"),
]
LIST_ROUTES = [  # a page, an API list, and the kind of object the API lists
    ("campaigns:universe-list", "api-universe-list", "universe"),
    ("campaigns:campaign-list", "api-campaign-list", "campaign"),
    ("jobs:list", "api-job-list", "job"),
    ("dashboard", "api-element-list", "element"),
]


def _kwargs(name, obj):
    key = "job_id" if name.startswith("jobs:") or "job" in name else ("universe_pk" if name.endswith("element-create") else "pk")
    return {key: obj.pk}


def _no_leak(response, obj):
    body = response.content.decode()
    for secret in ("SecretUniverseName", "SecretElementName", "SecretCampaignName", "SecretJobTitle"):
        assert secret not in body
    # Its id as an object of its own kind: another table's row may have the same number.
    token = json.dumps(obj.pk if isinstance(obj.pk, int) else str(obj.pk))
    assert f'"id": {token}' not in body and f'"id":{token}' not in body


@pytest.mark.parametrize("method,name,key", PAGE_ROUTES)
def test_pages_answer_404_for_another_workspaces_object(client, owner, theirs, method, name, key):
    client.force_login(owner)
    obj = theirs[key]
    response = getattr(client, method)(reverse(name, kwargs=_kwargs(name, obj)), {"name": "x"})
    assert response.status_code == 404
    _no_leak(response, obj)


@pytest.mark.parametrize("method,name,key", API_ROUTES)
def test_api_answers_404_for_another_workspaces_object(api_client, owner, theirs, method, name, key):
    api_client.force_authenticate(owner)
    obj = theirs[key]
    response = getattr(api_client, method)(reverse(name, kwargs=_kwargs(name, obj)), {"name": "x"}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    _no_leak(response, obj)


@pytest.mark.parametrize("page,api,key", LIST_ROUTES)
def test_lists_show_only_the_users_workspaces(client, api_client, owner, ours, theirs, page, api, key):
    client.force_login(owner)
    api_client.force_authenticate(owner)
    for response in (client.get(reverse(page)), api_client.get(reverse(api))):
        assert response.status_code == 200
        _no_leak(response, theirs[key])


def test_api_refuses_to_link_another_workspaces_universe(api_client, owner, workspace, theirs):
    api_client.force_authenticate(owner)
    response = api_client.post(
        reverse("api-campaign-list"),
        {"workspace": workspace.pk, "name": "Ours", "universe": theirs["universe"].pk, "budget": "10"},
        format="json",
    )
    assert response.status_code == 400
    assert "universe" in response.json()["error"]["fields"]
    _no_leak(response, theirs["universe"])


def test_api_refuses_to_create_in_another_workspace(api_client, owner, other_workspace):
    api_client.force_authenticate(owner)
    response = api_client.post(reverse("api-campaign-list"), {"workspace": other_workspace.pk, "name": "Sneaky"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["workspace"] == ["No such workspace."]


VIEWER_PAGE_WRITES = [
    ("get", "campaigns:universe-edit", "universe"),
    ("post", "campaigns:universe-edit", "universe"),
    ("get", "campaigns:element-create", "universe"),
    ("post", "campaigns:element-edit", "element"),
    ("post", "campaigns:campaign-edit", "campaign"),
    ("post", "jobs:retry", "job"),
]


@pytest.mark.parametrize("method,name,key", VIEWER_PAGE_WRITES)
def test_a_viewer_cannot_write_through_pages(client, viewer, ours, method, name, key):
    client.force_login(viewer)
    response = getattr(client, method)(reverse(name, kwargs=_kwargs(name, ours[key])), {"name": "changed"})
    assert response.status_code == 403


@pytest.mark.parametrize("name", ["campaigns:universe-create", "campaigns:campaign-create"])
def test_a_viewer_cannot_create_through_pages(client, viewer, workspace, name):
    client.force_login(viewer)
    assert client.post(reverse(name), {"name": "new"}).status_code == 403


@pytest.mark.parametrize("method,name,key", [r for r in API_ROUTES if r[0] != "get"])
def test_a_viewer_cannot_write_through_the_api(api_client, viewer, ours, method, name, key):
    api_client.force_authenticate(viewer)
    response = getattr(api_client, method)(reverse(name, kwargs=_kwargs(name, ours[key])), {"name": "changed"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("name", ["api-universe-list", "api-campaign-list"])
def test_a_viewer_cannot_create_through_the_api(api_client, viewer, workspace, name):
    api_client.force_authenticate(viewer)
    response = api_client.post(reverse(name), {"workspace": workspace.pk, "name": "new"}, format="json")
    assert response.status_code == 403


def test_anonymous_users_are_sent_to_login_and_refused_by_the_api(client, api_client, ours):
    response = client.get(reverse("campaigns:campaign-detail", kwargs={"pk": ours["campaign"].pk}))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert api_client.get(reverse("api-campaign-list")).status_code in (401, 403)


def test_the_workspace_switcher_refuses_a_workspace_the_user_is_not_in(client, owner, other_workspace):
    client.force_login(owner)
    assert client.post(reverse("campaigns:workspace-switch"), {"workspace": other_workspace.pk}).status_code == 404
