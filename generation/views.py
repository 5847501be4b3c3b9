"""Pages: Generate (prompt, mood, references, format, tier, live estimate, live progress) and a video job."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render

from campaigns import selectors as campaign_selectors
from campaigns.views import current_workspace
from generation import selectors, services, strategy
from generation.forms import GenerateModelForm
from mediastudio.lib.exceptions import ApplicationError


def _model_info(providers: list[dict]) -> dict[str, dict]:
    # What the page's script needs to warn as soon as a model is chosen.
    out = {}
    for p in providers:
        for m in p["models"]:
            life = m["lifecycle"]
            warning = ""
            if life["status"] == "deprecated":
                warning = (f"Model '{m['name']}' of {p['identifier']} is deprecated"
                           + (f" (sunset {life['sunset']})" if life["sunset"] else "")
                           + (f"; move to {', '.join(life['replacements'])}" if life["replacements"] else "") + ".")
            elif life["status"] == "retired":
                warning = (f"Model '{m['name']}' of {p['identifier']} was retired"
                           + (f" on {life['sunset']}" if life["sunset"] else "")
                           + (f"; use {', '.join(life['replacements'])} instead" if life["replacements"] else "")
                           + ". It will be refused.")
            out[m["name"]] = {"provider": p["identifier"], "status": life["status"], "warning": warning}
    return out


def _suggestions() -> dict[str, object]:
    # One entry per mood category: the page picks by the slider without a round trip.
    return {str(mood): strategy.suggest(mood) for mood in (10, 35, 60, 90)}


@login_required
def generate(request):
    workspace = current_workspace(request)
    campaigns = list(campaign_selectors.campaign_list(user=request.user, workspace=workspace))
    elements = list(campaign_selectors.element_list(user=request.user, workspace=workspace).prefetch_related("reference_assets"))
    providers = selectors.provider_catalogue()
    form = GenerateModelForm(request.POST or None, request.FILES or None, campaigns=campaigns, elements=elements,
                             providers=providers)
    wants_json = "application/json" in request.headers.get("Accept", "")
    if request.method == "POST":
        current_workspace(request, write=True)
        if form.is_valid():
            try:
                generation = _create(request, workspace, form.cleaned_data, campaigns, elements)
            except ApplicationError as exc:
                if wants_json:
                    return JsonResponse({"error": {"code": exc.code, "message": exc.message, "fields": {}, **exc.extra}}, status=exc.status_code)
                form.add_error(None, exc.message)
            else:
                warnings = selectors.chain_warnings(generation.chain)
                if wants_json:
                    return JsonResponse({"id": str(generation.job_id), "status": generation.job.status,
                                         "estimated_cost": str(generation.estimated_cost), "chain": generation.chain,
                                         "warnings": warnings}, status=202)
                messages.success(request, "Generation queued.")
                return redirect("generation:job", job_id=generation.job_id)
        elif wants_json:
            return JsonResponse({"error": {"code": "invalid", "message": "Invalid input.", "fields": form.errors}}, status=400)
    recent = selectors.generation_list(user=request.user, workspace_id=workspace.pk).select_related("job")[:8]
    context = {
        "form": form,
        "recent": recent,
        "suggestions": _suggestions(),
        "platforms": {k: {"aspect_ratio": p.aspect_ratio, "default_duration": p.default_duration, "min": p.min_duration,
                          "max": p.max_duration, "pacing": p.pacing} for k, p in strategy.PLATFORMS.items()},
        "budgets": {str(c.pk): {"budget": str(c.budget), "remaining": str(c.remaining), "name": c.name} for c in campaigns},
        "element_images": {str(e.pk): bool([a for a in e.reference_assets.all() if a.kind == "image"]) for e in elements},
        "model_info": _model_info(providers),
        "can_write": campaign_selectors.role_for(user=request.user, workspace_id=workspace.pk) in campaign_selectors.WRITE_ROLES,
    }
    return render(request, "generation/generate.html", context)


def _create(request, workspace, data, campaigns, elements):
    campaign = next((c for c in campaigns if c.pk == data.get("campaign")), None)
    chosen = [e for e in elements if e.pk in set(data.get("elements") or [])]
    image_asset = None
    upload = data.get("image")
    if upload is not None:
        from media_assets.services import asset_create_from_file
        from media_assets.validation import MediaRejected

        with tempfile.TemporaryDirectory(prefix="gen-upload-") as tmp:
            path = Path(tmp) / Path(upload.name).name
            with open(path, "wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            try:
                image_asset = asset_create_from_file(workspace=workspace, path=path, source="uploaded", kind="image",
                                                     campaign=campaign, original_name=upload.name, user=request.user)
            except MediaRejected as exc:
                raise ApplicationError(f"The image was refused: {exc}", code="invalid_media") from None
    model = data.get("model") or ""
    provider = data.get("provider") or ""
    if model and not provider:
        spec = selectors.model_spec_find(model=model)
        provider = spec.provider if spec is not None else ""
    generation, _ = services.video_generation_create(
        workspace=workspace, user=request.user, campaign=campaign, prompt=data["prompt"], mood=data["mood"],
        platform=data.get("platform") or "", aspect_ratio=data["aspect_ratio"], duration=data["duration"],
        resolution=data["resolution"], tier=data["tier"], provider=provider, model=model,
        allow_fallback=bool(data.get("allow_fallback")),
        camera_move=data.get("camera_move") or "", lighting=data.get("lighting") or "", elements=chosen,
        image_asset=image_asset,
    )
    return generation


@login_required
def job_detail(request, job_id):
    generation = selectors.generation_get(user=request.user, job_id=job_id)
    result_url = None
    if generation.result_asset_id:
        from media_assets.services import asset_stream_url

        result_url = asset_stream_url(asset=generation.result_asset)
    return render(request, "generation/job.html", {
        "generation": generation,
        "job": generation.job,
        "provider_log": selectors.generation_provider_log(generation=generation),
        "attempts_total": sum((a.actual_cost for a in generation.attempts.all() if a.actual_cost is not None), 0),
        "warnings": selectors.chain_warnings(generation.chain),
        "result_url": result_url,
        "strategy_json": json.dumps(generation.strategy, indent=2),
        "category": strategy.category_label(generation.strategy.get("category", "")),
        "look": strategy.look_label(generation.strategy.get("camera_move", ""), generation.strategy.get("lighting", "")),
        "can_write": campaign_selectors.role_for(user=request.user, workspace_id=generation.workspace_id) in campaign_selectors.WRITE_ROLES,
    })


def _durations_text(m: dict) -> str:
    if m["durations"]:
        return ", ".join(f"{d:g}" for d in m["durations"]) + " s"
    return f"{m['min_duration']:g}–{m['max_duration']:g} s"


def _price_text(m: dict) -> str:
    price = m["price"]
    if price["per_video"] is not None:
        return "free" if float(price["per_video"]) == 0 else f"${price['per_video']} / video"
    if not price["per_second"] or all(float(v) == 0 for v in price["per_second"].values()):
        return "free"
    return ", ".join(f"${v}/s" + ("" if k == "*" else f" ({k})") for k, v in price["per_second"].items())


@login_required
def providers(request):
    """Every video provider: status, capability matrix, lifecycle and prices (the same for every
    workspace; the last error never shows a prompt)."""
    catalogue = selectors.provider_catalogue()
    for p in catalogue:
        for m in p["models"]:
            m["durations_text"] = _durations_text(m)
            m["price_text"] = _price_text(m)
            source = m["price"]["source"] or ""
            head, _, rest = source.partition(" ")
            m["source_url"] = head if head.startswith(("https://", "http://")) else ""
            m["source_note"] = rest.strip() if m["source_url"] else ""
    return render(request, "generation/providers.html", {
        "providers": catalogue,
        "tiers": services.tier_chains(),
        "recommendations": selectors.USE_RECOMMENDATIONS,
    })
