"""Tiers to provider chains, candidate selection, and provider health (cool-down).

A chain entry is "provider" or "provider:model". For each entry the first active model of the
provider that accepts the request is chosen; disabled providers, providers cooling down after
repeated failures, and retired models are skipped (and said why).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from generation.models import ProviderHealth
from generation.providers.base import ModelSpec, VideoProvider, VideoRequest
from generation.providers.registry import video_providers
from mediastudio.lib.exceptions import ApplicationError
from mediastudio.lib.providers import ProviderDisabled, ProviderError

DEFAULT_TIER_CHAINS: dict[str, list[str]] = {
    "draft": ["animatic"],
    "standard": ["runway", "veo", "kling", "diffusers", "animatic"],
    "high": ["veo", "runway", "kling", "luma", "fal", "replicate"],
    "master": ["veo", "openai_video", "runway", "luma"],
}
TIERS = ("draft", "standard", "high", "master")
# Failures caused by the request itself say nothing about the provider's health.
REQUEST_FAULT_CODES = frozenset({"moderation", "invalid_input", "unsupported", "model_retired", "unknown_model", "invalid"})


def tier_chains() -> dict[str, list[str]]:
    return {**DEFAULT_TIER_CHAINS, **(getattr(settings, "VIDEO_TIER_CHAINS", None) or {})}


def _register_extra() -> None:
    # Operators (and the benchmark) can plug providers in without editing registry.py.
    for identifier, dotted in (getattr(settings, "VIDEO_EXTRA_PROVIDERS", None) or {}).items():
        if identifier not in video_providers.entries:
            video_providers.register(identifier, dotted)


def provider_class(identifier: str) -> type[VideoProvider]:
    _register_extra()
    try:
        return video_providers.load(identifier)  # type: ignore[return-value]
    except (ProviderDisabled, ImportError, AttributeError) as exc:
        raise ApplicationError(f"Unknown video provider '{identifier}'.", code="unknown_provider") from exc


def provider_get(identifier: str) -> VideoProvider:
    """An enabled provider, with its VIDEO_PROVIDER_CONFIG overrides (e.g. HTTP_SLEEP in tests)."""
    cls = provider_class(identifier)
    if not cls.is_enabled():
        missing = ", ".join(cls.settings_keys) or f"{identifier.upper()}_ENABLED"
        raise ApplicationError(f"Provider '{identifier}' is not enabled: set {missing}.", code="provider_disabled")
    config = (getattr(settings, "VIDEO_PROVIDER_CONFIG", None) or {}).get(identifier)
    return cls(config=config)  # type: ignore[return-value]


def provider_identifiers() -> list[str]:
    _register_extra()
    return list(video_providers.entries)


def provider_is_enabled(identifier: str) -> bool:
    try:
        return provider_class(identifier).is_enabled()
    except (ApplicationError, ImportError):
        return False


# ---------------------------------------------------------------------------- health


def provider_cooling(*, now: dt.datetime | None = None) -> dict[str, dt.datetime]:
    now = now or timezone.now()
    return dict(ProviderHealth.objects.filter(cooldown_until__gt=now).values_list("provider", "cooldown_until"))


def provider_failure_record(*, provider: str, error: ProviderError) -> None:
    """Count a provider failure; past VIDEO_PROVIDER_FAILURE_THRESHOLD it cools down."""
    if error.code in REQUEST_FAULT_CODES:
        return
    threshold = int(getattr(settings, "VIDEO_PROVIDER_FAILURE_THRESHOLD", 3))
    cooldown = float(getattr(settings, "VIDEO_PROVIDER_COOLDOWN_SECONDS", 600))
    with transaction.atomic():
        health, _ = ProviderHealth.objects.select_for_update().get_or_create(provider=provider)
        health.consecutive_failures += 1
        health.last_error = str(error)[:1000]
        if health.consecutive_failures >= threshold:
            health.cooldown_until = timezone.now() + dt.timedelta(seconds=cooldown)
        health.save()


def provider_success_record(*, provider: str) -> None:
    ProviderHealth.objects.filter(provider=provider).exclude(consecutive_failures=0, cooldown_until=None).update(
        consecutive_failures=0, cooldown_until=None
    )


# ---------------------------------------------------------------------------- candidates


@dataclass
class Candidate:
    provider: str
    model: str
    estimate: Decimal
    poll_interval: float
    label: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"provider": self.provider, "model": self.model, "estimate": str(self.estimate),
                "poll_interval": self.poll_interval, "label": self.label}


@dataclass
class Plan:
    candidates: list[Candidate]
    skipped: list[dict[str, str]]

    @property
    def worst_case(self) -> Decimal:
        return max((c.estimate for c in self.candidates), default=Decimal("0"))


def _embedded_model(model: str) -> ModelSpec | None:
    # Embedded providers (animatic, local diffusers) declare their models in code, not in the catalogue.
    for identifier in provider_identifiers():
        try:
            found = next((m for m in provider_class(identifier)().models() if m.name == model), None)
        except (ApplicationError, ImportError, OSError, ValueError):  # not installed, or its model folder unreadable
            continue
        if found is not None:
            return found
    return None


def model_refuse_retired(*, provider: str = "", model: str) -> ModelSpec | None:
    """Refuse a retired model before any call, naming its replacements. Returns its spec when known."""
    from generation.catalog import find_model

    spec: ModelSpec | None = None
    if provider:
        try:
            spec = next((m for m in provider_class(provider)().models() if m.name == model), None)
        except ApplicationError:
            spec = None
    spec = spec or find_model(model) or _embedded_model(model)
    if spec is not None and spec.lifecycle.is_retired:
        replacements = list(spec.lifecycle.replacements)
        when = f" on {spec.lifecycle.sunset.isoformat()}" if spec.lifecycle.sunset else ""
        raise ApplicationError(
            f"Model '{model}' ({spec.provider}) was retired{when}; use {', '.join(replacements) or 'another model'} instead.",
            code="model_retired",
            extra={"replacements": replacements, "provider": spec.provider},
        )
    return spec


def _entries(*, tier: str, provider: str, model: str, allow_fallback: bool) -> list[tuple[str, str]]:
    chains = tier_chains()
    if tier not in chains:
        raise ApplicationError(f"Unknown tier '{tier}' (known: {', '.join(chains)}).", code="unknown_tier")
    tier_entries = [(e.partition(":")[0], e.partition(":")[2]) for e in chains[tier]]
    if not provider:
        return tier_entries
    first = [(provider, model)]
    if not allow_fallback:
        return first
    return first + [(p, m) for p, m in tier_entries if p != provider]


def plan_candidates(
    *, request: VideoRequest, tier: str, provider: str = "", model: str = "", allow_fallback: bool = True
) -> Plan:
    """The ordered providers/models able to serve `request`, with each one's worst-case estimate."""
    if model:
        spec = model_refuse_retired(provider=provider, model=model)
        if spec is None:
            # A misspelt model would otherwise be dropped without a word and the tier's first model used instead.
            raise ApplicationError(
                f"Unknown model '{model}'" + (f" for provider '{provider}'" if provider else "")
                + "; GET /api/video/models lists the models.",
                code="unknown_model", extra={"model": model},
            )
        if not provider:
            provider = spec.provider
    cooling = provider_cooling()
    candidates: list[Candidate] = []
    skipped: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for ident, wanted in _entries(tier=tier, provider=provider, model=model, allow_fallback=allow_fallback):
        if (ident, wanted) in seen:
            continue
        seen.add((ident, wanted))
        try:
            cls = provider_class(ident)
        except ApplicationError as exc:
            skipped.append({"provider": ident, "reason": exc.message})
            continue
        if not cls.is_enabled():
            skipped.append({"provider": ident, "reason": _not_enabled_reason(ident, cls)})
            continue
        if ident in cooling:
            skipped.append({"provider": ident, "reason": f"cooling down after repeated failures until {cooling[ident].isoformat()}"})
            continue
        instance = cls()
        specs = [m for m in instance.models() if (m.name == wanted if wanted else not m.lifecycle.is_retired)]
        reasons: list[str] = []
        for spec in specs:
            attempt_request = dataclasses.replace(request, model=spec.name)
            try:
                instance.validate(attempt_request)
                estimate = instance.estimate_cost(attempt_request)
            except ProviderError as exc:
                reasons.append(str(exc))
                continue
            candidates.append(Candidate(ident, spec.name, estimate, spec.poll_interval, spec.label or spec.name))
            break
        else:
            skipped.append({"provider": ident, "reason": _no_model_reason(reasons)})
    return Plan(candidates=candidates, skipped=skipped)


def _not_enabled_reason(identifier: str, cls: type[VideoProvider]) -> str:
    # Say what would turn it on: the page and the job show this to people who may not know the setup.
    if getattr(settings, f"{identifier.upper()}_ENABLED", None) is False:
        return f"turned off ({identifier.upper()}_ENABLED is false)"
    if cls.settings_keys:
        return f"not enabled: set {', '.join(cls.settings_keys)}"
    return "not enabled"


def _no_model_reason(reasons: list[str]) -> str:
    # One reason per model is a wall of near-identical sentences: the first, and how many more.
    if not reasons:
        return "no model fits this request"
    first = reasons[0].rstrip(".")
    others = len(reasons) - 1
    if not others:
        return first + "."
    return f"{first}; its {others} other model{'s' if others > 1 else ''} cannot make it either."
