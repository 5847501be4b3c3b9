"""Reads of generation data, scoped to the requesting user's workspaces."""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Mapping

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404

from campaigns.selectors import scoped
from generation.models import VideoAttempt, VideoBatch, VideoGeneration
from generation.providers.base import AUDIO, FIRST_LAST_FRAME, IMAGE_TO_VIDEO, LIST_JOBS, REMIX, TEXT_TO_VIDEO
from mediastudio.jobs.links import JobSubject
from mediastudio.lib.exceptions import ApplicationError
from mediastudio.lib.providers import ProviderError


def generation_list(*, user: Any, workspace_id: Any = None) -> QuerySet[VideoGeneration]:
    qs = scoped(VideoGeneration.objects.select_related("job", "campaign", "result_asset"), user=user)
    if workspace_id is not None:
        qs = qs.filter(workspace_id=workspace_id)
    return qs


def generation_get(*, user: Any, job_id: Any) -> VideoGeneration:
    """A generation by its job's id, or 404 (another workspace's too)."""
    try:
        generation = generation_list(user=user).filter(job_id=job_id).first()
    except (ValueError, TypeError):
        generation = None
    if generation is None:
        raise Http404("No such video job.")
    return generation


def generation_provider_log(*, generation: VideoGeneration) -> list[dict[str, Any]]:
    """Every provider the generation tried or passed over, in the order it happened, each with what
    came of it in words: an attempt's outcome and error (and whether the engine retried it, moved on
    to the next provider, or the run ended there and the user retried it), or why a provider of the
    tier was skipped. The Generate page's panel, the job page and the API's job detail all show this
    same list."""
    attempts = sorted(generation.attempts.all(), key=lambda a: (a.created_at, a.pk))  # uses a prefetch when there is one
    events: list[tuple[str, int, dict[str, Any]]] = []
    for i, a in enumerate(attempts):
        later = attempts[i + 1] if i + 1 < len(attempts) else None
        if later is not None and _starts_a_run(later):
            # The engine never goes back to the chain's head: the run ended here and the user retried it.
            then = "Run ended; retried by hand."
        elif a.status == VideoAttempt.Status.FAILED and later is not None:
            then = f"Retried on {later.provider}." if later.provider == a.provider else f"Moved on to {later.provider}."
        else:
            then = ""
        events.append((a.created_at.isoformat(), i, {
            "kind": "attempt", "number": i + 1, "provider": a.provider, "model": a.model, "status": a.status, "retry": a.retry,
            "percent": a.percent, "reason": a.error, "code": a.error_code, "then": then, "summary": _summary(a),
            "estimated_cost": str(a.estimated_cost), "actual_cost": None if a.actual_cost is None else str(a.actual_cost),
            "external_id": a.external_id,
        }))
    for j, entry in enumerate(generation.skipped or []):
        events.append((str(entry.get("at") or ""), -1000 + j, {
            "kind": "skipped", "number": None, "provider": entry.get("provider", ""), "model": entry.get("model", ""), "status": "skipped",
            "retry": 0, "percent": 0, "reason": entry.get("reason", ""), "code": entry.get("stage", ""), "then": "",
            "summary": entry.get("reason", ""),
            "estimated_cost": None, "actual_cost": None, "external_id": "",
        }))
    # Timestamps share one format (UTC ISO); a skip recorded in the same instant as the attempt
    # it made way for sorts first.
    return [e for _, _, e in sorted(events, key=lambda t: (_instant(t[0]), t[1]))]


def _summary(attempt: VideoAttempt) -> str:
    """What came of an attempt, in words, as every page shows it: its error, else its progress or result."""
    if attempt.error:
        return attempt.error
    if attempt.status == VideoAttempt.Status.SUCCEEDED:
        return "Made the video."
    if attempt.status == VideoAttempt.Status.RUNNING:
        return f"Rendering: {attempt.percent}%."
    return ""


def _starts_a_run(attempt: VideoAttempt) -> bool:
    """The first attempt of a run: the head of the chain on its first try. Within a run the engine
    only retries the same provider (retry + 1) or moves down the chain (chain_index + 1 and on), so
    such an attempt after others begins a run the user started again (Retry). A worker running the
    job's task again cannot start one on its own: the task returns at once while an attempt is
    active, and a job waiting on its attempts holds no lease for the reaper to expire."""
    return attempt.chain_index == 0 and attempt.retry == 0


def _instant(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def batch_get(*, user: Any, job_id: Any) -> VideoBatch:
    try:
        batch = scoped(VideoBatch.objects.select_related("job"), user=user).filter(job_id=job_id).first()
    except (ValueError, TypeError):
        batch = None
    if batch is None:
        raise Http404("No such batch.")
    return batch


def provider_last_errors() -> dict[str, dict[str, Any]]:
    """The latest failed attempt of each provider: its error, code and time.

    Provider health is the same for every workspace, so this reads across workspaces; the text is
    a vendor's message, and any prompt of the failed request in it is blanked out so that no
    workspace ever reads another's brief."""
    rows = (
        VideoAttempt.objects.filter(status=VideoAttempt.Status.FAILED)
        .exclude(error="")
        .order_by("provider", "-finished_at", "-id")
        .values("provider", "error", "error_code", "finished_at", "generation__prompt",
                "generation__enriched_prompt", "generation__negative_prompt")
    )
    out: dict[str, dict[str, Any]] = {}
    for identifier in _provider_ids():
        row = rows.filter(provider=identifier).first()
        if row is None:
            continue
        out[identifier] = {
            "error": _redact(row["error"], [row["generation__prompt"], row["generation__enriched_prompt"],
                                            row["generation__negative_prompt"]])[:500],
            "code": row["error_code"],
            "at": row["finished_at"].isoformat() if row["finished_at"] else None,
        }
    return out


def _provider_ids() -> list[str]:
    from generation.services.chain import provider_identifiers

    return provider_identifiers()


def _redact(text: str, secrets: list[str]) -> str:
    # Longest first, so that a prompt inside the enriched prompt does not leave the rest behind.
    for secret in sorted({s.strip() for s in secrets if s and len(s.strip()) >= 4}, key=len, reverse=True):
        text = text.replace(secret, "[prompt]")
    return text


def _status_text(*, enabled: bool, needs: list[str], cooling_until: str | None, unavailable: str) -> tuple[str, str]:
    if unavailable:
        return "unavailable", f"unavailable: {unavailable}"
    if not enabled:
        return "off", "off: set " + (", ".join(needs) if needs else "its <VENDOR>_ENABLED flag")
    if cooling_until:
        return "cooling", f"cooling down after repeated failures until {cooling_until}"
    return "enabled", "enabled"


def provider_catalogue() -> list[dict[str, Any]]:
    """Every registered video provider: status (enabled, off with what to set, cooling down, last
    error), capabilities, tiers, and its models with prices and lifecycle."""
    from generation.models import ProviderHealth
    from generation.services.chain import provider_class, provider_cooling, provider_identifiers, tier_chains

    cooling = provider_cooling()
    chains = tier_chains()
    errors = provider_last_errors()
    failures = dict(ProviderHealth.objects.values_list("provider", "consecutive_failures"))
    out = []
    for identifier in provider_identifiers():
        last = errors.get(identifier) or {}
        common = {
            "identifier": identifier,
            "cooling_until": cooling[identifier].isoformat() if identifier in cooling else None,
            "consecutive_failures": failures.get(identifier, 0),
            "last_error": last.get("error") or None,
            "last_error_code": last.get("code") or None,
            "last_error_at": last.get("at"),
            "tiers": [tier for tier, entries in chains.items() if any(e.split(":")[0] == identifier for e in entries)],
        }
        try:
            cls = provider_class(identifier)
            models = cls().models()
        except Exception as exc:  # an optional dependency missing (diffusers without torch)
            reason = f"{type(exc).__name__}: {exc}"[:200]
            status, text = _status_text(enabled=False, needs=[], cooling_until=None, unavailable=reason)
            out.append({**common, "name": identifier, "enabled": False, "embedded": False, "needs": [],
                        "status": status, "status_text": text, "capabilities": [], "models": [],
                        "list_jobs": False, "unavailable_reason": reason})
            continue
        enabled = cls.is_enabled()
        needs = [key for key in cls.settings_keys if not getattr(settings, key, "")]
        status, text = _status_text(enabled=enabled, needs=needs or list(cls.settings_keys),
                                    cooling_until=common["cooling_until"], unavailable="")
        out.append({
            **common,
            "name": cls.verbose_name or identifier,
            "enabled": enabled,
            "embedded": bool(getattr(cls, "embedded", False)),
            "needs": [] if enabled else (needs or list(cls.settings_keys)),
            "status": status,
            "status_text": text,
            "capabilities": sorted(cls.capabilities),
            "list_jobs": LIST_JOBS in cls.capabilities,
            "models": [model_describe(m) for m in models],
            "unavailable_reason": "",
        })
    return out


def model_describe(spec: Any) -> dict[str, Any]:
    caps = spec.capabilities
    return {
        "provider": spec.provider,
        "name": spec.name,
        "label": spec.label or spec.name,
        "capabilities": sorted(caps),
        "text_to_video": TEXT_TO_VIDEO in caps,
        "image_to_video": IMAGE_TO_VIDEO in caps,
        "first_last_frame": FIRST_LAST_FRAME in caps,
        "audio": AUDIO in caps,
        "remix": REMIX in caps,
        "durations": list(spec.durations),
        "min_duration": spec.min_duration,
        "max_duration": spec.max_duration,
        "aspect_ratios": list(spec.aspect_ratios),
        "resolutions": list(spec.resolutions),
        "reference_images": spec.max_reference_images,
        "poll_interval": spec.poll_interval,
        "price": {
            "per_second": {k: str(v) for k, v in spec.price.per_second.items()},
            "per_video": None if spec.price.per_video is None else str(spec.price.per_video),
            "source": spec.price.source,
            "as_of": spec.price.as_of,
            "confirmed": spec.price.confirmed,
        },
        "lifecycle": {
            "status": spec.lifecycle.status,
            "sunset": spec.lifecycle.sunset.isoformat() if spec.lifecycle.sunset else None,
            "replacements": list(spec.lifecycle.replacements),
            "note": spec.lifecycle.note,
        },
    }


def model_spec_find(*, provider: str = "", model: str) -> Any:
    """A model's spec by name (within `provider` when given), or None."""
    from generation.catalog import find_model
    from generation.services.chain import provider_class

    if provider:
        try:
            found = next((m for m in provider_class(provider)().models() if m.name == model), None)
        except Exception:
            found = None
        if found is not None:
            return found
    return find_model(model)


def lifecycle_warning(spec: Any) -> str:
    """The sentence shown for a deprecated model ('' for an active or retired one)."""
    if spec is None or not spec.lifecycle.is_deprecated:
        return ""
    when = f" (sunset {spec.lifecycle.sunset.isoformat()})" if spec.lifecycle.sunset else ""
    repl = ", ".join(spec.lifecycle.replacements)
    return (f"Model '{spec.name}' of {spec.provider} is deprecated{when}"
            + (f"; move to {repl}" if repl else "") + ".")


def chain_warnings(chain: Iterable[Mapping[str, Any]]) -> list[str]:
    """Warnings for the deprecated models among a planned chain ([{provider, model}, ...])."""
    out: list[str] = []
    for entry in chain:
        text = lifecycle_warning(model_spec_find(provider=str(entry.get("provider") or ""), model=str(entry.get("model") or "")))
        if text and text not in out:
            out.append(text)
    return out


def provider_jobs(*, user: Any, provider: str, limit: int = 20) -> list[dict[str, Any]]:
    """A provider's recent jobs as its API lists them, matched to studio jobs.

    The vendor account is shared by every workspace: a vendor job that is not one of the user's
    workspaces' attempts shows only its id, state, model and time, never its prompt or inputs."""
    from generation.services.chain import provider_get

    instance = provider_get(provider)
    if not instance.supports(LIST_JOBS):
        raise ApplicationError(f"{instance.verbose_name} has no API to list its jobs.", code="unsupported", status_code=400)
    try:
        raw_jobs = instance.list_jobs(limit=limit)
    except ProviderError as exc:
        if exc.code == "unsupported":
            raise ApplicationError(str(exc), code="unsupported", status_code=400) from None
        raise ApplicationError(f"{instance.verbose_name} could not list its jobs: {exc}", code="provider_error",
                               status_code=502) from None
    ids = [str(j.get("id") or "") for j in raw_jobs if j.get("id")]
    mine = {
        a.external_id: a
        for a in scoped(VideoAttempt.objects.select_related("generation"), user=user, path="generation__workspace")
        .filter(provider=provider, external_id__in=ids)
    }
    out = []
    for job in raw_jobs:
        external_id = str(job.get("id") or "")
        attempt = mine.get(external_id)
        created = job.get("created_at")
        if isinstance(created, (int, float)):
            created = dt.datetime.fromtimestamp(created, tz=dt.timezone.utc).isoformat()
        progress = job.get("progress")
        out.append({
            "id": external_id,
            "status": str(job.get("status") or ""),
            "model": str(job.get("model") or job.get("version") or ""),
            "created_at": created,
            "progress": progress if isinstance(progress, (int, float)) else None,
            "job": str(attempt.generation.job_id) if attempt else None,
            "prompt": attempt.generation.prompt if attempt else None,
            "raw": job if attempt else None,
        })
    return out


# Which tier suits which use, shown with the provider list (a recommendation, not a rule).
USE_RECOMMENDATIONS = [
    {"use": "storyboard / approval preview", "tier": "draft", "why": "Embedded animatic: free, seconds, shows camera and grade."},
    {"use": "social B-roll and variants for A/B tests", "tier": "standard", "why": "Cheapest remote models first, fallback on failure."},
    {"use": "hero product shot", "tier": "high", "why": "Image-to-video with the strongest motion models."},
    {"use": "flagship ad with audio", "tier": "master", "why": "Top models (with native audio where offered), highest cost."},
]


def job_subject(job: Any) -> JobSubject | None:
    """A video job's own page and API resource (mediastudio.jobs.links): both are addressed by the job's id."""
    generation_job = VideoGeneration.objects.filter(job=job).values_list("job_id", flat=True).first()
    return JobSubject.of("the video generation", generation_job, page="generation:job", api="api-video-job-detail")
