from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from campaigns import selectors, services
from campaigns.forms import CampaignForm, ElementForm, UniverseForm
from campaigns.models import Campaign, Element, Universe
from mediastudio.jobs.selectors import job_list


def current_workspace(request, *, write: bool = False):
    """The page's workspace (the switcher's choice); with write=True the user must be allowed to change it."""
    workspace = request.workspace
    if workspace is None:
        raise Http404("You are not a member of any workspace yet.")
    if write:
        selectors.require_write(user=request.user, workspace_id=workspace.pk)
    return workspace


@login_required
def dashboard(request):
    workspace = request.workspace
    campaigns = selectors.campaign_list(user=request.user, workspace=workspace)[:12] if workspace else []
    jobs = job_list(user=request.user, workspace_id=workspace.pk)[:10] if workspace else []
    return render(request, "campaigns/dashboard.html", {"campaigns": campaigns, "jobs": jobs})


@login_required
@require_POST
def workspace_switch(request):
    membership = selectors.membership_get(user=request.user, workspace_id=request.POST.get("workspace"))
    if membership is None:
        raise Http404("No such workspace.")
    request.session["workspace_id"] = membership.workspace_id
    return redirect_back(request, "dashboard")


def redirect_back(request, default: str):
    """Back to the page a form's ``next`` names, when it is a page of this site; else to ``default``."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect(default)


def _save_form(request, form, save, *, success_message: str):
    """Validate the form (model rules included), then write through the service; errors stay on the page."""
    if not form.is_valid():
        return None
    try:
        obj = save(**form.cleaned_data)
    except ValidationError as exc:
        # A rule the form could not check (a constraint across fields it does not have) is still a form error.
        errors = exc.error_dict if hasattr(exc, "error_dict") else {None: exc.error_list}
        for field, field_errors in errors.items():
            form.add_error(field if field in form.fields else None, field_errors)
        return None
    messages.success(request, success_message)
    return obj


def _form_page(request, form, save, *, noun: str, detail: str, title: str, cancel_url: str):
    """The new/edit page of one object: on a valid POST save it and go to its page, else show the form."""
    if request.method == "POST":
        obj = _save_form(request, form, save, success_message=f"{noun} saved.")
        if obj:
            return redirect(detail, pk=obj.pk)
    return render(request, "campaigns/form.html", {"form": form, "title": title, "cancel_url": cancel_url},
                  status=400 if form.errors else 200)


# ---------------------------------------------------------------------------- universes


@login_required
def universe_list(request):
    universes = selectors.universe_list(user=request.user, workspace=request.workspace) if request.workspace else []
    return render(request, "campaigns/universe_list.html", {"universes": universes})


@login_required
def universe_detail(request, pk):
    universe = selectors.scoped_get(Universe.objects.select_related("logo"), user=request.user, pk=pk)
    return render(request, "campaigns/universe_detail.html", {
        "universe": universe, "elements": universe.elements.all(),
        "can_write": selectors.can_write(user=request.user, workspace_id=universe.workspace_id),
    })


@login_required
def universe_edit(request, pk=None):
    if pk is None:
        workspace = current_workspace(request, write=True)
        instance = None
    else:
        instance = selectors.scoped_get(Universe.objects.all(), user=request.user, write=True, pk=pk)
        workspace = instance.workspace
    form = UniverseForm(request.POST or None, instance=instance, workspace=workspace)
    save = (lambda **data: services.universe_update(universe=instance, **data)) if instance else (
        lambda **data: services.universe_create(workspace=workspace, **data))
    return _form_page(request, form, save, noun="Universe", detail="campaigns:universe-detail",
                      title="Edit universe" if instance else "New universe",
                      cancel_url=reverse("campaigns:universe-detail", args=[instance.pk]) if instance
                      else reverse("campaigns:universe-list"))


# ---------------------------------------------------------------------------- elements


@login_required
def element_detail(request, pk):
    element = selectors.scoped_get(Element.objects.select_related("universe"), user=request.user, path="universe__workspace", pk=pk)
    return render(request, "campaigns/element_detail.html", {
        "element": element,
        "can_write": selectors.can_write(user=request.user, workspace_id=element.universe.workspace_id),
    })


@login_required
def element_edit(request, universe_pk=None, pk=None):
    if pk is None:
        universe = selectors.scoped_get(Universe.objects.all(), user=request.user, write=True, pk=universe_pk)
        instance = None
    else:
        instance = selectors.scoped_get(
            Element.objects.select_related("universe"), user=request.user, write=True, path="universe__workspace", pk=pk
        )
        universe = instance.universe
    form = ElementForm(request.POST or None, instance=instance, universe=universe)
    save = (lambda **data: services.element_update(element=instance, **data)) if instance else (
        lambda **data: services.element_create(universe=universe, **data))
    return _form_page(request, form, save, noun="Element", detail="campaigns:element-detail",
                      title=f"Element of {universe.name}",
                      cancel_url=reverse("campaigns:element-detail", args=[instance.pk]) if instance
                      else reverse("campaigns:universe-detail", args=[universe.pk]))


# ---------------------------------------------------------------------------- campaigns


@login_required
def campaign_list(request):
    campaigns = selectors.campaign_list(user=request.user, workspace=request.workspace) if request.workspace else []
    return render(request, "campaigns/campaign_list.html", {"campaigns": campaigns})


@login_required
def campaign_detail(request, pk):
    campaign = selectors.scoped_get(Campaign.objects.select_related("universe"), user=request.user, pk=pk)
    jobs = job_list(user=request.user).filter(campaign=campaign)[:20]
    return render(request, "campaigns/campaign_detail.html", {
        "campaign": campaign, "jobs": jobs,
        "can_write": selectors.can_write(user=request.user, workspace_id=campaign.workspace_id),
    })


@login_required
def campaign_edit(request, pk=None):
    if pk is None:
        workspace = current_workspace(request, write=True)
        instance = None
    else:
        instance = selectors.scoped_get(Campaign.objects.all(), user=request.user, write=True, pk=pk)
        workspace = instance.workspace
    form = CampaignForm(request.POST or None, instance=instance, workspace=workspace)
    save = (lambda **data: services.campaign_update(campaign=instance, **data)) if instance else (
        lambda **data: services.campaign_create(workspace=workspace, **data))
    return _form_page(request, form, save, noun="Campaign", detail="campaigns:campaign-detail",
                      title="Edit campaign" if instance else "New campaign",
                      cancel_url=reverse("campaigns:campaign-detail", args=[instance.pk]) if instance
                      else reverse("campaigns:campaign-list"))


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)
