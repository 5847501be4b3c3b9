"""The poll loop's sweep stays cheap as the number of renders in flight grows: its database work
and its broadcasts are batched, and anything that is not a progress report takes the locked path."""

from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from generation.models import VideoAttempt
from generation.services import attempts_poll_due, video_generation_create
from mediastudio.jobs import services as job_services
from mediastudio.jobs.models import Job
from tests.factories import CampaignFactory
from tests.generation.engine_fakes import ScriptedProvider, register, run_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def vendor(monkeypatch, settings):
    ScriptedProvider.reset(polls_to_finish=2, never_finish=True)
    register(monkeypatch, settings, ScriptedProvider)
    return ScriptedProvider


def rendering(workspace, count):
    campaign = CampaignFactory(workspace=workspace, budget=Decimal("1000"))
    generations = []
    for i in range(count):
        generation, _ = video_generation_create(workspace=workspace, campaign=campaign, prompt=f"Shot {i}", tier="standard", duration=4)
        run_job(str(generation.job_id))  # the task runs and the attempt is submitted
        generations.append(generation)
    return generations


def sweep_queries(seconds_later: float) -> int:
    with CaptureQueriesContext(connection) as queries:
        attempts_poll_due(now=timezone.now() + dt.timedelta(seconds=seconds_later))
    return len(queries)


def test_a_sweeps_queries_do_not_grow_with_the_renders_in_flight(workspace, vendor):
    rendering(workspace, 3)
    few = sweep_queries(10)
    rendering(workspace, 27)
    many = sweep_queries(20)
    assert VideoAttempt.objects.filter(status="running", polls__gte=1).count() == 30
    assert many == few


def test_a_sweep_moves_every_bar_and_publishes_them_in_one_batch(workspace, vendor, monkeypatch, django_capture_on_commit_callbacks):
    generations = rendering(workspace, 12)
    batches = []
    monkeypatch.setattr(job_services, "job_broadcast_many", lambda jobs: batches.append(sorted(str(j.pk) for j in jobs)))
    with django_capture_on_commit_callbacks(execute=True):
        attempts_poll_due(now=timezone.now() + dt.timedelta(seconds=10))
    assert batches == [sorted(str(g.job_id) for g in generations)]
    for generation in generations:
        job = Job.objects.get(pk=generation.job_id)
        attempt = generation.attempts.get()
        assert attempt.percent == 30 and attempt.polls == 1
        assert job.progress == 5 + int(30 * 0.85) and job.message == "Rendering on fake_ok: 30%"


def test_a_bar_never_moves_back_when_a_vendor_reports_less(workspace, vendor):
    [generation] = rendering(workspace, 1)
    attempts_poll_due(now=timezone.now() + dt.timedelta(seconds=10))
    job = Job.objects.get(pk=generation.job_id)
    assert job.progress == 30
    Job.objects.filter(pk=job.pk).update(progress=60)  # say, an earlier provider in the chain got further
    attempts_poll_due(now=timezone.now() + dt.timedelta(seconds=20))
    job.refresh_from_db()
    assert job.progress == 60 and job.message == "Rendering on fake_ok: 60%"


def test_a_finished_render_in_a_sweep_of_running_ones_is_fetched_and_stored(workspace, vendor):
    generations = rendering(workspace, 4)
    attempts_poll_due(now=timezone.now() + dt.timedelta(seconds=10))
    vendor.never_finish = False  # the second poll finishes them
    first = generations[0].attempts.get()
    VideoAttempt.objects.exclude(pk=first.pk).update(poll_due_at=timezone.now() + dt.timedelta(hours=1))
    attempts_poll_due(now=timezone.now() + dt.timedelta(seconds=20))
    done = Job.objects.get(pk=generations[0].job_id)
    assert done.status == Job.Status.SUCCEEDED and done.result["asset"]
    assert [Job.objects.get(pk=g.job_id).status for g in generations[1:]] == [Job.Status.RUNNING] * 3


def test_a_canceled_job_is_not_given_progress_by_a_sweep_that_claimed_it(workspace, vendor):
    [generation] = rendering(workspace, 1)
    original = vendor.poll

    def poll_then_cancel(self, external_id):
        result = original(self, external_id)
        from generation.services import video_generation_cancel

        video_generation_cancel(generation=generation)  # the user cancels while the vendor answers
        return result

    vendor.poll = poll_then_cancel
    try:
        attempts_poll_due(now=timezone.now() + dt.timedelta(seconds=10))
    finally:
        vendor.poll = original
    job = Job.objects.get(pk=generation.job_id)
    assert job.status == Job.Status.CANCELED and job.progress < 30
    assert generation.attempts.get().status == VideoAttempt.Status.CANCELED


@pytest.mark.django_db(transaction=True)
def test_the_loops_sweep_does_not_wait_for_a_slow_fetch(vendor, monkeypatch):
    from generation.services import polling
    from tests.factories import WorkspaceFactory

    workspace = WorkspaceFactory()
    slow, other = rendering(workspace, 2)
    vendor.never_finish = False
    vendor.polls_to_finish = 1
    VideoAttempt.objects.filter(generation=other).update(poll_due_at=timezone.now() + dt.timedelta(hours=1))
    release = threading.Event()
    original = vendor.download

    def held_download(self, result, dest):
        release.wait(30)  # a large file on a slow link
        return original(self, result, dest)

    monkeypatch.setattr(vendor, "download", held_download)
    try:
        assert attempts_poll_due(now=timezone.now() + dt.timedelta(seconds=5), wait=False) == 1
        assert polling.steps_in_hand() == 1
        deadline = time.monotonic() + 10
        while slow.attempts.get().status != VideoAttempt.Status.FETCHING and time.monotonic() < deadline:
            time.sleep(0.02)  # the step thread marks it before it downloads
        assert slow.attempts.get().status == VideoAttempt.Status.FETCHING
        # The next sweep polls the other render while the fetch is still held, and skips the held one.
        VideoAttempt.objects.filter(generation=other).update(poll_due_at=timezone.now())
        assert attempts_poll_due(now=timezone.now() + dt.timedelta(seconds=6), wait=False) == 1
    finally:
        release.set()
        polling.steps_drain(timeout=30)
    assert polling.steps_in_hand() == 0
    assert {Job.objects.get(pk=g.job_id).status for g in (slow, other)} == {Job.Status.SUCCEEDED}
