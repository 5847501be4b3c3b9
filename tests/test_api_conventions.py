"""API conventions: an OpenAPI schema that validates without warnings, self-hosted docs,
a hard page-size cap, one error format with field messages, token auth."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.authtoken.models import Token

from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def test_the_schema_validates_with_no_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out), stderr=io.StringIO())
    text = out.read_text()
    assert "openapi: 3" in text and "/api/campaigns/" in text and "/api/jobs/{job_id}/cancel/" in text


def test_the_docs_page_is_served_with_local_assets(client, owner):
    client.force_login(owner)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert "cdn.jsdelivr" not in response.content.decode()  # works offline
    assert client.get("/api/schema/").status_code == 200


def test_the_page_size_is_capped(api_client, owner, workspace):
    CampaignFactory.create_batch(105, workspace=workspace)
    api_client.force_authenticate(owner)
    body = api_client.get(reverse("api-campaign-list"), {"page_size": 1000}).json()
    assert body["count"] == 105 and len(body["results"]) == 100


def test_validation_errors_name_each_field(api_client, owner, workspace):
    api_client.force_authenticate(owner)
    response = api_client.post(
        reverse("api-campaign-list"),
        {"workspace": workspace.pk, "name": "", "budget": "-1", "target_platforms": ["myspace"]},
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert {"name", "budget", "target_platforms.0"} <= set(error["fields"]), error


def test_model_rules_come_back_as_field_errors(api_client, owner, workspace):
    api_client.force_authenticate(owner)
    response = api_client.post(
        reverse("api-campaign-list"),
        {"workspace": workspace.pk, "name": "Dates", "starts_on": "2026-12-10", "ends_on": "2026-12-01"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["ends_on"] == ["The campaign cannot end before it starts."]


def test_token_authentication_works(api_client, owner, workspace):
    token = Token.objects.create(user=owner)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api_client.post(reverse("api-universe-list"), {"name": "Tokens", "palette": ["#112233"]}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["workspace"] == workspace.pk
