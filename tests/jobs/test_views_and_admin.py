"""The Jobs pages' cancel and retry forms, the jobs API's filters and the admin's job actions: a
form's `next` never leads off the site, a bad filter is a 400 (not a 500), the admin neither
crashes on "Add job" nor reports nothing done as a success."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from mediastudio.jobs.models import Job
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db
S = Job.Status


@pytest.fixture
def admin_client_(client):
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", "pw-for-tests-123")
    client.force_login(user)
    return client


def test_it_sends_cancel_and_retry_back_to_a_page_of_the_site_only(logged_in, workspace):
    job = JobFactory(workspace=workspace, status=S.FAILED)
    response = logged_in.post(reverse("jobs:retry", args=[job.pk]), {"next": "https://evil.example/login"})
    assert response.status_code == 302 and response["Location"] == reverse("jobs:list")
    response = logged_in.post(reverse("jobs:cancel", args=[job.pk]), {"next": "//evil.example/"})
    assert response["Location"] == reverse("jobs:list")
    response = logged_in.post(reverse("jobs:cancel", args=[job.pk]), {"next": f"/jobs/{job.pk}/"})
    assert response["Location"] == f"/jobs/{job.pk}/"


@pytest.mark.parametrize("query,field", [
    ("workspace=abc", "workspace"), ("campaign=x", "campaign"), ("status=done", "status"), ("kind=nope", "kind"),
])
def test_it_answers_a_bad_jobs_filter_with_a_field_error(api_client, owner, query, field):
    api_client.force_authenticate(owner)
    response = api_client.get(f"/api/jobs/?{query}")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_it_filters_jobs_by_workspace_and_status(api_client, owner, workspace):
    api_client.force_authenticate(owner)
    failed = JobFactory(workspace=workspace, status=S.FAILED)
    JobFactory(workspace=workspace, status=S.SUCCEEDED)
    body = api_client.get(f"/api/jobs/?workspace={workspace.pk}&status=failed").json()
    assert [row["id"] for row in body["results"]] == [str(failed.pk)]


def test_the_admin_offers_no_job_form_to_add(admin_client_):
    assert admin_client_.get(reverse("admin:jobs_job_add")).status_code == 403
    assert admin_client_.get(reverse("admin:jobs_job_changelist")).status_code == 200


def test_the_admin_says_which_jobs_it_could_not_retry(admin_client_, workspace):
    failed = JobFactory(workspace=workspace, status=S.FAILED)
    done = JobFactory(workspace=workspace, status=S.SUCCEEDED)
    response = admin_client_.post(reverse("admin:jobs_job_changelist"),
                                  {"action": "retry_jobs", "_selected_action": [failed.pk, done.pk]}, follow=True)
    shown = [(m.level_tag, m.message) for m in response.context["messages"]]
    assert ("success", "1 job(s) queued again.") in shown
    assert any(level == "warning" and "1 job(s) not retried" in text and "succeeded" in text for level, text in shown), shown
    failed.refresh_from_db()
    assert failed.status == S.QUEUED
