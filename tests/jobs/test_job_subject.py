"""A job leads to what it works on: the generic job page and /api/jobs/<id>/ point to the video
generation (with its provider log), the audio request, the composition whose cuts a render makes,
or the uploaded file an ingest checks. A job with nothing behind it points nowhere."""

from __future__ import annotations

import pytest

from audio.models import AudioRequest
from generation.models import VideoGeneration
from media_assets.compositions import Composition, Render
from media_assets.models import MediaAsset
from mediastudio.jobs.models import Job
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db
K = Job.Kind


def _subject_of(client, job) -> dict | None:
    response = client.get(f"/api/jobs/{job.pk}/")
    assert response.status_code == 200
    return response.json()["subject"]


def test_a_video_job_leads_to_its_generation_page_and_its_provider_log(client_owner, logged_in, workspace):
    job = JobFactory(workspace=workspace, kind=K.VIDEO)
    VideoGeneration.objects.create(workspace=workspace, job=job, prompt="A can")

    subject = _subject_of(client_owner, job)
    assert subject == {"label": "the video generation", "page": f"/generate/jobs/{job.pk}/",
                       "api": f"/api/video/jobs/{job.pk}"}
    assert "provider_log" in client_owner.get(subject["api"]).json()
    page = logged_in.get(f"/jobs/{job.pk}/").content.decode()
    assert f'href="/generate/jobs/{job.pk}/" data-job-subject>Open the video generation<' in page
    assert logged_in.get(subject["page"]).status_code == 200


@pytest.mark.parametrize("kind,label", [(K.VOICEOVER, "the voiceover"), (K.MUSIC, "the music"),
                                        (K.TRANSCRIPTION, "the transcription")])
def test_an_audio_job_leads_to_its_request(client_owner, workspace, kind, label):
    job = JobFactory(workspace=workspace, kind=kind)
    request = AudioRequest.objects.create(workspace=workspace, job=job, kind=kind, provider="espeak", script="Hello")

    subject = _subject_of(client_owner, job)
    assert subject == {"label": label, "page": f"/audio/{request.pk}/", "api": f"/api/audio/jobs/{request.pk}"}
    assert client_owner.get(subject["api"]).json()["id"] == request.pk


def test_a_render_job_leads_to_its_composition_and_its_cuts(client_owner, logged_in, workspace):
    job = JobFactory(workspace=workspace, kind=K.RENDER)
    composition = Composition.objects.create(workspace=workspace, title="Launch")
    Render.objects.create(composition=composition, preset="tiktok", job=job)
    Render.objects.create(composition=composition, preset="youtube", job=job)

    subject = _subject_of(client_owner, job)
    assert subject == {"label": "the composition", "page": f"/editor/{composition.pk}/",
                       "api": f"/api/compositions/{composition.pk}/renders/"}
    assert "Open the composition" in logged_in.get(f"/jobs/{job.pk}/").content.decode()


def test_an_ingest_job_leads_to_its_file(client_owner, workspace):
    job = JobFactory(workspace=workspace, kind=K.INGEST)
    asset = MediaAsset.objects.create(workspace=workspace, kind="video", file="x.mp4", sha256="0" * 64, ingest_job=job)

    assert _subject_of(client_owner, job) == {"label": "the file", "page": f"/library/{asset.pk}/",
                                              "api": f"/api/assets/{asset.pk}/"}


def test_a_job_with_nothing_behind_it_leads_nowhere(client_owner, logged_in, workspace):
    demo = JobFactory(workspace=workspace, kind=K.DEMO)
    orphan = JobFactory(workspace=workspace, kind=K.RENDER)  # its renders were deleted with their composition
    lone_video = JobFactory(workspace=workspace, kind=K.VIDEO)

    assert _subject_of(client_owner, demo) is None
    assert _subject_of(client_owner, orphan) is None
    assert _subject_of(client_owner, lone_video) is None
    assert "data-job-subject" not in logged_in.get(f"/jobs/{orphan.pk}/").content.decode()


def test_the_jobs_list_stays_without_subjects(client_owner, workspace, django_assert_max_num_queries):
    # Finding a subject costs a query; the list (up to a page of jobs) does not pay it per row.
    for _ in range(5):
        JobFactory(workspace=workspace, kind=K.RENDER)
    with django_assert_max_num_queries(6):
        rows = client_owner.get("/api/jobs/").json()["results"]
    assert len(rows) == 5 and all("subject" not in row for row in rows)
