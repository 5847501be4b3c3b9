"""Reads, always scoped to the requesting user's workspaces.

An object of a workspace the user is not a member of does not exist for them (404); a viewer
asking to write gets 403.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404

from campaigns.models import Campaign, Element, Membership, Universe, Workspace

M = TypeVar("M", bound=Model)
WRITE_ROLES = (Membership.Role.OWNER, Membership.Role.EDITOR)


def workspace_list(*, user: Any) -> QuerySet[Workspace]:
    if not getattr(user, "is_authenticated", False):
        return Workspace.objects.none()
    return Workspace.objects.filter(memberships__user=user).order_by("name")


def membership_get(*, user: Any, workspace_id: Any) -> Membership | None:
    if not getattr(user, "is_authenticated", False) or workspace_id is None or isinstance(workspace_id, bool):
        return None
    try:
        # A workspace id comes from a form, a session or a JSON body: anything but a number is no workspace.
        workspace_id = int(str(workspace_id))
    except (TypeError, ValueError):
        return None
    return Membership.objects.filter(user=user, workspace_id=workspace_id).select_related("workspace").first()


def role_for(*, user: Any, workspace_id: Any) -> str | None:
    membership = membership_get(user=user, workspace_id=workspace_id)
    return membership.role if membership else None


def can_write(*, user: Any, workspace_id: Any) -> bool:
    """Whether the user may change things in this workspace. An object's page asks with the
    object's workspace, not the switcher's: a link may lead to a workspace with another role."""
    return role_for(user=user, workspace_id=workspace_id) in WRITE_ROLES


def require_write(*, user: Any, workspace_id: Any) -> None:
    if not can_write(user=user, workspace_id=workspace_id):
        raise PermissionDenied("Your role in this workspace is read-only.")


def scoped(queryset: QuerySet[M], *, user: Any, path: str = "workspace") -> QuerySet[M]:
    """Limit any queryset to the user's workspaces; `path` is the lookup to the workspace."""
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    return queryset.filter(**{f"{path}__memberships__user": user})


def scoped_get(
    queryset: QuerySet[M], *, user: Any, write: bool = False, path: str = "workspace", **lookup: Any
) -> M:
    """One object of the user's workspaces, or 404; with write=True, 403 for a viewer."""
    obj = scoped(queryset, user=user, path=path).filter(**lookup).first()
    if obj is None:
        raise Http404("Not found.")
    if write:
        workspace_id = _workspace_id(obj, path)
        require_write(user=user, workspace_id=workspace_id)
    return obj


def _workspace_id(obj: Model, path: str) -> Any:
    target: Any = obj
    for part in path.split("__"):
        target = getattr(target, part)
    return target.pk


def universe_list(*, user: Any, workspace: Workspace | None = None) -> QuerySet[Universe]:
    qs = scoped(Universe.objects.all(), user=user)
    return qs.filter(workspace=workspace) if workspace is not None else qs


def element_list(*, user: Any, workspace: Workspace | None = None, universe: Universe | None = None) -> QuerySet[Element]:
    qs = scoped(Element.objects.select_related("universe"), user=user, path="universe__workspace")
    if workspace is not None:
        qs = qs.filter(universe__workspace=workspace)
    if universe is not None:
        qs = qs.filter(universe=universe)
    return qs


def campaign_list(*, user: Any, workspace: Workspace | None = None) -> QuerySet[Campaign]:
    qs = scoped(Campaign.objects.select_related("universe"), user=user)
    return qs.filter(workspace=workspace) if workspace is not None else qs
