"""The generation engine: create a request, submit attempts, advance them by poll or webhook, finish.

Life of a generation:
1. `video_generation_create` plans the provider chain, reserves the worst-case cost on the campaign
   (locked row) and creates the Job; a worker runs `video_generation_run` once.
2. That task creates the first attempt and submits it; the provider answers with an id at once
   and the task returns WAITING: the job stays running with no worker holding it.
3. `attempts_poll_due` (the poll loop, services/polling.py) and `video_webhook_receive` advance attempts. Every state
   change of an attempt happens under its row lock after a state check, so a poll and a webhook
   racing for one result apply it once.
4. A finished render is downloaded, validated and stored as a MediaAsset; the job succeeds and its
   finalizer settles the reservation to the actual cost. Failures retry with backoff on the same
   provider (retryable) or move down the chain (permanent or exhausted); when the chain is spent
   the job fails and the finalizer releases the reservation. Cancel does the same, and asks the
   provider to stop.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, DateTimeField, IntegerField, Value, When
from django.utils import timezone

from generation import strategy as strategy_mod
from generation.models import VideoAttempt, VideoBatch, VideoGeneration
from generation.providers.base import (
    CANCELED,
    REMIX,
    SUCCEEDED,
    WEBHOOKS,
    PollResult,
    VideoRequest,
)
from generation.services.budget import ZERO, budget_reserve, budget_settle
from generation.services.chain import (
    Plan,
    plan_candidates,
    provider_cooling,
    provider_failure_record,
    provider_get,
    provider_success_record,
)
from mediastudio.jobs.models import Job
from mediastudio.jobs.services import (
    WAITING,
    IllegalTransition,
    job_cancel,
    job_create,
    job_progress,
    job_progress_many,
    job_retry,
    job_set_status,
)
from mediastudio.lib.exceptions import ApplicationError
from mediastudio.lib.providers import ProviderError

logger = logging.getLogger(__name__)
A = VideoAttempt.Status
RUN_TASK = "generation.tasks.video_generation_run"
FINALIZER = "generation.services.engine.video_generation_finalize"


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


# ---------------------------------------------------------------------------- requests


def _strategy_for(
    *, prompt: str, mood: float, platform: str, aspect_ratio: str | None, duration: float | None, seed: int,
    camera_move: str, lighting: str, universe: Any, elements: list[Any],
) -> strategy_mod.ShotStrategy:
    try:
        return strategy_mod.build_strategy(
            prompt=prompt,
            mood=float(mood),
            platform=platform or None,
            aspect_ratio=aspect_ratio or None,
            duration=duration,
            tone=getattr(universe, "tone", "") or "",
            palette=list(getattr(universe, "palette", None) or []),
            element_descriptions=[e.description for e in elements if e.description],
            seed=seed,
            camera_move=camera_move or None,
            lighting=lighting or None,
        )
    except ValueError as exc:
        raise ApplicationError(str(exc), code="invalid") from None


def _planning_request(*, strat: strategy_mod.ShotStrategy, resolution: str, image: bool, last_frame: bool,
                      references: int, remix_of: str | None = None) -> VideoRequest:
    # Placeholders: planning only asks whether a model takes an image, never reads it.
    return VideoRequest(
        prompt=strat.enriched_prompt,
        negative_prompt=strat.negative_prompt,
        image_path="planned" if image else None,
        last_frame_path="planned" if last_frame else None,
        reference_image_paths=["planned"] * references,
        duration=strat.duration,
        aspect_ratio=strat.aspect_ratio,
        resolution=resolution,
        seed=strat.seed,
        remix_of=remix_of,
        extra=_extra(strat.to_dict()),
    )


def _extra(strat: dict[str, Any]) -> dict[str, Any]:
    return {
        "camera_move": strat.get("camera_move"),
        "lighting": strat.get("lighting"),
        "motion": strat.get("motion"),
        "palette": list(strat.get("palette") or []),
        "mood_category": strat.get("category"),
        "keywords": list(strat.get("keywords") or []),
        "title": strat.get("title"),
        "prompt": strat.get("prompt"),
    }


def _asset_local(asset: Any, workdir: Path) -> str | None:
    if asset is None:
        return None
    from media_assets.storage import storage_fetch_to_temp

    suffix = "." + asset.file.name.rsplit(".", 1)[-1] if "." in asset.file.name else ""
    path, is_temp = storage_fetch_to_temp(asset.file.name, suffix=suffix)
    if is_temp:
        moved = workdir / path.name
        path.replace(moved)
        return str(moved)
    return str(path)


def video_request_build(*, generation: VideoGeneration, model: str, workdir: Path, provider: str = "") -> VideoRequest:
    """The vendor-neutral request of one attempt, with local copies of its images in `workdir`."""
    remix_external = None
    if generation.remix_of_id:
        source = generation.remix_of.attempts.filter(status=A.SUCCEEDED).order_by("-id").first()
        remix_external = source.external_id if source else None
    webhook_base = str(_setting("VIDEO_WEBHOOK_BASE_URL", "") or "")
    webhook_url = None
    if webhook_base and provider:
        try:
            if provider_get(provider).supports(WEBHOOKS):
                webhook_url = f"{webhook_base.rstrip('/')}/api/webhooks/{provider}"
        except ApplicationError:
            webhook_url = None
    strat = generation.strategy or {}
    return VideoRequest(
        prompt=generation.enriched_prompt or generation.prompt,
        model=model,
        negative_prompt=generation.negative_prompt,
        image_path=_asset_local(generation.image_asset, workdir),
        last_frame_path=_asset_local(generation.last_frame_asset, workdir),
        reference_image_paths=[p for p in (_asset_local(a, workdir) for a in generation.reference_assets.all()) if p],
        duration=generation.duration,
        aspect_ratio=generation.aspect_ratio,
        resolution=generation.resolution,
        seed=generation.seed,
        remix_of=remix_external,
        webhook_url=webhook_url,
        extra=_extra(strat),
    )


# ---------------------------------------------------------------------------- estimate


@dataclasses.dataclass
class Estimate:
    strategy: dict[str, Any]
    plan: Plan
    tier: str
    allow_fallback: bool = True

    @property
    def candidates(self) -> list[Any]:
        # Without fallback only the first provider is ever tried (and reserved for), as in create.
        return self.plan.candidates if self.allow_fallback else self.plan.candidates[:1]

    @property
    def worst_case(self) -> Decimal:
        return max((c.estimate for c in self.candidates), default=ZERO)

    def to_dict(self) -> dict[str, Any]:
        first = self.plan.candidates[0] if self.plan.candidates else None
        return {
            "tier": self.tier,
            "estimate": str(first.estimate) if first else None,
            "worst_case": str(self.worst_case),
            "provider": first.provider if first else None,
            "model": first.model if first else None,
            "chain": [c.to_dict() for c in self.candidates],
            "skipped": self.plan.skipped,
            "duration": self.strategy["duration"],
            "aspect_ratio": self.strategy["aspect_ratio"],
        }


def video_estimate(
    *,
    prompt: str = "a product shot",
    mood: float = 50,
    platform: str = "",
    aspect_ratio: str = "",
    duration: float | None = None,
    resolution: str = "720p",
    tier: str = "",
    provider: str = "",
    model: str = "",
    allow_fallback: bool = True,
    image: bool = False,
    last_frame: bool = False,
    references: int = 0,
    seed: int = 0,
    camera_move: str = "",
    lighting: str = "",
    universe: Any = None,
    elements: Iterable[Any] = (),
) -> Estimate:
    """What a request would cost: the chain of providers able to serve it and the worst case."""
    tier = tier or str(_setting("VIDEO_DEFAULT_TIER", "draft"))
    strat = _strategy_for(prompt=prompt or "a product shot", mood=mood, platform=platform, aspect_ratio=aspect_ratio,
                          duration=duration, seed=seed, camera_move=camera_move, lighting=lighting, universe=universe,
                          elements=list(elements))
    request = _planning_request(strat=strat, resolution=resolution, image=image, last_frame=last_frame, references=references)
    plan = plan_candidates(request=request, tier=tier, provider=provider, model=model, allow_fallback=allow_fallback)
    return Estimate(strategy=strat.to_dict(), plan=plan, tier=tier, allow_fallback=allow_fallback)


# ---------------------------------------------------------------------------- create


def _request_hash(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _replay(*, workspace: Any, key: str, request_hash: str) -> VideoGeneration | None:
    existing = VideoGeneration.objects.select_related("job").filter(workspace=workspace, idempotency_key=key).first()
    if existing is None:
        return None
    if existing.request_hash != request_hash:
        raise ApplicationError(
            "This Idempotency-Key was already used with a different request body.",
            code="idempotency_mismatch",
            status_code=422,
        )
    return existing


def video_generation_create(
    *,
    workspace: Any,
    prompt: str,
    user: Any = None,
    campaign: Any = None,
    mood: float = 50,
    platform: str = "",
    aspect_ratio: str = "",
    duration: float | None = None,
    resolution: str = "720p",
    tier: str = "",
    provider: str = "",
    model: str = "",
    allow_fallback: bool = True,
    seed: int = 0,
    camera_move: str = "",
    lighting: str = "",
    elements: Iterable[Any] = (),
    image_asset: Any = None,
    last_frame_asset: Any = None,
    reference_assets: Iterable[Any] = (),
    remix_of: VideoGeneration | None = None,
    idempotency_key: str = "",
    batch: VideoBatch | None = None,
    variant_index: int | None = None,
    parent_job: Job | None = None,
    title: str = "",
    enqueue: bool = True,
) -> tuple[VideoGeneration, bool]:
    """Plan, reserve the worst-case cost on the campaign and queue a generation.

    Returns (generation, created); created is False when `idempotency_key` replays an earlier
    request with the same body. Raises ApplicationError: budget exceeded (budget, reserved, spent
    and the estimate in the message), retired model (with replacements), no provider able to serve
    it, or the key reused with another body (422).
    """
    elements = list(elements)
    reference_assets = list(reference_assets)
    tier = tier or str(_setting("VIDEO_DEFAULT_TIER", "draft"))
    for obj in [campaign, image_asset, last_frame_asset, *reference_assets]:
        if obj is not None and obj.workspace_id != workspace.pk:
            raise ApplicationError("A referenced object belongs to another workspace.", code="invalid")
    for element in elements:
        if element.universe.workspace_id != workspace.pk:
            raise ApplicationError("An element belongs to another workspace.", code="invalid")
        if not element.consent_valid:
            raise ApplicationError(f"'{element.name}' is a person's likeness without valid consent.", code="consent_required")
    if image_asset is None:
        # An element's reference image becomes the first frame (product animation).
        for element in elements:
            image = element.reference_assets.filter(kind="image").order_by("pk").first()
            if image is not None:
                image_asset = image
                break
    universe = getattr(campaign, "universe", None) or (elements[0].universe if elements else None)
    strat = _strategy_for(prompt=prompt, mood=mood, platform=platform, aspect_ratio=aspect_ratio, duration=duration,
                          seed=seed, camera_move=camera_move, lighting=lighting, universe=universe, elements=elements)
    remix_external = None
    if remix_of is not None:
        provider = provider or (remix_of.attempts.filter(status=A.SUCCEEDED).values_list("provider", flat=True).last() or "")
        remix_external = "planned"
        allow_fallback = False
        if provider and not provider_get(provider).supports(REMIX) and not any(
            m.supports(REMIX) for m in provider_get(provider).models()
        ):
            raise ApplicationError(f"Provider '{provider}' cannot remix a video.", code="unsupported")
    request = _planning_request(strat=strat, resolution=resolution, image=image_asset is not None,
                                last_frame=last_frame_asset is not None, references=len(reference_assets),
                                remix_of=remix_external)
    plan = plan_candidates(request=request, tier=tier, provider=provider, model=model, allow_fallback=allow_fallback)
    if not plan.candidates:
        reasons = "; ".join(f"{s['provider']}: {s['reason']}" for s in plan.skipped) or "the chain is empty"
        raise ApplicationError(f"No provider can make this video ({reasons}).", code="no_provider",
                               extra={"skipped": plan.skipped})
    worst = plan.worst_case if allow_fallback else plan.candidates[0].estimate
    request_hash = _request_hash({
        "prompt": prompt, "campaign": getattr(campaign, "pk", None), "mood": mood, "platform": platform,
        "aspect_ratio": aspect_ratio, "duration": duration, "resolution": resolution, "tier": tier, "provider": provider,
        "model": model, "allow_fallback": allow_fallback, "seed": seed, "camera_move": camera_move, "lighting": lighting,
        "elements": sorted(e.pk for e in elements), "image": getattr(image_asset, "pk", None),
        "last_frame": getattr(last_frame_asset, "pk", None), "references": [a.pk for a in reference_assets],
        "remix_of": getattr(remix_of, "pk", None),
    })
    if idempotency_key:
        existing = _replay(workspace=workspace, key=idempotency_key, request_hash=request_hash)
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            if campaign is not None:
                budget_reserve(campaign=campaign, amount=worst)
            job = job_create(
                workspace=workspace,
                kind=Job.Kind.VIDEO,
                task=RUN_TASK,
                finalizer=FINALIZER,
                title=title or f"Video: {strat.prompt[:80]}",
                campaign=campaign,
                user=user,
                parent=parent_job,
                estimated_cost=worst,
                params={"tier": tier, "provider": plan.candidates[0].provider},
                enqueue=enqueue,
            )
            generation = VideoGeneration.objects.create(
                workspace=workspace,
                campaign=campaign,
                job=job,
                batch=batch,
                variant_index=variant_index,
                created_by=user if getattr(user, "is_authenticated", False) else None,
                prompt=strat.prompt,
                enriched_prompt=strat.enriched_prompt,
                negative_prompt=strat.negative_prompt,
                strategy=strat.to_dict(),
                mood=strat.mood,
                platform=strat.platform or "",
                aspect_ratio=strat.aspect_ratio,
                duration=strat.duration,
                resolution=resolution,
                seed=seed,
                tier=tier,
                provider=provider,
                model=model,
                allow_fallback=allow_fallback,
                chain=[c.to_dict() for c in (plan.candidates if allow_fallback else plan.candidates[:1])],
                skipped=plan_skipped(plan.skipped),
                image_asset=image_asset,
                last_frame_asset=last_frame_asset,
                remix_of=remix_of,
                estimated_cost=worst,
                reserved_amount=worst if campaign is not None else ZERO,
                idempotency_key=idempotency_key,
                request_hash=request_hash,
            )
            if elements:
                generation.elements.set(elements)
            if reference_assets:
                generation.reference_assets.set(reference_assets)
    except IntegrityError:
        # A concurrent request with the same key won the insert: replay it.
        if not idempotency_key:
            raise
        existing = _replay(workspace=workspace, key=idempotency_key, request_hash=request_hash)
        if existing is None:
            raise
        return existing, False
    return generation, True


# ---------------------------------------------------------------------------- the job's task


def video_generation_run(job: Job, reporter: Any) -> Any:
    """Worker side of a generation job: queue the first attempt, then let the poll loop and webhooks work."""
    generation = VideoGeneration.objects.select_related("campaign").get(job=job)
    if generation.attempts.filter(status__in=VideoAttempt.ACTIVE).exists():
        return WAITING  # a worker died after submitting: the poll loop already carries this attempt
    if generation.attempts.exists():
        _replan_for_retry(generation)
    first = generation.chain[0]
    VideoAttempt.objects.create(
        generation=generation, chain_index=0, provider=first["provider"], model=first["model"],
        estimated_cost=Decimal(first["estimate"]), poll_interval=float(first.get("poll_interval") or 5),
        poll_due_at=timezone.now(),
    )
    # The poll loop submits it (on its I/O threads: a vendor's submit can take seconds, image
    # uploads longer), so this task is a few queries and the worker is free at once.
    reporter.progress(2, f"Queued for {first.get('label') or first['provider']}")
    transaction.on_commit(_kick)
    return WAITING


def plan_skipped(skipped: list[dict[str, str]]) -> list[dict[str, str]]:
    """The planner's passes as kept on the generation: why each provider of the tier was left out."""
    now = timezone.now().isoformat()
    return [{"provider": s["provider"], "model": s.get("model", ""), "reason": s["reason"], "stage": "plan", "at": now}
            for s in skipped]


def _skip_record(generation: VideoGeneration, entry: dict[str, Any], reason: str) -> None:
    # Kept on the row (not only in the passing progress message) so the job page and the API can say
    # afterwards why a provider of the chain was never tried.
    item = {"provider": entry["provider"], "model": entry.get("model", ""), "reason": reason, "stage": "fallback",
            "at": timezone.now().isoformat()}
    with transaction.atomic():
        locked = VideoGeneration.objects.select_for_update().filter(pk=generation.pk).first()
        if locked is None:
            return
        locked.skipped = [*locked.skipped, item]
        locked.save(update_fields=["skipped", "updated_at"])
    generation.skipped = locked.skipped


def _replan_for_retry(generation: VideoGeneration) -> None:
    """A failed or canceled generation runs again: plan with today's provider health, reserve anew."""
    strat = generation.strategy
    request = dataclasses.replace(
        _planning_request(
            strat=strategy_mod.ShotStrategy(**{**strat, "keywords": tuple(strat["keywords"]), "palette": tuple(strat["palette"])}),
            resolution=generation.resolution, image=generation.image_asset_id is not None,
            last_frame=generation.last_frame_asset_id is not None, references=generation.reference_assets.count(),
            remix_of="planned" if generation.remix_of_id else None,
        ),
    )
    plan = plan_candidates(request=request, tier=generation.tier, provider=generation.provider, model=generation.model,
                           allow_fallback=generation.allow_fallback)
    if not plan.candidates:
        raise ProviderError("No provider can make this video now: " + "; ".join(s["reason"] for s in plan.skipped), permanent=True)
    worst = plan.worst_case if generation.allow_fallback else plan.candidates[0].estimate
    with transaction.atomic():
        locked = VideoGeneration.objects.select_for_update().get(pk=generation.pk)
        top_up = max(worst - locked.reserved_amount, ZERO)
        if locked.campaign_id is not None and top_up > ZERO:
            budget_reserve(campaign=locked.campaign, amount=top_up)
            locked.reserved_amount += top_up
        locked.chain = [c.to_dict() for c in (plan.candidates if generation.allow_fallback else plan.candidates[:1])]
        locked.estimated_cost = worst
        # Today's plan replaces the last one's; passes at earlier fallbacks stay with their attempts.
        locked.skipped = [s for s in locked.skipped if s.get("stage") != "plan"] + plan_skipped(plan.skipped)
        locked.save(update_fields=["chain", "estimated_cost", "reserved_amount", "skipped", "updated_at"])
    generation.refresh_from_db()


# ---------------------------------------------------------------------------- attempts


def _lock_attempt(attempt_id: Any, *, skip_locked: bool = False) -> VideoAttempt | None:
    qs = VideoAttempt.objects.select_for_update(skip_locked=skip_locked, of=("self",)).select_related(
        "generation", "generation__job"
    )
    # A slice, not .first(): the pk is unique, and ordering costs a compile step on every poll.
    return next(iter(qs.filter(pk=attempt_id)[:1]), None)


def _backoff(retry: int, retry_after: float | None = None) -> float:
    base = float(_setting("VIDEO_RETRY_BACKOFF_BASE", 5.0))
    cap = float(_setting("VIDEO_RETRY_BACKOFF_MAX", 300.0))
    delay = min(cap, base * (2 ** retry))
    return max(delay, float(retry_after or 0))


def attempt_step(attempt_id: Any, *, now: dt.datetime | None = None, force: bool = False) -> str:
    """Do what a due attempt needs (submit, poll, or recover a lost claim). Returns what it did."""
    now = now or timezone.now()
    claim = float(_setting("VIDEO_CLAIM_SECONDS", 300))
    with transaction.atomic():
        attempt = _lock_attempt(attempt_id, skip_locked=not force)
        if attempt is None:
            return "busy"
        due = attempt.poll_due_at is not None and attempt.poll_due_at <= now
        if attempt.status in (A.SUBMITTING, A.FETCHING) and not due:
            return "claimed"  # someone is submitting or fetching right now: never forced
        if not (due or force):
            return "not-due"
        if attempt.status in (A.SUCCEEDED, A.FAILED, A.CANCELED):
            return "final"
        if attempt.generation.job.status != Job.Status.RUNNING:
            _attempt_close(attempt, A.CANCELED, now=now, error="The job is no longer running.")
            return "canceled"
        if attempt.status == A.PENDING:
            attempt.status, attempt.started_at, attempt.poll_due_at = A.SUBMITTING, now, now + dt.timedelta(seconds=claim)
            attempt.save(update_fields=["status", "started_at", "poll_due_at"])
            action = "submit"
        elif attempt.status == A.SUBMITTING:
            # The worker that submitted it died before recording the external id.
            _attempt_close(attempt, A.FAILED, now=now, error="Lost while submitting (worker stopped).", code="lost")
            attempt.retryable = True
            attempt.save(update_fields=["retryable"])
            action = "lost"
        else:  # RUNNING, or FETCHING whose fetcher died: poll again (the result is fetched afresh)
            timeout = float(_setting("VIDEO_ATTEMPT_TIMEOUT_SECONDS", 3600))
            if attempt.started_at and (now - attempt.started_at).total_seconds() > timeout:
                _attempt_close(attempt, A.FAILED, now=now, error=f"No result after {timeout:g} s.", code="timeout")
                attempt.retryable = True
                attempt.save(update_fields=["retryable"])
                transaction.on_commit(lambda a=attempt: _provider_cancel(a.provider, a.external_id))
                action = "timeout"
            else:
                attempt.status = A.RUNNING
                attempt.polls += 1
                attempt.poll_due_at = now + dt.timedelta(seconds=attempt.poll_interval)
                attempt.save(update_fields=["status", "polls", "poll_due_at"])
                action = "poll"
    if action == "submit":
        _submit(attempt)
    elif action == "poll":
        _poll(attempt)
    elif action in ("lost", "timeout"):
        _attempt_failed_next(attempt, ProviderError(attempt.error, permanent=False, code=attempt.error_code))
    return action


def _attempt_close(attempt: VideoAttempt, status: str, *, now: dt.datetime | None = None, error: str = "", code: str = "") -> None:
    attempt.status = status
    attempt.finished_at = now or timezone.now()
    attempt.poll_due_at = None
    if error:
        attempt.error = error
    if code:
        attempt.error_code = code
    attempt.save(update_fields=["status", "finished_at", "poll_due_at", "error", "error_code"])


def _provider_cancel(provider: str, external_id: str) -> None:
    if not external_id:
        return
    try:
        provider_get(provider).cancel(external_id)
    except (ProviderError, ApplicationError) as exc:
        logger.info("Provider %s could not cancel %s: %s", provider, external_id, exc)
    except Exception:  # best effort: the reservation is already released
        logger.exception("Provider %s cancel of %s crashed", provider, external_id)


def _submit(attempt: VideoAttempt) -> None:
    generation = attempt.generation
    try:
        provider = provider_get(attempt.provider)
        with tempfile.TemporaryDirectory(prefix="videoreq-") as tmp:
            request = video_request_build(generation=generation, model=attempt.model, workdir=Path(tmp), provider=attempt.provider)
            result = provider.submit(request)
    except ProviderError as exc:
        _fail(attempt, exc)
        return
    except ApplicationError as exc:
        _fail(attempt, ProviderError(exc.message, permanent=True, code=exc.code))
        return
    except Exception as exc:  # an adapter bug must not leave the job running forever
        logger.exception("Submit to %s crashed", attempt.provider)
        _fail(attempt, ProviderError(f"{attempt.provider}: {type(exc).__name__}: {exc}", permanent=True, code="internal"))
        return
    now = timezone.now()
    with transaction.atomic():
        locked = _lock_attempt(attempt.pk)
        if locked is None or locked.status != A.SUBMITTING:
            transaction.on_commit(lambda: _provider_cancel(attempt.provider, result.external_id))
            return
        locked.status = A.RUNNING
        locked.external_id = result.external_id
        locked.poll_due_at = now + dt.timedelta(seconds=max(float(result.poll_after or 0), locked.poll_interval))
        locked.save(update_fields=["status", "external_id", "poll_due_at"])
    label = generation.chain[attempt.chain_index].get("label") if attempt.chain_index < len(generation.chain) else attempt.model
    _progress(generation, 5, f"Rendering on {attempt.provider} ({label})")


def _fail(attempt: VideoAttempt, error: ProviderError) -> None:
    with transaction.atomic():
        locked = _lock_attempt(attempt.pk)
        if locked is None or locked.status not in VideoAttempt.ACTIVE:
            return
        locked.retryable = not error.permanent
        locked.save(update_fields=["retryable"])
        _attempt_close(locked, A.FAILED, error=str(error), code=error.code or ("retryable" if not error.permanent else "failed"))
    _attempt_failed_next(locked, error)


def _poll(attempt: VideoAttempt) -> None:
    try:
        result = provider_get(attempt.provider).poll(attempt.external_id)
    except (ProviderError, ApplicationError) as exc:
        attempt_poll_failed(attempt, exc)
        return
    attempt_apply_result(attempt.pk, result, source="poll", attempt=attempt)


def attempt_poll_failed(attempt: VideoAttempt, exc: ProviderError | ApplicationError) -> None:
    """A poll raised: a permanent error fails the attempt; a passing one backs off, up to
    VIDEO_MAX_POLL_ERRORS in a row."""
    error = exc if isinstance(exc, ProviderError) else ProviderError(exc.message, permanent=True, code=exc.code)
    if error.permanent:
        _fail(attempt, error)
        return
    with transaction.atomic():
        locked = _lock_attempt(attempt.pk)
        if locked is None or locked.status != A.RUNNING:
            return
        locked.poll_errors += 1
        if locked.poll_errors > int(_setting("VIDEO_MAX_POLL_ERRORS", 5)):
            give_up = True
        else:
            give_up = False
            locked.poll_due_at = timezone.now() + dt.timedelta(seconds=_backoff(locked.poll_errors - 1, error.retry_after))
            locked.save(update_fields=["poll_errors", "poll_due_at"])
    if give_up:
        _fail(attempt, error)


def attempt_apply_result(
    attempt_id: Any, result: PollResult, *, source: str = "poll", delivery_id: str = "", attempt: VideoAttempt | None = None
) -> bool:
    """Apply a provider's report (from a poll or a verified webhook) to an attempt, exactly once.

    Returns False when it changed nothing (a duplicate delivery, or the attempt had already moved on)."""
    now = timezone.now()
    if not result.is_final and not delivery_id:
        return _apply_progress(attempt_id, result, source=source, now=now, known=attempt)
    with transaction.atomic():
        attempt = _lock_attempt(attempt_id)
        if attempt is None:
            return False
        if delivery_id:
            if delivery_id in attempt.webhook_deliveries:
                return False
            attempt.webhook_deliveries = [*attempt.webhook_deliveries[-19:], delivery_id]
            attempt.save(update_fields=["webhook_deliveries"])
        if attempt.status != A.RUNNING:
            return False
        if attempt.generation.job.status != Job.Status.RUNNING:
            _attempt_close(attempt, A.CANCELED, now=now, error="The job is no longer running.")
            return False
        if not result.is_final:
            attempt.percent = max(0, min(99, int(result.percent if result.percent is not None else attempt.percent)))
            if source == "poll" and result.poll_after:
                attempt.poll_due_at = now + dt.timedelta(seconds=max(result.poll_after, attempt.poll_interval))
            attempt.save(update_fields=["percent", "poll_due_at"])
            action = "progress"
        elif result.state == SUCCEEDED:
            attempt.status = A.FETCHING
            attempt.percent = 100
            attempt.poll_due_at = now + dt.timedelta(seconds=float(_setting("VIDEO_CLAIM_SECONDS", 300)))
            attempt.actual_cost = result.actual_cost if result.actual_cost is not None else attempt.estimated_cost
            attempt.save(update_fields=["status", "percent", "poll_due_at", "actual_cost"])
            action = "fetch"
        else:
            error = result.error or ProviderError(
                result.message or f"{attempt.provider} reported the render {result.state}.",
                permanent=result.state == CANCELED,
                code="provider_canceled" if result.state == CANCELED else "render_failed",
            )
            attempt.retryable = not error.permanent
            attempt.actual_cost = result.actual_cost if result.actual_cost is not None else ZERO
            attempt.save(update_fields=["retryable", "actual_cost"])
            _attempt_close(attempt, A.FAILED, now=now, error=str(error), code=error.code or result.state)
            action = "failed"
    if action == "progress":
        _progress(attempt.generation, *rendering_progress(attempt.provider, attempt.percent))
    elif action == "fetch":
        _fetch_result(attempt, result)
    else:
        _attempt_failed_next(attempt, error)
    return True


def _apply_progress(attempt_id: Any, result: PollResult, *, source: str, now: dt.datetime, known: VideoAttempt | None) -> bool:
    attempt = known or VideoAttempt.objects.select_related("generation").filter(pk=attempt_id).order_by().first()
    if attempt is None:
        return False
    return attempt.pk in progress_apply_many([(attempt, result)], now=now, reschedule=source == "poll")


def progress_apply_many(reports: list[tuple[VideoAttempt, PollResult]], *, now: dt.datetime, reschedule: bool = True) -> set[Any]:
    """Record running renders' progress reports: the attempts' percent in one UPDATE, the jobs' bars
    in another, published together (VIDEO_PROGRESS_MIN_STEP decides what is worth publishing).
    With ``reschedule`` a vendor's later poll_after moves the next poll. Conditional writes are
    enough (progress is idempotent; a cancel changes the status). Returns the attempts applied:
    those still running, and those with nothing to write."""
    percents: dict[Any, int] = {}
    due_times: dict[Any, dt.datetime] = {}
    for attempt, result in reports:
        percent = max(0, min(99, int(result.percent if result.percent is not None else attempt.percent)))
        if progress_publishes(attempt.percent, percent):
            percents[attempt.pk] = percent
        if reschedule and result.poll_after:  # the vendor asks for a later poll than our interval
            due_times[attempt.pk] = now + dt.timedelta(seconds=max(result.poll_after, attempt.poll_interval))
    touched = percents.keys() | due_times.keys()
    running = set(VideoAttempt.objects.filter(pk__in=touched, status=A.RUNNING).values_list("pk", flat=True)) if touched else set()
    # Still conditional on the status: a cancel between the read above and these writes makes them miss.
    still_running = VideoAttempt.objects.filter(status=A.RUNNING)
    if percents.keys() & running:
        still_running.filter(pk__in=percents.keys() & running).update(
            percent=Case(*(When(pk=pk, then=Value(p)) for pk, p in percents.items() if pk in running), output_field=IntegerField())
        )
    if due_times.keys() & running:
        still_running.filter(pk__in=due_times.keys() & running).update(
            poll_due_at=Case(*(When(pk=pk, then=Value(t)) for pk, t in due_times.items() if pk in running),
                             output_field=DateTimeField())
        )
    published = [(a, percents[a.pk]) for a, _ in reports if a.pk in percents and a.pk in running]
    job_progress_many([(a.generation.job_id, *rendering_progress(a.provider, pct)) for a, pct in published])
    batches = {a.generation.batch_id for a, _ in published if a.generation.batch_id}
    if batches:
        from generation.services.batches import batch_refresh

        for batch_id in batches:
            batch_refresh(batch_id=batch_id)
    return {a.pk for a, _ in reports if a.pk not in touched or a.pk in running}


def rendering_progress(provider: str, percent: int) -> tuple[int, str]:
    """The job's bar and message for a render at ``percent`` (5-90: submitting before, fetching after)."""
    return 5 + int(percent * 0.85), f"Rendering on {provider}: {percent}%"


def progress_publishes(old: int, new: int) -> bool:
    """Each published step is a row write and two channel-layer sends: steps under
    VIDEO_PROGRESS_MIN_STEP points wait (thousands of jobs in flight poll every few seconds)."""
    return new - old >= int(_setting("VIDEO_PROGRESS_MIN_STEP", 5)) or (new != old and new >= 95)


def _fetch_result(attempt: VideoAttempt, result: PollResult) -> None:
    from media_assets.services import asset_create_from_file
    from media_assets.storage import media_temp_dir
    from media_assets.validation import MediaRejected

    generation = attempt.generation
    _progress(generation, 92, f"Fetching the video from {attempt.provider}")
    try:
        provider = provider_get(attempt.provider)
        with tempfile.TemporaryDirectory(prefix="videoresult-", dir=media_temp_dir()) as tmp:
            dest = Path(tmp) / "result.mp4"
            provider.download(result, dest)
            asset = asset_create_from_file(
                workspace=generation.workspace,
                path=dest,
                source="generated",
                kind="video",
                campaign=generation.campaign,
                title=generation.prompt[:200],
                original_name=f"{attempt.provider}-{generation.uuid}.mp4",
                user=generation.created_by,
                metadata={
                    "generation": str(generation.uuid),
                    "provider": attempt.provider,
                    "model": attempt.model,
                    "external_id": attempt.external_id,
                    "camera_move": generation.strategy.get("camera_move"),
                    "lighting": generation.strategy.get("lighting"),
                    "mood": generation.mood,
                },
                make_previews=bool(_setting("VIDEO_RESULT_PREVIEWS", True)),
            )
    except MediaRejected as exc:
        _fail_fetching(attempt, ProviderError(f"{attempt.provider} returned an invalid video: {exc}", permanent=True, code="invalid_output"))
        return
    except ProviderError as exc:
        if exc.permanent:
            _fail_fetching(attempt, exc)
        else:
            with transaction.atomic():
                locked = _lock_attempt(attempt.pk)
                if locked is not None and locked.status == A.FETCHING:
                    locked.status = A.RUNNING
                    locked.poll_errors += 1
                    locked.poll_due_at = timezone.now() + dt.timedelta(seconds=_backoff(locked.poll_errors - 1, exc.retry_after))
                    locked.save(update_fields=["status", "poll_errors", "poll_due_at"])
        return
    with transaction.atomic():
        locked = _lock_attempt(attempt.pk)
        if locked is None or locked.status != A.FETCHING:
            return
        _attempt_close(locked, A.SUCCEEDED)
        VideoGeneration.objects.filter(pk=generation.pk).update(result_asset=asset)
        total = sum((a.actual_cost or ZERO for a in generation.attempts.all()), ZERO)
        try:
            job_set_status(
                job=generation.job_id,
                status=Job.Status.SUCCEEDED,
                message=f"Done on {attempt.provider} ({attempt.model})",
                actual_cost=total,
                result={
                    "asset": asset.pk,
                    "asset_uuid": str(asset.uuid),
                    "generation": str(generation.uuid),
                    "provider": attempt.provider,
                    "model": attempt.model,
                },
            )
        except IllegalTransition:
            pass  # canceled while fetching: the cancel stands, the clip stays in the library
    provider_success_record(provider=attempt.provider)


def _fail_fetching(attempt: VideoAttempt, error: ProviderError) -> None:
    with transaction.atomic():
        locked = _lock_attempt(attempt.pk)
        if locked is None or locked.status != A.FETCHING:
            return
        _attempt_close(locked, A.FAILED, error=str(error), code=error.code)
    _attempt_failed_next(locked, error)


def _attempt_failed_next(attempt: VideoAttempt, error: ProviderError) -> None:
    """After a failed attempt: retry with backoff on the same provider, else the next in the chain, else fail."""
    provider_failure_record(provider=attempt.provider, error=error)
    generation = VideoGeneration.objects.select_related("job").get(pk=attempt.generation_id)
    if generation.job.status != Job.Status.RUNNING:
        return
    retries = int(_setting("VIDEO_RETRIES_PER_PROVIDER", 2))
    now = timezone.now()
    if not error.permanent and attempt.retry < retries:
        delay = _backoff(attempt.retry, error.retry_after)
        VideoAttempt.objects.create(
            generation=generation, chain_index=attempt.chain_index, retry=attempt.retry + 1, provider=attempt.provider,
            model=attempt.model, estimated_cost=attempt.estimated_cost, poll_interval=attempt.poll_interval,
            poll_due_at=now + dt.timedelta(seconds=delay),
        )
        _progress(generation, generation.job.progress, f"{attempt.provider} failed ({error}); retrying in {delay:g} s")
        transaction.on_commit(_kick)
        return
    cooling = provider_cooling(now=now)
    for index in range(attempt.chain_index + 1, len(generation.chain)):
        entry = generation.chain[index]
        if entry["provider"] in cooling:
            until = timezone.localtime(cooling[entry["provider"]]).strftime("%H:%M")
            _skip_record(generation, entry, f"cooling down after repeated failures (until {until})")
            continue
        nxt = VideoAttempt.objects.create(
            generation=generation, chain_index=index, provider=entry["provider"], model=entry["model"],
            estimated_cost=Decimal(entry["estimate"]), poll_interval=float(entry.get("poll_interval") or 5), poll_due_at=now,
        )
        _progress(generation, generation.job.progress, f"{attempt.provider} failed ({error}); trying {entry['provider']}")
        attempt_step(nxt.pk, force=True)
        return
    summary = "; ".join(
        [f"{a.provider}/{a.model}: {a.error}" for a in generation.attempts.filter(status=A.FAILED).order_by("id")]
        + [f"{s['provider']} skipped: {s['reason']}" for s in generation.skipped if s.get("stage") == "fallback"]
    )
    try:
        job_set_status(job=generation.job_id, status=Job.Status.FAILED, message="Failed on every provider",
                       error=f"No provider could make this video. {summary}"[:5000])
    except IllegalTransition:
        pass


def _progress(generation: VideoGeneration, percent: int, message: str) -> None:
    # job_progress only needs the key (it updates a running row by pk): no fetch first.
    job_progress(job=Job(pk=generation.job_id, workspace_id=generation.workspace_id), percent=percent, message=message,
                 heartbeat=False, monotonic=True)
    if generation.batch_id:
        from generation.services.batches import batch_refresh

        batch_refresh(batch_id=generation.batch_id)


def _kick() -> None:
    from generation.tasks import video_poll_kick

    video_poll_kick()


# ---------------------------------------------------------------------------- webhooks


def video_webhook_receive(*, provider: str, headers: Any, body: bytes) -> str:
    """Verify a provider's webhook and apply it. Returns "applied", "duplicate", "ignored" or "unknown".

    A bad signature raises ProviderError(code="invalid_signature"); the body is never trusted unverified."""
    instance = provider_get(provider)
    event = instance.verify_webhook(headers, body)
    if event is None:
        return "ignored"  # unsigned or unknown event: the poll loop will see the result
    attempt = VideoAttempt.objects.filter(provider=provider, external_id=event.external_id).order_by("-id").first()
    if attempt is None:
        return "unknown"
    applied = attempt_apply_result(attempt.pk, event.result, source="webhook", delivery_id=event.delivery_id)
    return "applied" if applied else "duplicate"


# ---------------------------------------------------------------------------- cancel, retry, finalize


def video_generation_cancel(*, generation: VideoGeneration) -> Job:
    """Cancel the job (its finalizer releases the reservation) and ask the provider to stop."""
    try:
        return job_cancel(job=generation.job)
    except IllegalTransition as exc:
        raise ApplicationError(f"A {exc.current} generation cannot be canceled.", code="conflict", status_code=409) from None


def video_generation_retry(*, generation: VideoGeneration) -> Job:
    """Run a failed or canceled generation again (the task plans and reserves anew)."""
    try:
        job = job_retry(job=generation.job)
    except IllegalTransition as exc:
        raise ApplicationError(f"A {exc.current} generation cannot be retried.", code="conflict", status_code=409) from None
    return job


def video_generation_finalize(job: Job) -> None:
    """The job's finalizer (runs in the transaction of its final transition): settle or release the
    reservation; on failure or cancel close the active attempts and ask their providers to stop."""
    generation = VideoGeneration.objects.select_for_update().filter(job_id=job.pk).first()
    if generation is None:
        return
    now = timezone.now()
    if job.status != Job.Status.SUCCEEDED:
        for attempt in generation.attempts.select_for_update().filter(status__in=VideoAttempt.ACTIVE):
            external_id, provider = attempt.external_id, attempt.provider
            _attempt_close(attempt, A.CANCELED, now=now, error=attempt.error or f"Job {job.status}.")
            if external_id:
                transaction.on_commit(lambda p=provider, e=external_id: _provider_cancel(p, e))
    total = sum((a.actual_cost or ZERO for a in generation.attempts.all()), ZERO)
    booked = generation.actual_cost or ZERO
    reserved = generation.reserved_amount
    VideoGeneration.objects.filter(pk=generation.pk).update(reserved_amount=ZERO, actual_cost=total, updated_at=now)
    # Last: the campaign's row stays locked until this transaction commits.
    budget_settle(campaign_id=generation.campaign_id, reserved=reserved, actual=max(total - booked, ZERO))
    if generation.batch_id:
        from generation.services.batches import batch_refresh

        batch_id = generation.batch_id
        transaction.on_commit(lambda: batch_refresh(batch_id=batch_id))
