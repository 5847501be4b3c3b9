"""Worker entry points (django-q2). They load rows by id and delegate to services."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.utils.module_loading import import_string

from mediastudio.jobs.models import Job
from mediastudio.jobs.services import (
    WAITING,
    IllegalTransition,
    JobCanceled,
    JobReporter,
    job_release_lease,
    job_reap_expired,
    job_requeue,
    job_set_status,
    job_start,
)

logger = logging.getLogger(__name__)


def job_execute(job_id: str, *, on_progress: Callable[[float, str], Any] | None = None) -> str:
    """Run one attempt of a job. Safe to call twice: only a queued job is claimed.
    ``on_progress(percent, message)`` hears the task's progress as it is reported."""
    job = job_start(job_id=job_id)
    if job is None:
        return "skipped"
    reporter = JobReporter(job, on_progress=on_progress)
    try:
        outcome: Any = import_string(job.task)(job, reporter)
    except JobCanceled:
        return "canceled"
    except Exception as exc:  # a task failure is recorded on the row, never lost in a log
        permanent = getattr(exc, "permanent", True)
        retry_after = getattr(exc, "retry_after", None)
        job.refresh_from_db()
        if job.status != Job.Status.RUNNING:
            return job.status
        if not permanent and job.attempts < job.max_attempts:
            delay = retry_after if retry_after is not None else min(60.0, 2.0 ** job.attempts)
            job_requeue(job=job, message=f"Retrying after: {exc}", delay=delay)
            return "requeued"
        logger.warning("Job %s failed: %s", job.pk, exc, exc_info=not hasattr(exc, "permanent"))
        try:
            job_set_status(job=job, status=Job.Status.FAILED, error=str(exc) or type(exc).__name__, message="Failed")
        except IllegalTransition:
            pass
        return "failed"
    if outcome is WAITING:
        job_release_lease(job=job)
        return "waiting"
    try:
        job_set_status(job=job, status=Job.Status.SUCCEEDED, result=outcome or {}, message="Done")
    except IllegalTransition:
        return "canceled"  # canceled while the last step ran; the cancel stands
    return "succeeded"


def reap_expired_jobs() -> str:
    retried, failed = job_reap_expired()
    return f"retried {retried}, failed {failed}"
