"""Groups of generations with one grouped progress: batch, A/B variants, B-roll, product animation,
transitions. Each is a parent Job (kind "batch") whose progress is the mean of its children's and
which ends when they all have; the total estimate is known (and reserved) before anything starts.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterable

from django.db import transaction

from generation import strategy as strategy_mod
from generation.models import VideoBatch
from generation.services.budget import ZERO
from generation.services.engine import video_estimate, video_generation_create
from mediastudio.jobs.models import Job
from mediastudio.jobs.services import WAITING, IllegalTransition, job_cancel, job_create, job_progress, job_retry, job_set_status
from mediastudio.lib.exceptions import ApplicationError
from mediastudio.lib.text import shorten

BATCH_TASK = "generation.tasks.video_batch_run"
BATCH_FINALIZER = "generation.services.batches.video_batch_finalize"
MAX_ITEMS = 50


def _item_estimate(item: dict[str, Any], *, universe: Any) -> Decimal:
    estimate = video_estimate(
        prompt=item["prompt"], mood=item.get("mood", 50), platform=item.get("platform", ""),
        aspect_ratio=item.get("aspect_ratio", ""), duration=item.get("duration"), resolution=item.get("resolution", "720p"),
        tier=item.get("tier", ""), provider=item.get("provider", ""), model=item.get("model", ""),
        allow_fallback=item.get("allow_fallback", True), image=item.get("image_asset") is not None,
        last_frame=item.get("last_frame_asset") is not None, seed=item.get("seed", 0),
        camera_move=item.get("camera_move", ""), lighting=item.get("lighting", ""), universe=universe,
        elements=item.get("elements", ()),
    )
    if not estimate.plan.candidates:
        reasons = "; ".join(f"{s['provider']}: {s['reason']}" for s in estimate.plan.skipped)
        raise ApplicationError(f"No provider can make '{item['prompt'][:60]}' ({reasons}).", code="no_provider")
    return estimate.worst_case if item.get("allow_fallback", True) else estimate.plan.candidates[0].estimate


def batch_estimate(*, items: list[dict[str, Any]], campaign: Any = None) -> dict[str, Any]:
    """Per-item and total worst-case cost of a group, before it starts."""
    if not items:
        raise ApplicationError("A batch needs at least one item.", code="invalid")
    if len(items) > MAX_ITEMS:
        raise ApplicationError(f"A batch takes at most {MAX_ITEMS} items ({len(items)} given).", code="invalid")
    universe = getattr(campaign, "universe", None)
    each = [_item_estimate(item, universe=universe) for item in items]
    total = sum(each, ZERO)
    out: dict[str, Any] = {"count": len(items), "items": [str(e) for e in each], "total_estimate": str(total)}
    if campaign is not None:
        out["remaining_budget"] = str(campaign.remaining)
        out["fits"] = total <= campaign.remaining
    return out


def video_batch_create(
    *,
    workspace: Any,
    items: list[dict[str, Any]],
    kind: str = VideoBatch.Kind.BATCH,
    title: str = "",
    campaign: Any = None,
    user: Any = None,
    params: dict[str, Any] | None = None,
) -> VideoBatch:
    """Create a group: the parent job and one generation per item, all or nothing.

    The items' reservations are taken in one transaction, so a group that does not fit the budget
    starts nothing (the error names the budget, reserved, spent and the item's estimate)."""
    estimate = batch_estimate(items=items, campaign=campaign)
    with transaction.atomic():
        parent = job_create(
            workspace=workspace, kind=Job.Kind.BATCH, task=BATCH_TASK, finalizer=BATCH_FINALIZER,
            title=title or f"{VideoBatch.Kind(kind).label}: {len(items)} videos", campaign=campaign, user=user,
            estimated_cost=Decimal(estimate["total_estimate"]), enqueue=False,
        )
        # The parent runs with no worker from the start: children drive it.
        job_set_status(job=parent, status=Job.Status.RUNNING, message=f"0 of {len(items)} done")
        batch = VideoBatch.objects.create(
            workspace=workspace, campaign=campaign, job=parent, kind=kind, title=parent.title,
            params=params or {}, total_estimate=Decimal(estimate["total_estimate"]),
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        for index, item in enumerate(items):
            fields = {k: v for k, v in item.items() if k not in ("title",)}
            video_generation_create(
                workspace=workspace, user=user, campaign=campaign, batch=batch, variant_index=index,
                parent_job=parent, title=item.get("title", ""), **fields,
            )
    return batch


def batch_refresh(*, batch_id: Any) -> None:
    """Recompute the parent's progress from its children; end it when they all have ended."""
    batch = VideoBatch.objects.select_related("job").filter(pk=batch_id).first()
    if batch is None or batch.job.status != Job.Status.RUNNING:
        return
    children = list(Job.objects.filter(parent=batch.job).values_list("status", "progress"))
    if not children:
        return
    finals = [s for s, _ in children if s in (Job.Status.SUCCEEDED, Job.Status.FAILED, Job.Status.CANCELED)]
    succeeded = sum(1 for s, _ in children if s == Job.Status.SUCCEEDED)
    percent = int(sum(100 if s in finals and s == Job.Status.SUCCEEDED else (100 if s in finals else p) for s, p in children) / len(children))
    message = f"{succeeded} of {len(children)} done" + (f", {len(finals) - succeeded} failed" if len(finals) > succeeded else "")
    if len(finals) < len(children):
        job_progress(job=batch.job, percent=min(percent, 99), message=message, heartbeat=False)
        return
    status = Job.Status.SUCCEEDED if succeeded else Job.Status.FAILED
    try:
        job_set_status(
            job=batch.job, status=status, message=message,
            error="" if succeeded else "Every video of the group failed.",
            result={"batch": str(batch.uuid), "succeeded": succeeded, "total": len(children)},
            actual_cost=sum((g.actual_cost or ZERO for g in batch.generations.all()), ZERO),
        )
    except IllegalTransition:
        pass  # two children ended at once: the other one closed the group


def video_batch_run(job: Job, reporter: Any) -> Any:
    """Runs only when the group is retried: retry its failed and canceled children."""
    batch = VideoBatch.objects.get(job=job)
    for child in Job.objects.filter(parent=job, status__in=(Job.Status.FAILED, Job.Status.CANCELED)):
        job_retry(job=child)
    transaction.on_commit(lambda: batch_refresh(batch_id=batch.pk))
    return WAITING


def video_batch_finalize(job: Job) -> None:
    """Cancel the still-running children of a canceled group (after commit: each locks its own row)."""
    if job.status != Job.Status.CANCELED:
        return
    parent_id = job.pk

    def cancel_children() -> None:
        for child in Job.objects.filter(parent_id=parent_id, status__in=(Job.Status.QUEUED, Job.Status.RUNNING)):
            try:
                job_cancel(job=child)
            except IllegalTransition:
                pass

    transaction.on_commit(cancel_children)


# ---------------------------------------------------------------------------- campaign helpers


def _base(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if v not in (None, "")}


def variants_items(*, prompt: str, count: int, mood: float = 50, seed: int = 0, **common: Any) -> list[dict[str, Any]]:
    """N variations of one brief: distinct camera/lighting/keywords (strategy_variations) and seeds."""
    try:
        strategies = strategy_mod.strategy_variations(
            prompt=prompt, mood=mood, count=count, seed=seed,
            platform=common.get("platform") or None, aspect_ratio=common.get("aspect_ratio") or None,
            duration=common.get("duration"),
        )
    except ValueError as exc:
        raise ApplicationError(str(exc), code="invalid") from None
    return [
        _base({**common, "prompt": prompt, "mood": mood, "seed": s.seed, "camera_move": s.camera_move,
               "lighting": s.lighting, "title": f"Variant {chr(65 + i)}: {strategy_mod.look_label(s.camera_move, s.lighting)}"})
        for i, s in enumerate(strategies)
    ]


def broll_items(*, scenes: Iterable[str], **common: Any) -> list[dict[str, Any]]:
    scenes = [s.strip() for s in scenes if s and s.strip()]
    if not scenes:
        raise ApplicationError("Give at least one scene description.", code="invalid")
    return [_base({**common, "prompt": scene, "seed": i, "title": f"B-roll {i + 1}: {shorten(scene, 60)}"}) for i, scene in enumerate(scenes)]


def product_items(*, element: Any, prompt: str = "", count: int = 1, **common: Any) -> list[dict[str, Any]]:
    image = element.reference_assets.filter(kind="image").order_by("pk").first()
    if image is None:
        raise ApplicationError(f"'{element.name}' has no reference image to animate.", code="invalid")
    text = prompt or f"{element.name}: {element.description}".strip(": ")
    items = variants_items(prompt=text, count=count, **{**common, "elements": [element], "image_asset": image})
    for item in items:
        item["title"] = f"Product: {element.name} ({item['camera_move']})"
    return items


def transition_items(*, from_asset: Any, to_asset: Any, prompt: str = "", **common: Any) -> list[dict[str, Any]]:
    """A clip from the first shot's frame to the second's (first/last frame where the model takes both)."""
    for asset in (from_asset, to_asset):
        if asset.kind != "image":
            raise ApplicationError("Transitions go between two still frames (images).", code="invalid")
    text = prompt or "seamless transition between the two shots"
    return [_base({**common, "prompt": text, "image_asset": from_asset, "last_frame_asset": to_asset,
                   "title": "Transition"})]
