"""Library pages: grid, upload, detail with player, tags/links editing, delete, and the streaming
of files and previews (HTTP ranges locally, a signed-URL redirect on S3)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST, require_safe

from campaigns.selectors import can_write, scoped_get
from campaigns.views import current_workspace
from media_assets import selectors, services
from media_assets.forms import AssetEditForm, AssetFilterForm, AssetUploadForm
from media_assets.models import MediaAsset
from media_assets.ranges import range_response
from media_assets.storage import install_upload_handler, local_path, media_storage
from media_assets.validation import MediaRejected
from mediastudio.lib.exceptions import ApplicationError

PAGE_SIZE = 48
SUBTITLE_CUES_SHOWN = 200


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


# ---------------------------------------------------------------------------- library


@login_required
@require_GET
def asset_list(request):
    workspace = current_workspace(request)
    return _render_library(request, workspace)


def _render_library(request, workspace, *, upload_form=None, upload_errors=(), status=200):
    tags = selectors.asset_tags(user=request.user, workspace=workspace)
    filters = AssetFilterForm(request.GET or None, workspace=workspace, tags=tags, auto_id="filter_%s")
    # A stale value (a tag no file has any more, another workspace's campaign) drops that filter
    # only: the others still apply, as the form shows them.
    filters.is_valid()  # fills cleaned_data with the fields that are valid
    data = getattr(filters, "cleaned_data", {})
    assets = selectors.asset_list(
        user=request.user,
        workspace=workspace,
        kind=data.get("kind", ""),
        source=data.get("source", ""),
        campaign=data.get("campaign"),
        element=data.get("element"),
        tag=data.get("tag", ""),
        search=data.get("q", ""),
    )
    page = Paginator(assets, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    max_bytes = services.media_limits().max_bytes
    context = {
        "page": page,
        "filters": filters,
        "filtered": any(data.values()) if data else False,
        "upload_form": upload_form or AssetUploadForm(workspace=workspace),
        "upload_errors": upload_errors,
        "query": query.urlencode(),
        "max_upload_bytes": max_bytes,
        "max_upload_mib": max_bytes // 1024**2,
    }
    return render(request, "media_assets/library.html", context, status=status)


@csrf_exempt  # the upload handlers must be set before CSRF reads the body; csrf_protect runs next
@login_required
@require_POST
def asset_upload(request):
    handler = install_upload_handler(request)
    return _asset_upload(request, handler)


@csrf_protect
def _asset_upload(request, handler):
    workspace = current_workspace(request, write=True)
    form = AssetUploadForm(request.POST, request.FILES, workspace=workspace)
    files = request.FILES.getlist("files") + request.FILES.getlist("file")
    errors: list[dict[str, str]] = []
    results: list[services.UploadResult] = []
    if handler.refused:
        errors.append({"name": "", "reason": "too_big", "message": handler.refused})
    if not form.is_valid():
        errors.append({"name": "", "reason": "invalid", "message": "; ".join(str(e) for errs in form.errors.values() for e in errs)})
    elif not files and not errors:
        errors.append({"name": "", "reason": "no_file", "message": "Choose at least one file."})
    else:
        for uploaded in files:
            try:
                results.append(
                    services.asset_ingest_upload(
                        workspace=workspace,
                        uploaded_file=uploaded,
                        user=request.user,
                        campaign=form.cleaned_data.get("campaign"),
                        element=form.cleaned_data.get("element"),
                        tags=form.cleaned_data.get("tags") or (),
                    )
                )
            except MediaRejected as exc:
                errors.append({"name": uploaded.name, "reason": exc.reason_code, "message": exc.message})
            except ApplicationError as exc:
                errors.append({"name": uploaded.name, "reason": exc.code, "message": exc.message})
    status = 400 if errors and not results else 200
    if _wants_json(request):
        return JsonResponse(
            {
                "assets": [
                    {
                        "id": r.asset.pk,
                        "status": r.asset.status,
                        "duplicate": not r.created,
                        "note": r.note,
                        "url": reverse("media_assets:asset-detail", kwargs={"pk": r.asset.pk}),
                        "card_html": render_to_string("media_assets/_asset_card.html", {"asset": r.asset}, request=request),
                    }
                    for r in results
                ],
                "errors": errors,
            },
            status=status,
        )
    for r in results:
        if r.created:
            messages.success(request, f"Uploaded {r.asset.display_name}.")
        else:
            messages.info(request, f"{r.asset.display_name}: {r.note}")
    if errors:
        return _render_library(request, workspace, upload_form=form, upload_errors=errors, status=status)
    return redirect("media_assets:asset-list")


# ---------------------------------------------------------------------------- one asset


def _asset(request, pk, *, write: bool = False) -> MediaAsset:
    return scoped_get(MediaAsset.objects.select_related("campaign", "element", "ingest_job", "workspace"), user=request.user, write=write, pk=pk)


@login_required
@require_GET
def asset_detail(request, pk):
    asset = _asset(request, pk)
    return _render_detail(request, asset)


def _render_detail(request, asset, *, form=None, status=200):
    initial = {"title": asset.title, "tags": asset.tags, "campaign": asset.campaign_id, "element": asset.element_id}
    context = {
        "asset": asset,
        "form": form or AssetEditForm(initial=initial, workspace=asset.workspace),
        "references": selectors.asset_references(asset=asset),
        "job": asset.ingest_job,
        "can_write": can_write(user=request.user, workspace_id=asset.workspace_id),
    }
    if asset.kind == MediaAsset.Kind.SUBTITLE:
        context["cues"], context["cue_count"] = selectors.asset_subtitle_cues(asset=asset, limit=SUBTITLE_CUES_SHOWN)
    return render(request, "media_assets/detail.html", context, status=status)


@login_required
@require_GET
def asset_card(request, pk):
    """One grid card (the Library swaps it in when an ingest job finishes)."""
    return render(request, "media_assets/_asset_card.html", {"asset": _asset(request, pk)})


@login_required
@require_POST
def asset_edit(request, pk):
    asset = _asset(request, pk, write=True)
    form = AssetEditForm(request.POST, workspace=asset.workspace)
    if not form.is_valid():
        return _render_detail(request, asset, form=form, status=400)
    services.asset_update(
        asset=asset,
        title=form.cleaned_data["title"],
        tags=form.cleaned_data["tags"],
        campaign=form.cleaned_data["campaign"],
        element=form.cleaned_data["element"],
    )
    messages.success(request, "Saved.")
    return redirect("media_assets:asset-detail", pk=asset.pk)


@login_required
@require_POST
def asset_delete(request, pk):
    asset = _asset(request, pk, write=True)
    try:
        services.asset_delete(asset=asset)
    except services.AssetInUse as exc:
        messages.error(request, exc.message)
        return _render_detail(request, asset, status=409)
    messages.success(request, f"Deleted {asset.display_name}.")
    return redirect("media_assets:asset-list")


# ---------------------------------------------------------------------------- streaming


def _stream(request, pk: int, variant: str):
    token = request.GET.get("token")
    if token and services.stream_token_allows(token=token, asset_pk=pk, variant=variant):
        asset = MediaAsset.objects.filter(pk=pk).first()
        if asset is None:
            raise Http404("Not found.")
    else:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        asset = _asset(request, pk)
    name = services.asset_variant_name(asset=asset, variant=variant)
    if not name:
        raise Http404("Not found.")
    path = local_path(name)
    if path is None:
        return HttpResponseRedirect(services.asset_stream_url(asset=asset, variant=variant))
    storage = media_storage()
    if not storage.exists(name):
        raise Http404("Not found.")
    response = range_response(
        request.headers,
        path,
        storage.size(name),
        services.asset_content_type(asset=asset, variant=variant),
        filename=services.asset_download_name(asset=asset, variant=variant),
        attachment=not services.asset_serves_inline(asset=asset, variant=variant),
        head=request.method == "HEAD",
    )
    # Content-addressed keys never change; a sandbox keeps a hostile byte sequence from running.
    response["Cache-Control"] = "private, max-age=86400"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@require_safe  # GET and HEAD: players and download managers ask HEAD for the size first
def asset_file(request, pk):
    return _stream(request, pk, "file")


@require_safe
def asset_preview(request, pk, variant):
    if variant not in services.PREVIEW_FIELDS:
        raise Http404("Not found.")
    return _stream(request, pk, variant)
