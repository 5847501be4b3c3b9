"""The only way a Job changes: create, start, progress, finish, cancel, retry, reap.

Every status change saves the row inside a transaction that locks it, checks the transition is
legal, runs the job's finalizer (when it reaches a final state) in that same transaction, and
broadcasts an event to the job's and the workspace's channel groups once the transaction commits.
Pages and the API read the same persisted rows, so a reload never loses progress.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from decimal import Decimal
from typing import Any, Callable

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.db import transaction
from django.db.models import Case, CharField, F, IntegerField, Value, When
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.module_loading import import_string

from mediastudio.jobs.models import Job
from mediastudio.lib.background_loop import run_in_background_loop

logger = logging.getLogger(__name__)
S = Job.Status

TRANSITIONS: dict[str, frozenset[str]] = {
    S.QUEUED: frozenset({S.RUNNING, S.CANCELED, S.FAILED}),
    S.RUNNING: frozenset({S.SUCCEEDED, S.FAILED, S.CANCELED, S.QUEUED}),
    S.FAILED: frozenset({S.QUEUED}),
    S.CANCELED: frozenset({S.QUEUED}),
    S.SUCCEEDED: frozenset(),
}
FINAL = frozenset({S.SUCCEEDED, S.FAILED, S.CANCELED})


class IllegalTransition(Exception):
    def __init__(self, job: Job, target: str) -> None:
        super().__init__(f"Job {job.pk} cannot go from {job.status} to {target}.")
        self.current = job.status
        self.target = target


# ---------------------------------------------------------------------------- events


def job_serialize(job: Job) -> dict[str, Any]:
    """The one representation of a job sent over websockets (and mirrored by the API)."""
    return {
        "id": str(job.pk),
        "kind": job.kind,
        "kind_label": job.get_kind_display(),
        "title": job.title,
        "status": job.status,
        "progress": job.progress,
        "message": job.message,
        "error": job.error,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "estimated_cost": str(job.estimated_cost),
        "actual_cost": None if job.actual_cost is None else str(job.actual_cost),
        "campaign": job.campaign_id,
        "parent": None if job.parent_id is None else str(job.parent_id),
        "result": job.result,
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "updated_at": job.updated_at.isoformat() if job.updated_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


async def _send_to_groups(layer: Any, sends: list[tuple[str, dict[str, Any]]]) -> None:
    await asyncio.gather(*(layer.group_send(group, event) for group, event in sends))


def job_broadcast(job: Job) -> None:
    """Send the job's current state to its group and its workspace's group. No-op without a layer."""
    job_broadcast_many([job])


def job_broadcast_many(jobs: list[Job]) -> None:
    """Send each job's state to its own and its workspace's group, all in one batch; a job that is
    part of another (a batch's video) goes to that job's group too, whose page lists it."""
    layer = get_channel_layer()
    if layer is None or not jobs:
        return
    sends = []
    for job in jobs:
        event = {"type": "job.update", "job": job_serialize(job)}
        sends += [(job.group_name, event), (f"workspace-{job.workspace_id}", event)]
        if job.parent_id:
            sends.append((f"job-{job.parent_id}", event))
    try:
        if isinstance(layer, InMemoryChannelLayer):
            # Its queues belong to the consumers' loop (tests, single-process development).
            async_to_sync(_send_to_groups)(layer, sends)
        else:
            # The process's long-lived loop: the Redis layer's connections are kept between batches.
            run_in_background_loop(_send_to_groups(layer, sends))
    except Exception:  # the database holds the truth; a lost nudge is repaired by the next snapshot
        logger.exception("Could not broadcast %d job update(s)", len(jobs))


def _broadcast_on_commit(job_id: Any) -> None:
    def send() -> None:
        fresh = Job.objects.filter(pk=job_id).first()
        if fresh is not None:
            job_broadcast(fresh)

    transaction.on_commit(send)


# ---------------------------------------------------------------------------- enqueue


def job_enqueue(job: Job, *, delay: float | None = None) -> None:
    """Hand the job to a worker once the current transaction commits (IDs only)."""
    job_id = str(job.pk)
    cluster = "gpu" if job.queue == "gpu" else None

    def send() -> None:
        from django_q.tasks import async_task, schedule
        from django_q.models import Schedule

        if delay:
            schedule(
                "mediastudio.jobs.tasks.job_execute",
                job_id,
                schedule_type=Schedule.ONCE,
                next_run=timezone.now() + dt.timedelta(seconds=delay),
                **({"cluster": "gpu"} if cluster else {}),
            )
            return
        options: dict[str, Any] = {"task_name": f"job-{job_id}"}
        if cluster:
            options["cluster"] = cluster
        async_task("mediastudio.jobs.tasks.job_execute", job_id, q_options=options)

    transaction.on_commit(send)


# ---------------------------------------------------------------------------- create


def job_create(
    *,
    workspace: Any,
    kind: str,
    task: str,
    params: dict[str, Any] | None = None,
    title: str = "",
    campaign: Any = None,
    user: Any = None,
    parent: Job | None = None,
    estimated_cost: Decimal = Decimal("0"),
    queue: str = "default",
    idempotency_key: str = "",
    max_attempts: int | None = None,
    finalizer: str = "",
    enqueue: bool = True,
) -> Job:
    """Create a queued job and (after commit) hand it to a worker.

    `task` is the dotted path of `fn(job, reporter)`; `finalizer` the dotted path of
    `fn(job)` run in the transaction that moves the job to a final state (release a budget
    reservation, say).
    """
    job = Job.objects.create(
        workspace=workspace,
        kind=kind,
        task=task,
        params=params or {},
        title=title[:200],
        campaign=campaign,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        parent=parent,
        estimated_cost=estimated_cost,
        queue=queue,
        idempotency_key=idempotency_key,
        max_attempts=max_attempts or settings.JOB_MAX_ATTEMPTS,
        result={"finalizer": finalizer} if finalizer else {},
    )
    _broadcast_on_commit(job.pk)
    if enqueue:
        job_enqueue(job)
    return job


# ---------------------------------------------------------------------------- transitions


def _lock(job_id: Any) -> Job:
    return Job.objects.select_for_update().get(pk=job_id)


def _run_finalizer(job: Job) -> None:
    path = (job.result or {}).get("finalizer")
    if path:
        import_string(path)(job)


def job_set_status(
    *,
    job: Job | Any,
    status: str,
    message: str | None = None,
    error: str | None = None,
    progress: int | None = None,
    result: dict[str, Any] | None = None,
    actual_cost: Decimal | None = None,
) -> Job:
    """Move a job to `status`, refusing illegal transitions (IllegalTransition)."""
    job_id = job.pk if isinstance(job, Job) else job
    with transaction.atomic():
        locked = _lock(job_id)
        if status not in TRANSITIONS[locked.status]:
            raise IllegalTransition(locked, status)
        now = timezone.now()
        locked.status = status
        if message is not None:
            locked.message = message[:300]
        if error is not None:
            locked.error = error
        if progress is not None:
            locked.progress = max(0, min(100, int(progress)))
        if result:
            locked.result = {**(locked.result or {}), **result}
        if actual_cost is not None:
            locked.actual_cost = actual_cost
        if status == S.RUNNING:
            locked.started_at = locked.started_at or now
        if status in FINAL:
            locked.finished_at = now
            locked.lease_expires_at = None
            if status == S.SUCCEEDED:
                locked.progress = 100
        if status == S.QUEUED:
            locked.finished_at = None
            locked.lease_expires_at = None
        locked.save()
        if status in FINAL:
            _run_finalizer(locked)
        _broadcast_on_commit(locked.pk)
    if isinstance(job, Job):
        job.refresh_from_db()
    return locked


def job_start(*, job_id: Any, lease_seconds: int | None = None) -> Job | None:
    """Claim a queued job for this worker: running, one more attempt, a lease. None if not queued."""
    lease = lease_seconds or settings.JOB_LEASE_SECONDS
    with transaction.atomic():
        locked = Job.objects.select_for_update().filter(pk=job_id).first()
        if locked is None or locked.status != S.QUEUED:
            return None
        now = timezone.now()
        locked.status = S.RUNNING
        locked.attempts += 1
        locked.started_at = locked.started_at or now
        locked.heartbeat_at = now
        locked.lease_expires_at = now + dt.timedelta(seconds=lease)
        locked.error = ""
        locked.save()
        transaction.on_commit(lambda: job_broadcast(locked))  # the row as committed: no re-read
    return locked


def job_heartbeat(*, job: Job, lease_seconds: int | None = None) -> None:
    now = timezone.now()
    lease = lease_seconds or settings.JOB_LEASE_SECONDS
    Job.objects.filter(pk=job.pk, status=S.RUNNING).update(
        heartbeat_at=now, lease_expires_at=now + dt.timedelta(seconds=lease)
    )


def job_release_lease(*, job: Job) -> None:
    """The job keeps running but no worker holds it (it waits on a provider's poll or webhook)."""
    Job.objects.filter(pk=job.pk, status=S.RUNNING).update(lease_expires_at=None, heartbeat_at=timezone.now())


def job_progress(*, job: Job, percent: int, message: str = "", heartbeat: bool = True, monotonic: bool = False) -> bool:
    """Record progress of a running job and broadcast it. False if the job is no longer running
    (canceled meanwhile): the caller should stop. With monotonic=True the bar never moves back
    (a fallback to the next provider starts its own count again, the job's bar holds)."""
    percent = max(0, min(100, int(percent)))
    now = timezone.now()
    stored: Any = Greatest(F("progress"), Value(percent)) if monotonic else percent
    fields: dict[str, Any] = {"progress": stored, "message": message[:300], "updated_at": now}
    if heartbeat:  # a worker holds the job: progress proves it is alive
        fields["heartbeat_at"] = now
        fields["lease_expires_at"] = now + dt.timedelta(seconds=settings.JOB_LEASE_SECONDS)
    updated = Job.objects.filter(pk=job.pk, status=S.RUNNING).update(**fields)
    if not updated:
        return False
    job.progress = percent if not monotonic else max(percent, job.progress or 0)
    job.message = message[:300]
    job.updated_at = now
    if transaction.get_connection().in_atomic_block:
        _broadcast_on_commit(job.pk)
    else:
        job_broadcast(Job.objects.get(pk=job.pk))
    return True


def job_progress_many(updates: list[tuple[Any, int, str]]) -> int:
    """Record (job id, percent, message) for many running jobs in one UPDATE and publish them in
    one batch; the bar never moves back. For the poll loop, which reports for thousands of jobs
    that no worker holds (so no heartbeat). Returns how many jobs were still running."""
    if not updates:
        return 0
    ids = [job_id for job_id, _, _ in updates]
    percent = Case(*(When(pk=job_id, then=Value(max(0, min(100, int(p))))) for job_id, p, _ in updates),
                   output_field=IntegerField())
    message = Case(*(When(pk=job_id, then=Value(m[:300])) for job_id, _, m in updates), output_field=CharField())
    running = Job.objects.filter(pk__in=ids, status=S.RUNNING)
    if not running.update(progress=Greatest(F("progress"), percent), message=message, updated_at=timezone.now()):
        return 0
    fresh = list(Job.objects.filter(pk__in=ids, status=S.RUNNING))
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: job_broadcast_many(fresh))
    else:
        job_broadcast_many(fresh)
    return len(fresh)


def job_cancel(*, job: Job) -> Job:
    if not job.can_cancel:
        raise IllegalTransition(job, S.CANCELED)
    return job_set_status(job=job, status=S.CANCELED, message="Canceled")


def job_retry(*, job: Job) -> Job:
    """Run a failed or canceled job again from the start."""
    if not job.can_retry:
        raise IllegalTransition(job, S.QUEUED)
    with transaction.atomic():
        updated = job_set_status(job=job, status=S.QUEUED, message="Queued again", error="", progress=0)
        Job.objects.filter(pk=updated.pk).update(attempts=0)
        job_enqueue(updated)
    job.refresh_from_db()
    return job


def job_requeue(*, job: Job, message: str, delay: float | None = None) -> Job:
    """A running attempt failed in a retryable way: back to the queue (with a delay)."""
    with transaction.atomic():
        updated = job_set_status(job=job, status=S.QUEUED, message=message[:300])
        job_enqueue(updated, delay=delay)
    return updated


def job_reap_expired(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """Find running jobs whose worker's lease expired: retry those with attempts left, fail the rest.

    Returns (retried, failed).
    """
    now = now or timezone.now()
    retried = failed = 0
    expired_ids = list(
        Job.objects.filter(status=S.RUNNING, lease_expires_at__lt=now).values_list("pk", flat=True)
    )
    for job_id in expired_ids:
        with transaction.atomic():
            job = Job.objects.select_for_update().get(pk=job_id)
            if job.status != S.RUNNING or job.lease_expires_at is None or job.lease_expires_at >= now:
                continue  # someone else moved it meanwhile
            if job.attempts < job.max_attempts:
                job_set_status(job=job, status=S.QUEUED, message=f"Worker lost; retrying (attempt {job.attempts + 1} of {job.max_attempts})")
                job_enqueue(job)
                retried += 1
            else:
                job_set_status(
                    job=job,
                    status=S.FAILED,
                    error=f"The worker running this job stopped responding after {job.attempts} attempt(s).",
                    message="Failed: worker lost",
                )
                failed += 1
    return retried, failed


# ---------------------------------------------------------------------------- worker side


class JobCanceled(Exception):
    """Raised by a reporter when the job was canceled while the worker ran it."""


WAITING = object()  # returned by a task: the job keeps running without a worker (remote provider)


class JobReporter:
    """Handed to a job's task function: progress, heartbeat and cancellation checks,
    at most one database write per `interval` seconds unless the percent changed or the task says a
    new step begins (``new_step``: its message shows at once, at the same percent).
    ``on_progress(percent, message)`` also hears every report (a command's progress bar)."""

    def __init__(self, job: Job, *, interval: float = 0.5, clock: Callable[[], float] = time.monotonic,
                 on_progress: Callable[[float, str], Any] | None = None) -> None:
        self.job = job
        self.interval = interval
        self._clock = clock
        self._on_progress = on_progress
        self._last_write = 0.0
        self._last_percent = -1

    def progress(self, percent: int, message: str = "", *, new_step: bool = False) -> None:
        if self._on_progress is not None:
            self._on_progress(percent, message)
        now = self._clock()
        if not new_step and int(percent) == self._last_percent and now - self._last_write < self.interval:
            return
        self._last_write, self._last_percent = now, int(percent)
        if not job_progress(job=self.job, percent=percent, message=message):
            raise JobCanceled()

    def canceled(self) -> bool:
        return Job.objects.filter(pk=self.job.pk, status=S.CANCELED).exists()

    def check(self) -> None:
        if self.canceled():
            raise JobCanceled()
