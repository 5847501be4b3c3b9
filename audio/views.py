"""Audio pages: the voiceover and music panels (/audio/), transcription of a Library asset, and
one request's page with its player, live progress, the word-highlighting transcript viewer and
caption downloads."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audio import selectors, services
from audio.apis import captions_response
from audio.forms import MusicForm, TranscribeForm, VoiceoverForm
from audio.providers.registry import get_tts_provider, music_providers, transcription_providers, tts_providers
from campaigns.selectors import can_write, require_write, scoped_get
from campaigns.views import current_workspace
from mediastudio.lib.exceptions import ApplicationError
from mediastudio.lib.providers import ProviderDisabled, ProviderError


def _voices():
    try:
        return get_tts_provider().list_voices()
    except ProviderError:
        return []


def _render_home(request, *, voiceover_form=None, music_form=None, status=200):
    workspace = current_workspace(request)
    context = {
        "voiceover_form": voiceover_form or VoiceoverForm(voices=_voices()),
        "music_form": music_form or MusicForm(),
        "requests": selectors.audio_request_list(user=request.user, workspace=workspace)[:20],
        "music_assets": selectors.music_assets(user=request.user, workspace=workspace)[:12],
    }
    return render(request, "audio/home.html", context, status=status)


@login_required
@require_GET
def audio_home(request):
    return _render_home(request)


def _error_into(form, exc: ApplicationError) -> None:
    """A service's refusal on the form: under the fields it names, once; at the top of the form
    only when it names none of the form's fields."""
    fields = {name: errors for name, errors in (exc.extra.get("fields") or {}).items() if name in form.fields}
    for name, errors in fields.items():
        for error in errors:
            form.add_error(name, error)
    if not fields:
        form.add_error(None, exc.message)


@login_required
@require_POST
def voiceover_create(request):
    workspace = current_workspace(request, write=True)
    form = VoiceoverForm(request.POST, voices=_voices())
    if form.is_valid():
        try:
            audio_request = services.voiceover_request(
                workspace=workspace, user=request.user, script=form.cleaned_data["script"],
                voice=form.cleaned_data["voice"], rate=form.cleaned_data["rate"], pitch=form.cleaned_data["pitch"],
            )
        except ApplicationError as exc:
            _error_into(form, exc)
        else:
            return redirect("audio:detail", pk=audio_request.pk)
    return _render_home(request, voiceover_form=form, status=400)


@login_required
@require_POST
def music_create(request):
    workspace = current_workspace(request, write=True)
    form = MusicForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            audio_request = services.music_request(
                workspace=workspace, user=request.user, mood=data["mood"], duration=data["duration"], seed=data["seed"],
                tempo=data["tempo"], key=data["key"] or "",
            )
        except ApplicationError as exc:
            _error_into(form, exc)
        else:
            return redirect("audio:detail", pk=audio_request.pk)
    return _render_home(request, music_form=form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def transcribe(request):
    """GET ?asset=<pk>: the form (linked from a Library asset); GET ?from=<request pk>: the form
    for the same media with that transcription's words as the script, to correct them (captions
    then carry the corrected words, timed by forced alignment); POST: start the transcription."""
    workspace = current_workspace(request, write=request.method == "POST")
    assets = list(selectors.transcribable_assets(user=request.user, workspace=workspace).order_by("-created_at")[:200])
    wanted = request.GET.get("asset") or request.POST.get("asset")
    initial: dict = {}
    source = request.GET.get("from", "")
    if request.method == "GET" and source.isdigit():
        earlier = selectors.audio_request_get(user=request.user, pk=int(source))
        if earlier.source_asset_id:
            wanted = str(earlier.source_asset_id)
            initial["script"] = earlier.script or " ".join(w["text"] for w in earlier.words)
    if wanted and wanted.isdigit() and not any(a.pk == int(wanted) for a in assets):
        from media_assets.models import MediaAsset

        # Another workspace's asset (or one that cannot be transcribed) does not exist here.
        assets.insert(0, scoped_get(MediaAsset.objects.filter(kind__in=["audio", "video"]), user=request.user, pk=int(wanted)))
    form = TranscribeForm(request.POST or None, assets=assets, initial={"asset": wanted, **initial})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            asset = next(a for a in assets if str(a.pk) == form.cleaned_data["asset"])
            require_write(user=request.user, workspace_id=asset.workspace_id)
            try:
                audio_request = services.transcription_request(
                    workspace=asset.workspace, asset=asset, user=request.user, script=form.cleaned_data["script"],
                )
            except ApplicationError as exc:
                _error_into(form, exc)
            else:
                return redirect("audio:detail", pk=audio_request.pk)
        status = 400
    return render(request, "audio/transcribe.html", {"form": form}, status=status)


@login_required
@require_GET
def audio_detail(request, pk):
    audio_request = selectors.audio_request_get(user=request.user, pk=pk)
    if audio_request.job.status == "succeeded" and audio_request.kind == "voiceover" and not audio_request.words:
        messages.warning(request, "This voiceover has no caption words.")
    return render(request, "audio/detail.html", {
        "req": audio_request,
        "provider_label": _provider_label(audio_request),
        "job": audio_request.job,
        "media": audio_request.media_asset,
        "formats": services.CAPTION_FORMATS,
        "can_write": can_write(user=request.user, workspace_id=audio_request.workspace_id),
    })


def _provider_label(audio_request) -> str:
    """The provider's name as people read it ("Whisper (embedded, faster-whisper)"), not its stored identifier."""
    registries = {"voiceover": tts_providers, "transcription": transcription_providers, "music": music_providers}
    registry = registries[audio_request.kind]
    try:
        return registry.load(audio_request.provider).verbose_name or audio_request.provider
    except ProviderDisabled:  # a provider since removed from the registry
        return audio_request.provider


@login_required
@require_GET
def audio_words(request, pk):
    """The words of the transcript viewer (fetched when the job finishes, without a reload)."""
    audio_request = selectors.audio_request_get(user=request.user, pk=pk)
    return JsonResponse({"status": audio_request.job.status, "words": audio_request.words})


@login_required
@require_GET
def audio_captions(request, pk, fmt):
    audio_request = selectors.audio_request_get(user=request.user, pk=pk)
    try:
        return captions_response(audio_request=audio_request, fmt=fmt)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("audio:detail", pk=audio_request.pk)
