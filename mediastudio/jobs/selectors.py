from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from mediastudio.jobs.models import Job


def job_list(*, user: Any, workspace_id: Any = None) -> QuerySet[Job]:
    if not getattr(user, "is_authenticated", False):
        return Job.objects.none()
    qs = Job.objects.filter(workspace__memberships__user=user).select_related("campaign")
    if workspace_id is not None:
        qs = qs.filter(workspace_id=workspace_id)
    return qs


def job_get(*, user: Any, job_id: Any) -> Job:
    try:
        job = job_list(user=user).filter(pk=job_id).first()
    except (ValueError, TypeError):  # not a UUID
        job = None
    if job is None:
        raise Http404("No such job.")
    return job


def job_children(*, job: Job) -> QuerySet[Job]:
    """The jobs a job groups (a batch's videos), oldest first."""
    return job.children.select_related("campaign").order_by("created_at")


def user_can_see_workspace(*, user: Any, workspace_id: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return Job.workspace.field.related_model.objects.filter(pk=workspace_id, memberships__user=user).exists()
