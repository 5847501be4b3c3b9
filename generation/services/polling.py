"""The poll loop's sweep: submit or poll every due attempt, cheaply enough for thousands in flight.

One sweep:
1. reads the due attempts (one query) and claims the running ones by moving their next due time
   (two queries for all of them: a sweep that dies leaves them due again a poll interval later);
2. asks the vendors for their status on VIDEO_POLL_IO_THREADS threads (HTTP only: a vendor across
   the internet answers in 100-300 ms, and 1,000 renders polled every 5 s are 200 calls a second);
3. writes the progress reports back in one UPDATE and publishes them in one batch;
4. sends everything else (a finished or failed render, a poll error, a submission, a lost claim,
   a timeout) through the per-attempt path in engine, which works under the attempt's row lock,
   on VIDEO_POLL_CONCURRENCY threads (each keeps a database connection).

The common case, a render still running, thus costs a vendor call and a share of a few queries;
before, each cost four queries and a broadcast of its own.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from typing import Any, Callable, Iterable

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone

from generation.models import VideoAttempt
from generation.providers.base import PollResult
from generation.services import engine
from generation.services.chain import provider_get
from mediastudio.lib.exceptions import ApplicationError
from mediastudio.lib.providers import ProviderError

logger = logging.getLogger(__name__)
A = VideoAttempt.Status

Outcome = tuple[VideoAttempt, PollResult | None, Exception | None]


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def attempts_due(*, now: dt.datetime | None = None, limit: int = 500) -> list[VideoAttempt]:
    """Due attempts, less those this process's step threads already hold."""
    now = now or timezone.now()
    with _IN_HAND_LOCK:
        held = list(_IN_HAND)
    due = VideoAttempt.objects.filter(status__in=VideoAttempt.ACTIVE, poll_due_at__lte=now)
    if held:
        due = due.exclude(pk__in=held)
    return list(due.select_related("generation").order_by("poll_due_at")[:limit])


def attempts_in_flight() -> int:
    return VideoAttempt.objects.filter(status__in=VideoAttempt.ACTIVE).count()


def next_due_in(*, now: dt.datetime | None = None) -> float | None:
    now = now or timezone.now()
    with _IN_HAND_LOCK:
        held = list(_IN_HAND)
    first = (
        VideoAttempt.objects.filter(status__in=VideoAttempt.ACTIVE)
        .exclude(pk__in=held)
        .order_by("poll_due_at")
        .values_list("poll_due_at", flat=True)
        .first()
    )
    if first is None:
        return None
    return max(0.0, (first - now).total_seconds())


def attempts_poll_due(
    *, now: dt.datetime | None = None, limit: int | None = None, concurrency: int | None = None, wait: bool = True
) -> int:
    """Submit or poll every attempt that is due. Returns how many were stepped.

    With wait=False (the poll loop) fetches and submissions go on in the step threads after this
    returns. Inside an outer transaction (unit tests) everything runs in this thread, which alone
    sees its uncommitted rows."""
    due = attempts_due(now=now, limit=limit or int(_setting("VIDEO_POLL_BATCH", 500)))
    if not due:
        return 0
    at = now or timezone.now()
    timeout = float(_setting("VIDEO_ATTEMPT_TIMEOUT_SECONDS", 3600))
    running, others = [], []
    for attempt in due:
        timed_out = attempt.started_at is not None and (at - attempt.started_at).total_seconds() > timeout
        (running if attempt.status == A.RUNNING and not timed_out else others).append(attempt)
    workers = concurrency or int(_setting("VIDEO_POLL_CONCURRENCY", 8))
    io_threads = concurrency or int(_setting("VIDEO_POLL_IO_THREADS", 32))
    outcomes = [o for o in _map(_vendor_poll, _claim(running, at), io_threads, pool="io") if o is not None]
    reports = [(a, result) for a, result, error in outcomes if error is None and result is not None and not result.is_final]
    engine.progress_apply_many(reports, now=at)
    rest = [item for item in outcomes if item[2] is not None or (item[1] is not None and item[1].is_final)]
    # Fetching a result or submitting takes a while: handed to the step threads, so the next sweep's
    # polls do not wait behind them (steps_drain waits for them before the loop hands over).
    handed = _dispatch(_outcome_apply, [(item[0].pk, item) for item in rest], workers)
    handed += _dispatch(lambda attempt: engine.attempt_step(attempt.pk, now=now), [(a.pk, a) for a in others], workers)
    if wait:
        futures_wait(handed)
    return len(due)


def steps_in_hand() -> int:
    with _IN_HAND_LOCK:
        return len(_IN_HAND)


def steps_drain(timeout: float = 120.0) -> None:
    """Wait until the step threads have finished what sweeps handed them (before the loop ends)."""
    with _IN_HAND_LOCK:
        pending = list(_FUTURES)
    futures_wait(pending, timeout=timeout)


def attempt_step_any(attempt: VideoAttempt, now: dt.datetime | None = None) -> str:
    """Step one due attempt (create-and-wait drives a single generation this way)."""
    if attempt.status != A.RUNNING:
        return engine.attempt_step(attempt.pk, now=now)
    claimed = _claim([attempt], now or timezone.now())
    if not claimed:
        return "busy"
    _outcome_apply(_vendor_poll(attempt))
    return "poll"


def _claim(attempts: list[VideoAttempt], now: dt.datetime) -> list[VideoAttempt]:
    """Take the running attempts no one else is stepping, and move their next poll on."""
    if not attempts:
        return []
    with transaction.atomic():
        taken = set(
            VideoAttempt.objects.select_for_update(skip_locked=True)
            .filter(pk__in=[a.pk for a in attempts], status=A.RUNNING, poll_due_at__lte=now)
            .values_list("pk", flat=True)
        )
        by_interval: dict[float, list[Any]] = defaultdict(list)
        for attempt in attempts:
            if attempt.pk in taken:
                by_interval[attempt.poll_interval].append(attempt.pk)
        for interval, pks in by_interval.items():
            VideoAttempt.objects.filter(pk__in=pks).update(
                poll_due_at=now + dt.timedelta(seconds=interval), polls=F("polls") + 1
            )
    return [a for a in attempts if a.pk in taken]


def _vendor_poll(attempt: VideoAttempt) -> Outcome:
    try:
        return attempt, provider_get(attempt.provider).poll(attempt.external_id), None
    except (ProviderError, ApplicationError) as exc:
        return attempt, None, exc
    except Exception:  # an adapter bug: logged, and the attempt is polled again when next due
        logger.exception("Polling %s for attempt %s crashed", attempt.provider, attempt.pk)
        return attempt, None, None


def _outcome_apply(outcome: Outcome) -> None:
    attempt, result, error = outcome
    if error is not None:
        engine.attempt_poll_failed(attempt, error)  # type: ignore[arg-type]
    elif result is not None:
        engine.attempt_apply_result(attempt.pk, result, source="poll", attempt=attempt)


_POOLS: dict[str, tuple[int, int, ThreadPoolExecutor]] = {}


def _pool(name: str, workers: int) -> ThreadPoolExecutor:
    # Pools per process (worker processes fork), kept between sweeps: their threads keep their
    # database connections and their vendors' HTTP connections.
    kept = _POOLS.get(name)
    if kept is None or kept[0] != os.getpid() or kept[1] != workers:
        kept = _POOLS[name] = (os.getpid(), workers, ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"videopoll-{name}"))
    return kept[2]


def _map(fn: Callable[[Any], Any], items: Iterable[Any], workers: int, *, pool: str = "steps") -> list[Any]:
    """``fn`` over ``items`` on a pool's threads (here, inside an outer transaction); a crash is
    logged and yields None."""
    items = list(items)
    if workers <= 1 or connection.in_atomic_block or len(items) <= 1:
        return [_guarded(fn, item, close=False) for item in items]
    return list(_pool(pool, workers).map(lambda item: _guarded(fn, item, close=True), items))


_IN_HAND: set[Any] = set()
_FUTURES: set[Future[Any]] = set()
_IN_HAND_LOCK = threading.Lock()


def _dispatch(fn: Callable[[Any], Any], keyed: list[tuple[Any, Any]], workers: int) -> list[Future[Any]]:
    """Start ``fn`` on each item on the step threads, one step per attempt at a time, and return
    their futures (inside an outer transaction, or with one worker, run here: no futures)."""
    if workers <= 1 or connection.in_atomic_block:
        for _attempt_id, item in keyed:
            _guarded(fn, item, close=False)
        return []
    pool = _pool("steps", workers)
    started: list[Future[Any]] = []
    for attempt_id, item in keyed:
        with _IN_HAND_LOCK:
            if attempt_id in _IN_HAND:
                continue
            _IN_HAND.add(attempt_id)
            future = pool.submit(_guarded, fn, item, close=True)
            _FUTURES.add(future)
        future.add_done_callback(lambda done, key=attempt_id: _release(key, done))
        started.append(future)
    return started


def _release(attempt_id: Any, future: Future[Any]) -> None:
    with _IN_HAND_LOCK:
        _IN_HAND.discard(attempt_id)
        _FUTURES.discard(future)


def _guarded(fn: Callable[[Any], Any], item: Any, *, close: bool) -> Any:
    try:
        return fn(item)
    except Exception:
        logger.exception("Poll-loop step for %r crashed", item)
        if close:
            connection.close()  # a broken connection must not poison this thread's next steps
        return None
    finally:
        if close:
            # A step thread lives on between steps; its connection follows DB_CONN_MAX_AGE as a
            # request's would (closed now with the default 0, kept for reuse when it is set).
            close_old_connections()
