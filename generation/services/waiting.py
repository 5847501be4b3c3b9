"""Create-and-wait: block (boundedly) until one generation finishes, for scripts and the API's
synchronous option.

The waiter also does the work that is due for its own generation (runs its fresh job, submits
and polls its due attempts) rather than only sleeping until a worker and the poll loop get to
it: a script then finishes as soon as the vendor does, even with no worker running. Every step
claims its row first (`job_start`, the attempt's row lock and due-time claim), so a worker or
the poll loop doing the same work at the same moment is harmless: one of them wins, the other
skips.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from django.utils import timezone

from generation.models import VideoAttempt, VideoGeneration
from mediastudio.jobs.models import Job


def _due_in(generation: VideoGeneration) -> float | None:
    first = (
        VideoAttempt.objects.filter(generation=generation, status__in=VideoAttempt.ACTIVE)
        .order_by("poll_due_at")
        .values_list("poll_due_at", flat=True)
        .first()
    )
    if first is None:
        return None
    return max(0.0, (first - timezone.now()).total_seconds())


def video_generation_step(*, generation: VideoGeneration) -> int:
    """Do what is due for this one generation now: run its fresh job, submit or poll its due
    attempts. Returns how many steps it took."""
    from generation.services.polling import attempt_step_any
    from mediastudio.jobs.tasks import job_execute

    steps = 0
    job = Job.objects.only("status", "attempts").get(pk=generation.job_id)
    # Only a never-started job: a requeued one waits out its retry delay on the worker's schedule.
    if job.status == Job.Status.QUEUED and job.attempts == 0:
        job_execute(str(generation.job_id))
        steps += 1
    now = timezone.now()
    due = VideoAttempt.objects.filter(generation=generation, status__in=VideoAttempt.ACTIVE, poll_due_at__lte=now)
    for attempt in due.select_related("generation").order_by("poll_due_at"):
        attempt_step_any(attempt, now)
        steps += 1
    return steps


def video_generation_wait(
    *,
    generation: VideoGeneration,
    timeout: float,
    drive: bool = True,
    on_progress: Callable[[Job], Any] | None = None,
    sleep: Callable[[float], Any] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> VideoGeneration:
    """Wait up to `timeout` seconds for `generation` to reach a final state and return it
    refreshed (final, or still running when the time ran out). `on_progress(job)` is called
    after every look at the job (a progress bar). With drive=True the caller also steps the
    generation's due work itself (see the module docstring)."""
    deadline = clock() + max(0.0, timeout)
    while True:
        job = Job.objects.get(pk=generation.job_id)
        if on_progress is not None:
            on_progress(job)
        if job.is_final:
            break
        stepped = drive and video_generation_step(generation=generation) > 0
        remaining = deadline - clock()
        if remaining <= 0:
            job = Job.objects.get(pk=generation.job_id)
            if on_progress is not None:
                on_progress(job)
            break
        if stepped:
            continue  # look at the job again at once: a step may have finished it
        due = _due_in(generation)
        sleep(min(remaining, 1.0 if due is None else max(0.05, min(due, 1.0))))
    return VideoGeneration.objects.select_related("job", "result_asset").get(pk=generation.pk)
