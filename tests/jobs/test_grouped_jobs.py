"""A job that groups others (a batch of videos) lists them on its page, each row linking to its
own page, and each of them (and a video's own page) links back to the job it is part of."""

import pytest

from generation.models import VideoGeneration
from mediastudio.jobs.models import Job
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db


def test_a_batch_job_page_lists_its_videos_and_each_links_back(logged_in, workspace):
    batch = JobFactory(workspace=workspace, kind=Job.Kind.BATCH, title="Launch variants")
    videos = [JobFactory(workspace=workspace, kind=Job.Kind.VIDEO, parent=batch, title=f"Variant {n}") for n in (1, 2)]
    JobFactory(workspace=workspace, kind=Job.Kind.VIDEO, title="Not in the batch")

    page = logged_in.get(f"/jobs/{batch.pk}/").content.decode()
    listed = page[page.index("data-job-children"):]
    assert "Variant 1" in listed and "Variant 2" in listed and "Not in the batch" not in listed
    assert listed.index("Variant 1") < listed.index("Variant 2")
    assert all(f'href="/jobs/{v.pk}/"' in listed for v in videos)
    assert "Attempts" not in page  # the batch's own job runs nothing: "0 of 3" would mislead

    child = logged_in.get(f"/jobs/{videos[0].pk}/").content.decode()
    assert f'href="/jobs/{batch.pk}/" data-job-parent>Part of: Launch variants<' in child
    assert "data-job-children" not in child
    generation = VideoGeneration.objects.create(workspace=workspace, job=videos[0], prompt="Bottle on a trail")
    video_page = logged_in.get(f"/generate/jobs/{generation.job_id}/").content.decode()
    assert f'href="/jobs/{batch.pk}/" data-job-parent>Part of: Launch variants<' in video_page
