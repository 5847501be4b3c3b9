from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from campaigns.selectors import can_write, require_write
from campaigns.views import redirect_back
from mediastudio.jobs import selectors
from mediastudio.jobs.links import job_subject
from mediastudio.jobs.models import Job
from mediastudio.jobs.services import IllegalTransition, job_cancel, job_create, job_retry


@login_required
def job_list(request):
    workspace = request.workspace
    jobs = selectors.job_list(user=request.user, workspace_id=workspace.pk if workspace else -1)[:100]
    return render(request, "jobs/list.html", {"jobs": jobs})


@login_required
def job_detail(request, job_id):
    job = selectors.job_get(user=request.user, job_id=job_id)
    return render(request, "jobs/detail.html", {
        "job": job, "subject": job_subject(job), "children": selectors.job_children(job=job)[:100],
        "can_write": can_write(user=request.user, workspace_id=job.workspace_id),
    })


@login_required
@require_POST
def job_cancel_view(request, job_id):
    job = selectors.job_get(user=request.user, job_id=job_id)
    require_write(user=request.user, workspace_id=job.workspace_id)
    try:
        job_cancel(job=job)
        messages.success(request, "Job canceled.")
    except IllegalTransition as exc:
        messages.error(request, f"A {exc.current} job cannot be canceled.")
    return redirect_back(request, "jobs:list")


@login_required
@require_POST
def job_retry_view(request, job_id):
    job = selectors.job_get(user=request.user, job_id=job_id)
    require_write(user=request.user, workspace_id=job.workspace_id)
    try:
        job_retry(job=job)
        messages.success(request, "Job queued again.")
    except IllegalTransition as exc:
        messages.error(request, f"A {exc.current} job cannot be retried.")
    return redirect_back(request, "jobs:list")


@login_required
@require_POST
def job_demo_view(request):
    """Start a demonstration job, to see live progress end to end."""
    workspace = request.workspace
    require_write(user=request.user, workspace_id=workspace.pk if workspace else None)
    job_create(
        workspace=workspace,
        kind=Job.Kind.DEMO,
        task="mediastudio.jobs.demo.count_steps",
        params={"steps": 10, "pause": 0.5},
        title="Demo: ten steps",
        user=request.user,
    )
    messages.success(request, "Demo job started.")
    return redirect("jobs:list")
