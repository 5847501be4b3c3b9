"""REST API of compositions and their renders. Every query is scoped to the requesting user's
workspaces: another workspace's composition, render or asset is a 404 (or, in a body, a 400 on
that field); a viewer cannot write (403); bad input is a 400 naming each field, clips as
``clips.<index>.<field>``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from audio.models import AudioRequest
from campaigns import selectors as campaign_selectors
from campaigns.apis import workspace_for_create
from campaigns.models import Campaign, Universe
from media_assets import editor_services as services
from media_assets.apis import ERROR_SCHEMA
from media_assets.compositions import Composition, CompositionClip, Render
from media_assets.models import MediaAsset
from media_assets.render.presets import PRESETS
from mediastudio.lib.api import StudioPagination


class _Scoped(serializers.PrimaryKeyRelatedField):
    """An object of the requesting user's workspaces only (another tenant's id does not exist).
    ``missing`` is the message for an id that is not there (deleted meanwhile, or never yours)."""

    def __init__(self, *, missing: str = "Not found in your workspace: it may have been deleted.", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error_messages["does_not_exist"] = missing

    def get_queryset(self):
        return campaign_selectors.scoped(super().get_queryset(), user=self.context["request"].user)


def _flatten(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested errors ({"clips": [{}, {"out_point": [...]}]}) as {"clips.1.out_point": [...]}."""
    out: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            # A whole list's or item's error ("clips" is not a list) belongs to it, not to a field named non_field_errors.
            out.update(_flatten(value, prefix if key == "non_field_errors" and prefix else f"{prefix}{key}."))
    elif isinstance(errors, list) and errors and all(isinstance(e, (dict, list)) for e in errors):
        for index, value in enumerate(errors):
            out.update(_flatten(value, f"{prefix}{index}."))
    elif isinstance(errors, list):
        if errors:
            out[prefix.rstrip(".")] = [str(e) for e in errors]
    else:
        out[prefix.rstrip(".")] = [str(errors)]
    return out


def _valid(serializer: serializers.Serializer) -> dict[str, Any]:
    if not serializer.is_valid():
        raise serializers.ValidationError(_flatten(serializer.errors))
    return serializer.validated_data


# ---------------------------------------------------------------------------- serializers


class ClipInputSerializer(serializers.Serializer):
    asset = _Scoped(queryset=MediaAsset.objects.all(), help_text="A video or image asset of the composition's workspace.",
                    missing="This file is no longer in the library (deleted?): remove the clip or pick another file.")
    in_point = serializers.FloatField(required=False, default=0.0, min_value=0.0)
    out_point = serializers.FloatField(required=False, allow_null=True, default=None, help_text="Videos; empty: to the end.")
    duration = serializers.FloatField(required=False, allow_null=True, default=None, help_text="Images: seconds on screen.")
    fit = serializers.ChoiceField(choices=CompositionClip.Fit.choices, required=False, default="cover")
    focus_x = serializers.FloatField(required=False, default=0.5, min_value=0.0, max_value=1.0)
    focus_y = serializers.FloatField(required=False, default=0.5, min_value=0.0, max_value=1.0)
    motion = serializers.ChoiceField(choices=CompositionClip.Motion.choices, required=False, default="push_in")
    keep_audio = serializers.BooleanField(required=False, allow_null=True, default=None)
    layouts = serializers.DictField(child=serializers.DictField(), required=False, default=dict,
                                    help_text="Per preset key: {fit, focus: [x, y]} overriding the clip's own.")
    transition = serializers.ChoiceField(choices=CompositionClip.TransitionKind.choices, required=False, default="cut",
                                         help_text="Transition into the next clip (the last clip's: into the end card).")
    transition_duration = serializers.FloatField(required=False, default=0.5, min_value=0.1, max_value=3.0)
    transition_direction = serializers.ChoiceField(choices=CompositionClip.Direction.choices, required=False, default="left")


class CompositionInputSerializer(serializers.Serializer):
    workspace = serializers.IntegerField(required=False, write_only=True, help_text="On create; defaults to your only (or current) workspace.")
    title = serializers.CharField(max_length=200)
    campaign = _Scoped(queryset=Campaign.objects.all(), required=False, allow_null=True)
    universe = _Scoped(queryset=Universe.objects.all(), required=False, allow_null=True)
    presets = serializers.ListField(child=serializers.CharField(max_length=30), required=False,
                                    help_text=f"Preset keys: {', '.join(PRESETS)}.")
    clips = ClipInputSerializer(many=True, required=False, help_text="The whole timeline, in order (replaces it).")
    caption_request = _Scoped(queryset=AudioRequest.objects.all(), required=False, allow_null=True,
                              help_text="A voiceover or transcription request whose aligned words are the captions.")
    caption_asset = _Scoped(queryset=MediaAsset.objects.all(), required=False, allow_null=True, help_text="An SRT/WebVTT/ASS subtitle asset.")
    caption_mode = serializers.ChoiceField(choices=Composition.CaptionMode.choices, required=False)
    caption_border = serializers.ChoiceField(choices=Composition.CaptionBorder.choices, required=False)
    caption_position = serializers.ChoiceField(choices=Composition.CaptionPosition.choices, required=False)
    voiceover = _Scoped(queryset=MediaAsset.objects.all(), required=False, allow_null=True)
    voiceover_gain_db = serializers.FloatField(required=False)
    music = _Scoped(queryset=MediaAsset.objects.all(), required=False, allow_null=True)
    music_level_db = serializers.FloatField(required=False)
    music_duck = serializers.BooleanField(required=False)
    watermark = serializers.BooleanField(required=False)
    watermark_position = serializers.ChoiceField(choices=Composition.Corner.choices, required=False)
    watermark_opacity = serializers.FloatField(required=False)
    end_card_text = serializers.CharField(max_length=120, required=False, allow_blank=True)
    end_card_duration = serializers.FloatField(required=False)
    expected_updated_at = serializers.DateTimeField(
        required=False, write_only=True,
        help_text="On update: the updated_at you last read. When the composition was saved since, nothing "
                  "changes and the answer is 409 (code edit_conflict, with the current updated_at); omit it to overwrite.",
    )


class ClipAssetSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True, help_text="video or image")
    thumbnail_url = serializers.SerializerMethodField()
    strip_url = serializers.SerializerMethodField(help_text="A video's scrub strip: frames spread over its whole length.")

    class Meta:
        model = MediaAsset
        fields = ["id", "kind", "title", "original_name", "duration", "width", "height", "thumbnail_url", "strip_url"]
        read_only_fields = fields

    def get_thumbnail_url(self, obj) -> str | None:
        return f"/library/{obj.pk}/preview/thumbnail/" if obj.thumbnail else None

    def get_strip_url(self, obj) -> str | None:
        return f"/library/{obj.pk}/preview/scrub_strip/" if obj.scrub_strip else None


class ClipOutputSerializer(serializers.ModelSerializer):
    asset = serializers.IntegerField(source="asset_id", read_only=True)
    asset_info = ClipAssetSerializer(source="asset", read_only=True)

    class Meta:
        model = CompositionClip
        fields = ["position", "asset", "asset_info", "in_point", "out_point", "duration", "fit", "focus_x", "focus_y",
                  "motion", "keep_audio", "layouts", "transition", "transition_duration", "transition_direction"]
        read_only_fields = fields


class RenderOutputSerializer(serializers.ModelSerializer):
    job = serializers.UUIDField(source="job_id", read_only=True, allow_null=True)
    output = serializers.IntegerField(source="output_id", read_only=True, allow_null=True)
    output_url = serializers.SerializerMethodField()
    poster_url = serializers.SerializerMethodField()
    preset_label = serializers.CharField(read_only=True, help_text="The platform's name, e.g. \"YouTube 16:9\".")
    status = serializers.CharField(read_only=True, help_text="queued, running, succeeded, failed or canceled")

    class Meta:
        model = Render
        fields = ["id", "composition", "preset", "preset_label", "status", "job", "output", "output_url", "poster_url",
                  "error", "duration", "width", "height", "encoder", "wall_seconds", "created_at", "finished_at"]
        read_only_fields = fields

    def get_output_url(self, obj) -> str | None:
        return f"/library/{obj.output_id}/file/" if obj.output_id else None

    def get_poster_url(self, obj) -> str | None:
        return f"/library/{obj.output_id}/preview/poster/" if obj.output_id and obj.output.poster else None


class CompositionOutputSerializer(serializers.ModelSerializer):
    clips = ClipOutputSerializer(many=True, read_only=True)
    duration = serializers.SerializerMethodField()
    renders = serializers.SerializerMethodField()

    class Meta:
        model = Composition
        fields = [
            "id", "workspace", "title", "campaign", "universe", "presets", "clips", "duration",
            "caption_request", "caption_asset", "caption_mode", "caption_border", "caption_position",
            "voiceover", "voiceover_gain_db", "music", "music_level_db", "music_duck",
            "watermark", "watermark_position", "watermark_opacity", "end_card_text", "end_card_duration",
            "renders", "created_at", "updated_at",
        ]
        read_only_fields = fields

    def get_duration(self, obj) -> float | None:
        return services.composition_duration(composition=obj)

    @extend_schema_field(RenderOutputSerializer(many=True))
    def get_renders(self, obj) -> list[dict[str, Any]]:
        rows = obj.renders.select_related("output")[:20]
        return RenderOutputSerializer(rows, many=True).data


class RenderStartInputSerializer(serializers.Serializer):
    presets = serializers.ListField(child=serializers.CharField(max_length=30), required=False,
                                    help_text="Defaults to the composition's presets.")


class RenderStartOutputSerializer(serializers.Serializer):
    job = serializers.UUIDField()
    renders = RenderOutputSerializer(many=True)


class PresetOutputSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    fps = serializers.IntegerField()
    safe = serializers.DictField(child=serializers.IntegerField())


# ---------------------------------------------------------------------------- helpers


def _composition_queryset():
    return Composition.objects.select_related("workspace", "campaign", "universe").prefetch_related("clips__asset")


def _composition(request, pk, *, write: bool = False) -> Composition:
    return campaign_selectors.scoped_get(_composition_queryset(), user=request.user, write=write, pk=pk)


def _out(request, composition: Composition) -> dict[str, Any]:
    fresh = _composition_queryset().get(pk=composition.pk)
    return CompositionOutputSerializer(fresh, context={"request": request}).data


def _composition_input(request, *, partial: bool, workspace_of: Callable[[dict[str, Any]], int | None]) -> dict[str, Any]:
    """A create's or save's fields, validated. When some are malformed (a word for a number, an
    unknown choice), the well-formed ones still get the service's checks (ranges, workspaces, kinds
    of file, clip trims), so the one 400 names every problem instead of the next request finding
    the rest. ``workspace_of(fields)`` is the composition's workspace, None when it is unknown."""
    serializer = CompositionInputSerializer(data=request.data, partial=partial, context={"request": request})
    if serializer.is_valid():
        return dict(serializer.validated_data)
    errors = _flatten(serializer.errors)
    if isinstance(request.data, Mapping):
        well_formed = CompositionInputSerializer(
            data={k: v for k, v in request.data.items() if k not in serializer.errors}, partial=True,
            context={"request": request})
        workspace_id = workspace_of(dict(well_formed.validated_data)) if well_formed.is_valid() else None
        if workspace_id is not None:
            fields = {k: v for k, v in well_formed.validated_data.items() if k not in ("workspace", "expected_updated_at")}
            clips = [dict(c) for c in fields.pop("clips")] if "clips" in fields else None
            for key, messages in services.composition_input_errors(workspace_id=workspace_id, fields=fields,
                                                                   clips=clips).items():
                errors.setdefault(key, messages)
    raise serializers.ValidationError(errors)


def _create_workspace_id(request, fields: dict[str, Any]) -> int | None:
    """Where a create would go, if the request says it clearly and the user may write there."""
    try:
        return workspace_for_create(request, fields.get("workspace")).pk
    except (serializers.ValidationError, PermissionDenied):
        return None


# ---------------------------------------------------------------------------- views


class CompositionListApi(APIView):
    @extend_schema(
        operation_id="compositions_list",
        parameters=[OpenApiParameter("workspace", int), OpenApiParameter("campaign", int)],
        responses=CompositionOutputSerializer(many=True),
    )
    def get(self, request):
        qs = campaign_selectors.scoped(_composition_queryset(), user=request.user)
        for name in ("workspace", "campaign"):
            value = request.query_params.get(name, "")
            if value.isdigit():
                qs = qs.filter(**{name: int(value)})
        paginator = StudioPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(CompositionOutputSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(operation_id="compositions_create", request=CompositionInputSerializer, responses={201: CompositionOutputSerializer})
    def post(self, request):
        data = _composition_input(request, partial=False, workspace_of=lambda fields: _create_workspace_id(request, fields))
        workspace = workspace_for_create(request, data.pop("workspace", None))
        data.pop("expected_updated_at", None)  # nothing to be stale against yet
        title = data.pop("title")
        clips = [dict(c) for c in data.pop("clips", [])]
        with transaction.atomic():
            composition = services.composition_create(workspace=workspace, title=title, user=request.user, clips=clips, **data)
        return Response(_out(request, composition), status=status.HTTP_201_CREATED)


class CompositionDetailApi(APIView):
    @extend_schema(operation_id="compositions_retrieve", responses=CompositionOutputSerializer)
    def get(self, request, pk):
        return Response(_out(request, _composition(request, pk)))

    @extend_schema(operation_id="compositions_update", request=CompositionInputSerializer,
                   responses={200: CompositionOutputSerializer, 409: ERROR_SCHEMA})
    def patch(self, request, pk):
        composition = _composition(request, pk, write=True)
        data = _composition_input(request, partial=True, workspace_of=lambda fields: composition.workspace_id)
        data.pop("workspace", None)
        clips = [dict(c) for c in data.pop("clips")] if "clips" in data else None
        services.composition_update(composition=composition, clips=clips, **data)
        return Response(_out(request, composition))

    @extend_schema(operation_id="compositions_destroy", responses={204: None})
    def delete(self, request, pk):
        services.composition_delete(composition=_composition(request, pk, write=True))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CompositionRenderListApi(APIView):
    @extend_schema(operation_id="compositions_renders_list", responses=RenderOutputSerializer(many=True))
    def get(self, request, pk):
        composition = _composition(request, pk)
        rows = composition.renders.select_related("output")
        paginator = StudioPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(RenderOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="compositions_render",
        request=RenderStartInputSerializer,
        responses={202: RenderStartOutputSerializer},
        description="Queue one job that renders the chosen presets one after the other; follow it at /api/jobs/{job}/.",
    )
    def post(self, request, pk):
        composition = _composition(request, pk, write=True)
        data = _valid(RenderStartInputSerializer(data=request.data))
        job, renders = services.render_start(composition=composition, presets=data.get("presets"), user=request.user)
        body = {"job": job.pk, "renders": RenderOutputSerializer(renders, many=True).data}
        return Response(body, status=status.HTTP_202_ACCEPTED)


class RenderDetailApi(APIView):
    def _get(self, request, pk, *, write: bool = False) -> Render:
        return campaign_selectors.scoped_get(Render.objects.select_related("output", "composition"), user=request.user,
                                             write=write, path="composition__workspace", pk=pk)

    @extend_schema(operation_id="renders_retrieve", responses=RenderOutputSerializer)
    def get(self, request, pk):
        return Response(RenderOutputSerializer(self._get(request, pk)).data)

    @extend_schema(operation_id="renders_destroy", responses={204: None},
                   description="Delete the render and its output asset (kept when something else uses it).")
    def delete(self, request, pk):
        services.render_delete(render_row=self._get(request, pk, write=True))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PresetListApi(APIView):
    @extend_schema(operation_id="render_presets_list", responses=PresetOutputSerializer(many=True))
    def get(self, request):
        return Response([
            {"key": p.key, "label": p.label or p.key, "width": p.width, "height": p.height, "fps": p.fps,
             "safe": {"top": p.safe.top, "bottom": p.safe.bottom, "left": p.safe.left, "right": p.safe.right}}
            for p in PRESETS.values()
        ])

