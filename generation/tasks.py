"""Worker entry points (django-q2): load rows by id and delegate to services.

The poll loop: one task at a time (a lease row) sweeps due attempts every VIDEO_POLL_TICK seconds
while any attempt is in flight, for up to VIDEO_POLL_LOOP_SECONDS, then hands over to a fresh
task of itself; it stops when nothing is in flight. Submissions kick it; the every-minute
schedule (migration 0002) restarts it if a worker died. In synchronous mode (Q_CLUSTER["sync"],
the unit tests) nothing polls by itself: tests call `attempts_poll_due` to move time on.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
import uuid
from typing import Any

from django.conf import settings
from django.utils import timezone

from generation.models import EngineLease
from generation.services import engine, polling
from generation.services.batches import video_batch_run as _batch_run
from mediastudio.jobs.models import Job

logger = logging.getLogger(__name__)
POLLER = "poller"


def video_generation_run(job: Job, reporter: Any) -> Any:
    return engine.video_generation_run(job, reporter)


def video_batch_run(job: Job, reporter: Any) -> Any:
    return _batch_run(job, reporter)


def _sync_mode() -> bool:
    return bool(settings.Q_CLUSTER.get("sync"))


def _lease_take(token: str, seconds: float) -> bool:
    from django.db.models import Q

    now = timezone.now()
    EngineLease.objects.get_or_create(name=POLLER)
    taken = EngineLease.objects.filter(Q(expires_at__isnull=True) | Q(expires_at__lt=now) | Q(holder=token), name=POLLER).update(
        holder=token, expires_at=now + dt.timedelta(seconds=seconds)
    )
    return bool(taken)


def _lease_free(token: str) -> None:
    EngineLease.objects.filter(name=POLLER, holder=token).update(expires_at=None, holder="")


def poller_running() -> bool:
    return EngineLease.objects.filter(name=POLLER, expires_at__gt=timezone.now()).exists()


def video_poll_kick() -> None:
    """Start the poll loop unless one is running (or in synchronous mode)."""
    if _sync_mode() or poller_running():
        return
    from django_q.tasks import async_task

    async_task("generation.tasks.video_poll_loop", task_name="video-poll-loop")


def video_poll_watchdog() -> str:
    """Every minute (django-q schedule): restart the loop when attempts are in flight and none runs."""
    if polling.attempts_in_flight() and not poller_running():
        video_poll_kick()
        return "kicked"
    return "ok"


def video_poll_loop(token: str | None = None) -> str:
    tick = float(getattr(settings, "VIDEO_POLL_TICK", 1.0))
    span = float(getattr(settings, "VIDEO_POLL_LOOP_SECONDS", 50.0))
    token = token or f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    if not _lease_take(token, tick * 5 + 30):
        return "another loop runs"
    deadline = time.monotonic() + span
    stepped = 0
    try:
        while time.monotonic() < deadline:
            if not _lease_take(token, tick * 5 + 30):
                return "lease lost"
            stepped += polling.attempts_poll_due(wait=False)
            wait = polling.next_due_in()
            if wait is None and polling.steps_in_hand():
                wait = tick  # nothing due, but fetches and submissions this loop handed out still run
            if wait is None:
                _lease_free(token)
                if polling.attempts_in_flight():  # one was submitted while we were deciding to stop
                    video_poll_kick()
                return f"idle after {stepped} steps"
            time.sleep(min(max(wait, 0.05), tick))
    finally:
        polling.steps_drain()  # what this loop handed its step threads finishes before another loop starts
        _lease_free(token)
    # Hand over to a fresh task so that one task never outlives the cluster timeout.
    video_poll_kick()
    return f"handed over after {stepped} steps"
