"""Editor pages: the list of compositions and the editor itself (a timeline of library clips,
transitions, captions, voiceover and music, presets, render with live progress, results side by
side). The editor page is a thin client of the compositions API; it works on the same rows."""

from __future__ import annotations

import os
import tempfile

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from audio.models import AudioRequest
from campaigns.models import Campaign, Universe
from campaigns.selectors import role_for, scoped, scoped_get
from campaigns.views import current_workspace
from media_assets import editor_services as services
from media_assets.compositions import Composition, CompositionClip
from media_assets.editor_apis import CompositionOutputSerializer
from media_assets.models import MediaAsset
from media_assets.render import captions_ass
from media_assets.render import spec as rs
from media_assets.render.presets import PRESETS
from media_assets.services import asset_create_from_file
from media_assets.storage import media_temp_dir
from media_assets.validation import MediaRejected
from mediastudio.lib.text import shorten


class CompositionNewForm(forms.Form):
    title = forms.CharField(max_length=200)
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.none(), required=False)

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = Campaign.objects.filter(workspace=workspace)
        self.fields["title"].widget.attrs["placeholder"] = "Spring launch teaser"


@login_required
@require_GET
def composition_list(request):
    workspace = current_workspace(request)
    compositions = (scoped(Composition.objects.filter(workspace=workspace), user=request.user)
                    .select_related("campaign").prefetch_related("clips__asset", "renders"))
    return render(request, "editor/list.html", {"compositions": compositions, "form": CompositionNewForm(workspace=workspace)})


@login_required
@require_POST
def composition_new(request):
    workspace = current_workspace(request, write=True)
    form = CompositionNewForm(request.POST, workspace=workspace)
    if not form.is_valid():
        compositions = Composition.objects.filter(workspace=workspace)
        return render(request, "editor/list.html", {"compositions": compositions, "form": form}, status=400)
    composition = services.composition_create(workspace=workspace, title=form.cleaned_data["title"], user=request.user,
                                              campaign=form.cleaned_data["campaign"])
    return redirect("editor:composition-edit", pk=composition.pk)


def _composition(request, pk, *, write: bool = False) -> Composition:
    return scoped_get(Composition.objects.select_related("workspace", "campaign__universe", "universe__logo"),
                      user=request.user, write=write, pk=pk)


def _preview_url(pk: int | None, variant: str = "thumbnail") -> str:
    """An asset's preview URL (its thumbnail unless ``variant`` says another); without ``pk``, a
    template with ``{id}`` in its place (for the page's script)."""
    url = reverse("media_assets:asset-preview", kwargs={"pk": pk or 0, "variant": variant})
    return url if pk else url.replace("/0/", "/{id}/")


def _asset_choice(asset: MediaAsset) -> dict:
    return {
        "id": asset.pk, "kind": asset.kind, "title": asset.display_name, "duration": asset.duration,
        "width": asset.width, "height": asset.height, "source": asset.source,
        "thumbnail_url": _preview_url(asset.pk) if asset.thumbnail else None,
        "strip_url": _preview_url(asset.pk, "scrub_strip") if asset.scrub_strip else None,
    }


def _first_cue(request: AudioRequest) -> str:
    """The words of a request's first caption, as the caption preview shows them once it is chosen."""
    cues = services.request_cues(request, first_only=True)
    return " ".join(w.text for w in cues[0].words) if cues else ""


@login_required
@require_GET
def composition_edit(request, pk):
    composition = _composition(request, pk)
    workspace = composition.workspace
    assets = scoped(MediaAsset.objects.filter(workspace=workspace).exclude(status=MediaAsset.Status.FAILED), user=request.user)
    universe = composition.brand_universe
    logo = universe.logo if universe and universe.logo_id else None
    style = services.caption_style(composition=composition)
    requests = (AudioRequest.objects.filter(workspace=workspace, kind__in=["voiceover", "transcription"])
                .exclude(words=[]).select_related("asset", "source_asset")[:50])
    sample = ""
    try:
        cues = services.caption_cues(composition=composition)
        sample = " ".join(w.text for w in cues[0].words) if cues else ""
    except (OSError, ValidationError):
        sample = ""
    data = {
        "composition": CompositionOutputSerializer(
            Composition.objects.prefetch_related("clips__asset").get(pk=composition.pk), context={"request": request}
        ).data,
        "clips": [_asset_choice(a) for a in assets.filter(kind__in=["video", "image"]).order_by("-created_at")[:200]],
        "thumbnail_url_template": _preview_url(None),  # for thumbnails made after the page loaded
        "strip_url_template": _preview_url(None, "scrub_strip"),
        "audio": [_asset_choice(a) for a in assets.filter(kind="audio").order_by("-created_at")[:200]],
        "subtitles": [_asset_choice(a) for a in assets.filter(kind="subtitle").order_by("-created_at")[:100]],
        "caption_requests": [
            {"id": r.pk, "label": f"{r.get_kind_display()} #{r.pk}: {shorten(r.script or '', 50) or (r.media_asset.display_name if r.media_asset else '')}",
             "voice_asset": r.asset_id if r.kind == "voiceover" else None,
             "sample": _first_cue(r)}
            for r in requests
        ],
        "presets": [{"key": p.key, "label": p.label or p.key, "width": p.width, "height": p.height,
                     "safe": {"top": p.safe.top, "bottom": p.safe.bottom, "left": p.safe.left, "right": p.safe.right}}
                    for p in PRESETS.values()],
        "brand": {
            "universe": universe.name if universe else "",
            "font": style.font_family, "highlight": style.highlight, "primary": style.primary,
            "outline": style.outline, "box": style.box_colour, "size": style.size, "max_lines": style.max_lines,
            "palette": list(universe.palette or []) if universe else [],
            "has_logo": logo is not None,
            # The preview draws the logo file itself (its thumbnail is flattened onto white) at the
            # width the render gives it, a share of the frame's width.
            "logo_url": reverse("media_assets:asset-file", kwargs={"pk": logo.pk}) if logo is not None else None,
            "logo_size": [logo.width, logo.height] if logo is not None and logo.width and logo.height else None,
            "logo_scale": rs.WATERMARK_SCALE,
        },
        "caption_sample": sample,
        "colour_emoji": services.render_emoji_font() is not None,  # else the render draws them as outlines
        "campaigns": [[c.pk, c.name] for c in Campaign.objects.filter(workspace=workspace).order_by("name")],
        "universes": [[u.pk, u.name] for u in Universe.objects.filter(workspace=workspace).order_by("name")],
        "choices": {
            "transition": CompositionClip.TransitionKind.choices, "fit": CompositionClip.Fit.choices,
            "motion": CompositionClip.Motion.choices, "caption_mode": Composition.CaptionMode.choices,
            "caption_border": Composition.CaptionBorder.choices, "caption_position": Composition.CaptionPosition.choices,
            "corner": Composition.Corner.choices,
        },
        "workspace": workspace.pk,  # files dropped on the timeline are uploaded to the composition's workspace
        "urls": {"api": f"/api/compositions/{composition.pk}/", "renders": f"/api/compositions/{composition.pk}/renders/",
                 "assets": reverse("api-asset-list")},
    }
    can_edit = role_for(user=request.user, workspace_id=workspace.pk) in ("owner", "editor")
    fonts = {family: [f"fonts/{name}" for name in files] for family, files in captions_ass.FONT_FILES.items()}
    return render(request, "editor/edit.html", {
        "composition": composition, "editor_data": data, "can_edit": can_edit, "font_files": fonts,
    })


@login_required
@require_POST
def composition_subtitles(request, pk):
    """Upload an SRT, WebVTT or ASS file as the composition's caption track."""
    composition = _composition(request, pk, write=True)
    upload = request.FILES.get("subtitles")
    if upload is None:
        messages.error(request, "Choose a subtitle file (SRT, WebVTT or ASS).")
        return redirect("editor:composition-edit", pk=pk)
    suffix = os.path.splitext(upload.name)[1][:8]
    with tempfile.NamedTemporaryFile(suffix=suffix, dir=media_temp_dir(), delete=False) as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    try:
        asset = asset_create_from_file(workspace=composition.workspace, path=handle.name, source=MediaAsset.Source.UPLOADED,
                                       kind=MediaAsset.Kind.SUBTITLE, campaign=composition.campaign, user=request.user,
                                       original_name=os.path.basename(upload.name)[:200])
        services.composition_update(composition=composition, caption_asset=asset)
    except MediaRejected as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Captions from {asset.display_name}.")
    finally:
        os.unlink(handle.name)
    return redirect("editor:composition-edit", pk=pk)


@login_required
@require_POST
def composition_delete(request, pk):
    composition = _composition(request, pk, write=True)
    title = composition.title
    services.composition_delete(composition=composition)
    messages.success(request, f"Deleted {title}.")
    return redirect("editor:composition-list")
