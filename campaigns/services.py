"""Writes of the campaigns app: workspaces, members, universes, elements, campaigns."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from campaigns.models import Campaign, Element, Membership, Universe, Workspace


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "workspace"
    slug, n = base, 2
    while Workspace.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def workspace_create(*, name: str, owner: Any) -> Workspace:
    workspace = Workspace.objects.create(name=name, slug=_unique_slug(name))
    Membership.objects.create(workspace=workspace, user=owner, role=Membership.Role.OWNER)
    return workspace


def membership_add(*, workspace: Workspace, user: Any, role: str = Membership.Role.EDITOR) -> Membership:
    membership, _ = Membership.objects.update_or_create(workspace=workspace, user=user, defaults={"role": role})
    return membership


def _save(obj: Any, data: dict[str, Any], *, m2m: dict[str, Any] | None = None) -> Any:
    for field, value in data.items():
        setattr(obj, field, value)
    obj.full_clean()
    obj.save()
    for field, values in (m2m or {}).items():
        getattr(obj, field).set(values)
    return obj


def universe_create(*, workspace: Workspace, **data: Any) -> Universe:
    return _save(Universe(workspace=workspace), data)


def universe_update(*, universe: Universe, **data: Any) -> Universe:
    return _save(universe, data)


def _check_references(universe: Universe, reference_assets: Any) -> None:
    # A reference image becomes a generated video's first frame: it must be the universe's workspace's own.
    if any(asset.workspace_id != universe.workspace_id for asset in reference_assets or []):
        raise ValidationError({"reference_assets": "A reference image belongs to another workspace."})


def element_create(*, universe: Universe, reference_assets: list | None = None, **data: Any) -> Element:
    _check_references(universe, reference_assets)
    return _save(Element(universe=universe), data, m2m={"reference_assets": reference_assets or []})


def element_update(*, element: Element, reference_assets: list | None = None, **data: Any) -> Element:
    _check_references(data.get("universe") or element.universe, reference_assets)
    return _save(element, data, m2m={"reference_assets": reference_assets} if reference_assets is not None else None)


def campaign_create(*, workspace: Workspace, **data: Any) -> Campaign:
    data.setdefault("budget", Decimal("0"))
    return _save(Campaign(workspace=workspace), data)


@transaction.atomic
def campaign_update(*, campaign: Campaign, **data: Any) -> Campaign:
    """Change a campaign. A new budget may not be below what is already spent plus reserved."""
    # spent and reserved are the budget ledger's, never a form's. Jobs move them under this row lock
    # while the form is open, so they are read afresh here rather than written back as the edit found them.
    data.pop("spent", None)
    data.pop("reserved", None)
    stored = Campaign.objects.select_for_update().values("budget", "spent", "reserved").get(pk=campaign.pk)
    campaign.spent, campaign.reserved = stored["spent"], stored["reserved"]
    budget = data.get("budget")
    committed = stored["spent"] + stored["reserved"]
    # An unchanged budget passes, so that an overspent campaign can still be renamed or paused.
    if budget is not None and budget != stored["budget"] and budget < committed:
        currency = data.get("currency") or campaign.currency
        least = committed.quantize(Decimal("0.01"), rounding=ROUND_CEILING)
        raise ValidationError({"budget": (
            f"The budget cannot be below what is already committed: spent {currency} {stored['spent']:.2f}, "
            f"reserved {currency} {stored['reserved']:.2f}; it must be at least {currency} {least}."
        )})
    return _save(campaign, data)


@transaction.atomic
def demo_workspace_setup(*, username: str = "demo", password: str, workspace_name: str = "Demo Studio") -> tuple[Any, Workspace]:
    """A ready-to-use workspace for a first run: one owner, a universe, a campaign."""
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
    user.set_password(password)
    user.save()
    workspace = Workspace.objects.filter(memberships__user=user, name=workspace_name).first()
    if workspace is None:
        workspace = workspace_create(name=workspace_name, owner=user)
    universe = Universe.objects.filter(workspace=workspace).first() or universe_create(
        workspace=workspace,
        name="Aurora Coffee",
        description="A specialty coffee brand for early risers.",
        style="warm cinematic close-ups, soft morning light",
        tone="warm, confident, a little playful",
        palette=["#1f2a44", "#e07a5f", "#f2cc8f", "#f4f1de"],
        fonts=["DejaVu Sans"],
    )
    if not Campaign.objects.filter(workspace=workspace).exists():
        campaign_create(
            workspace=workspace,
            universe=universe,
            name="Spring launch",
            brief="Launch the new cold brew can to commuters: fresh, fast, made for the morning rush.",
            objective=Campaign.Objective.LAUNCH,
            target_platforms=["tiktok", "reels", "shorts"],
            aspect_ratios=["9:16"],
            budget=Decimal("50.00"),
        )
    return user, workspace
