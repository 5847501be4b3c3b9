"""CSRF: a logged-in browser's session cannot be used by another site to write, on pages or
through the session-authenticated API; the same requests with the token go through."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from mediastudio.jobs.models import Job
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    return client


def token(client, path="/") -> str:
    page = client.get(path)
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)


@pytest.mark.parametrize(
    "path,data",
    [
        ("/campaigns/new/", {"name": "Forged"}),
        ("/universes/new/", {"name": "Forged"}),
        ("/jobs/demo/", {}),
        ("/library/upload/", {"files": SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n")}),
    ],
)
def test_page_writes_without_the_token_are_refused(browser, workspace, path, data):
    assert browser.post(path, data).status_code == 403


def test_a_page_write_with_the_token_goes_through(browser, workspace):
    response = browser.post("/campaigns/new/", {"name": "Real", "budget": "5", "currency": "USD", "objective": "awareness",
                                                "status": "draft", "csrfmiddlewaretoken": token(browser, "/campaigns/new/")})
    assert response.status_code == 302


def test_the_session_api_refuses_writes_without_the_token(browser, workspace):
    job = JobFactory(workspace=workspace, status=Job.Status.FAILED)
    assert browser.post("/api/campaigns/", {"name": "Forged"}, content_type="application/json").status_code == 403
    assert browser.post(f"/api/jobs/{job.pk}/retry/").status_code == 403
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    ok = browser.post("/api/campaigns/", {"name": "Real"}, content_type="application/json",
                      HTTP_X_CSRFTOKEN=token(browser))
    assert ok.status_code == 201
