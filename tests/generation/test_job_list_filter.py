"""GET /api/video/jobs?status=...: an unknown status is a field error naming the valid ones, not an empty list."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_it_refuses_an_unknown_status_naming_the_valid_ones(api_client, owner):
    api_client.force_authenticate(owner)
    response = api_client.get("/api/video/jobs", {"status": "zzz"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"] == {"status": ["'zzz' is not a status: one of queued, running, succeeded, failed, canceled."]}
    assert api_client.get("/api/video/jobs", {"status": "failed"}).json()["results"] == []
