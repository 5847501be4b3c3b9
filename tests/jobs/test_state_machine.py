import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from mediastudio.jobs.models import Job
from mediastudio.jobs.services import (
    IllegalTransition,
    JobReporter,
    job_cancel,
    job_create,
    job_reap_expired,
    job_retry,
    job_set_status,
    job_start,
)
from mediastudio.jobs.tasks import job_execute
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db
S = Job.Status

LEGAL = [
    (S.QUEUED, S.RUNNING), (S.QUEUED, S.CANCELED), (S.QUEUED, S.FAILED),
    (S.RUNNING, S.SUCCEEDED), (S.RUNNING, S.FAILED), (S.RUNNING, S.CANCELED), (S.RUNNING, S.QUEUED),
    (S.FAILED, S.QUEUED), (S.CANCELED, S.QUEUED),
]
ALL = [s for s, _ in S.choices]
ILLEGAL = [(a, b) for a in ALL for b in ALL if (a, b) not in LEGAL]


@pytest.mark.parametrize("source,target", LEGAL)
def test_it_allows_legal_transitions(source, target):
    job = JobFactory(status=source)
    job_set_status(job=job, status=target)
    job.refresh_from_db()
    assert job.status == target


@pytest.mark.parametrize("source,target", ILLEGAL)
def test_it_refuses_illegal_transitions(source, target):
    job = JobFactory(status=source, progress=40)
    with pytest.raises(IllegalTransition):
        job_set_status(job=job, status=target)
    job.refresh_from_db()
    assert job.status == source and job.progress == 40


def test_it_sets_progress_to_100_and_finish_time_on_success():
    job = JobFactory(status=S.RUNNING, progress=70)
    job_set_status(job=job, status=S.SUCCEEDED)
    job.refresh_from_db()
    assert job.progress == 100 and job.finished_at is not None and job.lease_expires_at is None


def test_it_claims_a_queued_job_once():
    job = JobFactory(status=S.QUEUED)
    first = job_start(job_id=job.pk)
    second = job_start(job_id=job.pk)
    assert first is not None and first.attempts == 1 and first.lease_expires_at > timezone.now()
    assert second is None


def test_it_runs_the_finalizer_in_the_final_transition(workspace):
    job = job_create(
        workspace=workspace, kind=Job.Kind.DEMO, task="tests.jobs.tasks_for_tests.succeed",
        finalizer="tests.jobs.tasks_for_tests.record_finalizer", enqueue=False,
    )
    job_set_status(job=job, status=S.RUNNING)
    job_set_status(job=job, status=S.FAILED, error="boom")
    job.refresh_from_db()
    assert job.result["finalized_as"] == "failed"


def test_the_reaper_retries_an_expired_job_with_attempts_left(django_capture_on_commit_callbacks):
    job = JobFactory(status=S.RUNNING, attempts=1, max_attempts=3, lease_expires_at=timezone.now() - dt.timedelta(seconds=5))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        retried, failed = job_reap_expired()
    job.refresh_from_db()
    assert (retried, failed) == (1, 0)
    assert job.status == S.QUEUED and job.lease_expires_at is None
    assert callbacks, "the job was not handed back to a worker"


def test_the_reaper_fails_an_expired_job_without_attempts_left():
    job = JobFactory(status=S.RUNNING, attempts=3, max_attempts=3, lease_expires_at=timezone.now() - dt.timedelta(seconds=5))
    retried, failed = job_reap_expired()
    job.refresh_from_db()
    assert (retried, failed) == (0, 1)
    assert job.status == S.FAILED and "stopped responding" in job.error


def test_the_reaper_leaves_live_and_waiting_jobs_alone():
    live = JobFactory(status=S.RUNNING, attempts=1, lease_expires_at=timezone.now() + dt.timedelta(seconds=60))
    waiting = JobFactory(status=S.RUNNING, attempts=1, lease_expires_at=None)  # waits on a provider, no worker
    assert job_reap_expired() == (0, 0)
    live.refresh_from_db(); waiting.refresh_from_db()
    assert live.status == waiting.status == S.RUNNING


def test_it_executes_a_job_to_success_with_progress(workspace):
    job = job_create(workspace=workspace, kind=Job.Kind.DEMO, task="mediastudio.jobs.demo.count_steps",
                     params={"steps": 4, "pause": 0}, enqueue=False)
    assert job_execute(str(job.pk)) == "succeeded"
    job.refresh_from_db()
    assert job.status == S.SUCCEEDED and job.result["steps"] == 4 and job.attempts == 1


def test_it_records_a_permanent_failure_on_the_row(workspace):
    job = job_create(workspace=workspace, kind=Job.Kind.DEMO, task="tests.jobs.tasks_for_tests.fail_permanently", enqueue=False)
    assert job_execute(str(job.pk)) == "failed"
    job.refresh_from_db()
    assert job.status == S.FAILED and job.error == "the provider refused the prompt"


def test_it_requeues_a_retryable_failure_while_attempts_remain(workspace, django_capture_on_commit_callbacks):
    job = job_create(workspace=workspace, kind=Job.Kind.DEMO, task="tests.jobs.tasks_for_tests.fail_transiently",
                     max_attempts=2, enqueue=False)
    with django_capture_on_commit_callbacks(execute=False):
        assert job_execute(str(job.pk)) == "requeued"
    job.refresh_from_db()
    assert job.status == S.QUEUED and job.attempts == 1
    with django_capture_on_commit_callbacks(execute=False):
        assert job_execute(str(job.pk)) == "failed"
    job.refresh_from_db()
    assert job.status == S.FAILED and job.attempts == 2


def test_a_canceled_job_is_not_run_and_a_cancel_during_the_run_stands(workspace):
    job = job_create(workspace=workspace, kind=Job.Kind.DEMO, task="tests.jobs.tasks_for_tests.cancel_midway", enqueue=False)
    assert job_execute(str(job.pk)) == "canceled"
    job.refresh_from_db()
    assert job.status == S.CANCELED
    assert job_execute(str(job.pk)) == "skipped"


def test_retry_resets_a_failed_job(workspace):
    job = JobFactory(workspace=workspace, status=S.FAILED, attempts=3, error="boom", progress=50)
    job_retry(job=job)
    job.refresh_from_db()
    assert job.status == S.QUEUED and job.attempts == 0 and job.error == "" and job.progress == 0


def test_cancel_refuses_a_finished_job():
    job = JobFactory(status=S.SUCCEEDED, estimated_cost=Decimal("1"))
    with pytest.raises(IllegalTransition):
        job_cancel(job=job)


def test_monotonic_progress_never_moves_the_bar_back():
    from mediastudio.jobs.services import job_progress

    job = JobFactory(status=S.RUNNING, progress=0)
    assert job_progress(job=job, percent=64, message="on runway", monotonic=True)
    assert job_progress(job=job, percent=5, message="falling back to veo", monotonic=True)
    job.refresh_from_db()
    assert job.progress == 64 and job.message == "falling back to veo"
    assert job_progress(job=job, percent=10, message="plain progress may go back")
    job.refresh_from_db()
    assert job.progress == 10


def test_the_reporter_writes_a_new_step_at_once_and_the_same_percent_once_an_interval():
    job = JobFactory(status=S.RUNNING, progress=0)
    now = [100.0]
    reporter = JobReporter(job, interval=0.5, clock=lambda: now[0])
    reporter.progress(50, "Shorts: rendering")
    reporter.progress(50, "Shorts: storing in the library", new_step=True)  # same percent, new step: written
    job.refresh_from_db()
    assert (job.progress, job.message) == (50, "Shorts: storing in the library")
    Job.objects.filter(pk=job.pk).update(message="untouched")
    reporter.progress(50, "transcribed 3.1 s of 60 s")  # the same percent within the interval: not written
    assert Job.objects.get(pk=job.pk).message == "untouched"
    now[0] += 1.0
    reporter.progress(50, "transcribed 3.4 s of 60 s")  # after the interval: written (a heartbeat)
    assert Job.objects.get(pk=job.pk).message == "transcribed 3.4 s of 60 s"
