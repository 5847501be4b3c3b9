"""REST API of video generation. Scoped to the user's workspaces (404 for others, 403 for viewers).

Video jobs are addressed by their Job id (the id the jobs websocket and /api/jobs/ use).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponseRedirect
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns import selectors as campaign_selectors
from campaigns.apis import workspace_for_create
from campaigns.models import PLATFORM_CHOICES, Campaign, Element
from generation import selectors, services, strategy
from generation.models import VideoAttempt, VideoBatch, VideoGeneration
from media_assets.models import MediaAsset
from mediastudio.jobs.models import Job
from mediastudio.lib.api import StudioPagination, query_filters
from mediastudio.lib.exceptions import ApplicationError
from mediastudio.lib.providers import ProviderError

ASPECTS = list(strategy.ASPECT_RATIOS)
RESOLUTIONS = list(strategy.RESOLUTIONS)


class OptionField(serializers.CharField):
    """A choice documented in the help text (the same choice sets exist in campaigns' schema under other names)."""

    def __init__(self, *, options: list[str], **kwargs: Any) -> None:
        self.options = [str(o) for o in options]
        kwargs.setdefault("help_text", "One of: " + ", ".join(self.options) + ".")
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if value and value not in self.options:
            raise serializers.ValidationError(f"'{value}' is not one of {', '.join(self.options)}.")
        return value


PLATFORMS = [k for k, _ in PLATFORM_CHOICES]


# ---------------------------------------------------------------------------- helpers


class ScopedField(serializers.PrimaryKeyRelatedField):
    """A related object of the requesting user's workspaces only (no probing other tenants' ids)."""

    def __init__(self, *, scope_path: str = "workspace", **kwargs: Any) -> None:
        self.scope_path = scope_path
        super().__init__(**kwargs)

    def get_queryset(self) -> Any:
        return campaign_selectors.scoped(super().get_queryset(), user=self.context["request"].user, path=self.scope_path)


class VideoSpecSerializer(serializers.Serializer):
    """What one video is: the brief and its format, and who may make it."""

    prompt = serializers.CharField(max_length=2000)
    mood = serializers.FloatField(min_value=0, max_value=100, default=50)
    platform = OptionField(options=PLATFORMS, required=False, allow_blank=True, default="")
    aspect_ratio = OptionField(options=ASPECTS, required=False, allow_blank=True, default="")
    duration = serializers.FloatField(min_value=1, max_value=180, required=False, allow_null=True, default=None)
    resolution = serializers.ChoiceField(choices=RESOLUTIONS, default="720p")
    tier = OptionField(options=list(services.TIERS), required=False, allow_blank=True, default="")
    provider = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    model = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    allow_fallback = serializers.BooleanField(default=True)
    seed = serializers.IntegerField(min_value=0, max_value=2**31 - 1, default=0)
    camera_move = serializers.ChoiceField(choices=list(strategy.CAMERA_MOVES), required=False, allow_blank=True, default="")
    lighting = serializers.ChoiceField(choices=list(strategy.LIGHTINGS), required=False, allow_blank=True, default="")
    elements = ScopedField(queryset=Element.objects.all(), scope_path="universe__workspace", many=True, required=False)
    image_asset = ScopedField(queryset=MediaAsset.objects.filter(kind="image"), required=False, allow_null=True)
    last_frame_asset = ScopedField(queryset=MediaAsset.objects.filter(kind="image"), required=False, allow_null=True)
    reference_assets = ScopedField(queryset=MediaAsset.objects.filter(kind="image"), many=True, required=False)


class GroupInputSerializer(serializers.Serializer):
    workspace = serializers.IntegerField(required=False)
    campaign = ScopedField(queryset=Campaign.objects.all(), required=False, allow_null=True)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    dry_run = serializers.BooleanField(default=False, help_text="Only return the per-item and total estimates "
                                  "(with a campaign, its remaining budget and whether the total fits); start nothing.")


class AttemptOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = VideoAttempt
        fields = ["id", "chain_index", "retry", "provider", "model", "external_id", "status", "percent", "error", "error_code",
                  "retryable", "estimated_cost", "actual_cost", "polls", "poll_due_at", "created_at", "started_at", "finished_at"]


class GenerationOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="job_id", read_only=True)
    status = serializers.CharField(source="job.status", read_only=True)
    progress = serializers.IntegerField(source="job.progress", read_only=True)
    message = serializers.CharField(source="job.message", read_only=True)
    error = serializers.CharField(source="job.error", read_only=True)
    result_url = serializers.SerializerMethodField()
    attempts = AttemptOutputSerializer(many=True, read_only=True)
    batch = serializers.SerializerMethodField()
    warnings = serializers.SerializerMethodField(help_text="Deprecated models in the planned chain (with sunset and replacements).")
    provider_log = serializers.SerializerMethodField(
        help_text="Every provider tried or skipped, in order: {kind (attempt or skipped), provider, model, status, retry, "
        "percent, reason (the error, or why it was skipped), summary (what happened, in words), code, then (what the "
        "engine did next), estimated_cost, actual_cost, external_id}."
    )

    class Meta:
        model = VideoGeneration
        fields = [
            "id", "uuid", "status", "progress", "message", "error", "workspace", "campaign", "batch", "variant_index",
            "prompt", "enriched_prompt", "negative_prompt", "strategy", "mood", "platform", "aspect_ratio", "duration",
            "resolution", "seed", "tier", "provider", "model", "allow_fallback", "chain", "image_asset",
            "last_frame_asset", "result_asset", "result_url", "estimated_cost", "reserved_amount", "actual_cost",
            "idempotency_key", "attempts", "skipped", "provider_log", "warnings", "created_at", "updated_at",
        ]
        read_only_fields = ["skipped"]

    def get_provider_log(self, obj: VideoGeneration) -> list[dict[str, Any]]:
        return selectors.generation_provider_log(generation=obj)

    def get_warnings(self, obj: VideoGeneration) -> list[str]:
        return selectors.chain_warnings(obj.chain or [])

    def get_result_url(self, obj: VideoGeneration) -> str | None:
        if obj.result_asset_id is None:
            return None
        from media_assets.services import asset_stream_url

        try:
            return asset_stream_url(asset=obj.result_asset)
        except ApplicationError:
            return None

    def get_batch(self, obj: VideoGeneration) -> str | None:
        return str(obj.batch.job_id) if obj.batch_id else None


def _out(generation: VideoGeneration, *, code: int = 200) -> Response:
    generation = VideoGeneration.objects.select_related("job", "result_asset", "batch").get(pk=generation.pk)
    return Response(GenerationOutputSerializer(generation).data, status=code)


def _workspace_id(request: Any, campaign: Campaign | None) -> Any:
    # A campaign names its workspace: a user of several workspaces need not say it again (nor have it switched to).
    return request.data.get("workspace") or (campaign.workspace_id if campaign is not None else None)


def _spec_kwargs(data: dict[str, Any]) -> dict[str, Any]:
    out = dict(data)
    out["elements"] = list(out.get("elements") or [])
    out["reference_assets"] = list(out.get("reference_assets") or [])
    return out


# ---------------------------------------------------------------------------- generate and jobs


class VideoGenerateApi(APIView):
    class VideoGenerateInput(VideoSpecSerializer):
        workspace = serializers.IntegerField(required=False)
        campaign = ScopedField(queryset=Campaign.objects.all(), required=False, allow_null=True)
        idempotency_key = serializers.CharField(max_length=100, required=False, allow_blank=True, default="",
                                                help_text="Or the Idempotency-Key header.")
        wait = serializers.IntegerField(
            min_value=0, required=False, default=0,
            help_text="Seconds to wait for the video (at most VIDEO_GENERATE_MAX_WAIT, 60 by default): 200 with the "
            "finished job when it ends in time, else 202 with the job to poll.",
        )

        def validate_wait(self, value: int) -> int:
            bound = _max_wait()
            if value > bound:
                raise serializers.ValidationError(f"At most {bound} seconds; poll the job for longer renders.")
            return value

    @extend_schema(
        operation_id="video_generate",
        request=VideoGenerateInput,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
        responses={202: GenerationOutputSerializer, 200: GenerationOutputSerializer},
        description="Queue a video. The worst-case cost is reserved on the campaign first; a replay of the same "
        "Idempotency-Key and body returns the original job (200), another body with that key is a 422. "
        "With `wait`, the call returns once the job is final (200) or after `wait` seconds (202, still running). "
        "`warnings` names deprecated models in the planned chain; a retired model is refused (400, model_retired) "
        "with its retirement date and replacements.",
    )
    def post(self, request):
        serializer = self.VideoGenerateInput(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        workspace = workspace_for_create(request, _workspace_id(request, data.get("campaign")))
        key = request.headers.get("Idempotency-Key", "") or data.pop("idempotency_key", "")
        data.pop("idempotency_key", None)
        data.pop("workspace", None)
        wait = data.pop("wait", 0)
        generation, created = services.video_generation_create(
            workspace=workspace, user=request.user, idempotency_key=key[:100], **_spec_kwargs(data)
        )
        if wait:
            generation = services.video_generation_wait(generation=generation, timeout=wait)
            return _out(generation, code=status.HTTP_200_OK if generation.job.is_final else status.HTTP_202_ACCEPTED)
        return _out(generation, code=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK)


def _max_wait() -> int:
    from django.conf import settings

    return int(getattr(settings, "VIDEO_GENERATE_MAX_WAIT", 60))


class VideoJobListApi(APIView):
    @extend_schema(
        operation_id="video_jobs_list",
        parameters=[
            OpenApiParameter("status", str, enum=Job.Status.values),
            OpenApiParameter("campaign", int),
            OpenApiParameter("workspace", int),
        ],
        responses=GenerationOutputSerializer(many=True),
    )
    def get(self, request):
        filters = query_filters(request, choices={"status": Job.Status.values}, ids=("campaign", "workspace"))
        if "status" in filters:
            filters["job__status"] = filters.pop("status")
        qs = selectors.generation_list(user=request.user).prefetch_related("attempts").filter(**filters)
        paginator = StudioPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(GenerationOutputSerializer(page, many=True).data)


class VideoJobDetailApi(APIView):
    @extend_schema(operation_id="video_jobs_retrieve", responses=GenerationOutputSerializer)
    def get(self, request, job_id):
        return _out(selectors.generation_get(user=request.user, job_id=job_id))


class VideoJobCancelApi(APIView):
    @extend_schema(operation_id="video_jobs_cancel", request=None, responses=GenerationOutputSerializer)
    def post(self, request, job_id):
        generation = selectors.generation_get(user=request.user, job_id=job_id)
        campaign_selectors.require_write(user=request.user, workspace_id=generation.workspace_id)
        services.video_generation_cancel(generation=generation)
        return _out(generation)


class VideoJobRetryApi(APIView):
    @extend_schema(operation_id="video_jobs_retry", request=None, responses={202: GenerationOutputSerializer})
    def post(self, request, job_id):
        generation = selectors.generation_get(user=request.user, job_id=job_id)
        campaign_selectors.require_write(user=request.user, workspace_id=generation.workspace_id)
        services.video_generation_retry(generation=generation)
        return _out(generation, code=status.HTTP_202_ACCEPTED)


class VideoJobDownloadApi(APIView):
    @extend_schema(
        operation_id="video_jobs_download",
        responses={302: OpenApiResponse(description="Redirect to a short-lived URL of the MP4."),
                   409: OpenApiResponse(description="The video is not ready.")},
    )
    def get(self, request, job_id):
        generation = selectors.generation_get(user=request.user, job_id=job_id)
        if generation.result_asset_id is None:
            raise ApplicationError(f"The video is not ready (the job is {generation.job.status}).", code="not_ready", status_code=409)
        from media_assets.services import asset_stream_url

        return HttpResponseRedirect(asset_stream_url(asset=generation.result_asset))


# ---------------------------------------------------------------------------- groups


class BatchOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="job_id", read_only=True)
    status = serializers.CharField(source="job.status", read_only=True)
    progress = serializers.IntegerField(source="job.progress", read_only=True)
    message = serializers.CharField(source="job.message", read_only=True)
    jobs = serializers.SerializerMethodField()

    class Meta:
        model = VideoBatch
        fields = ["id", "uuid", "kind", "title", "status", "progress", "message", "campaign", "total_estimate", "jobs", "created_at"]

    def get_jobs(self, obj: VideoBatch) -> list[str]:
        return [str(j) for j in obj.generations.order_by("variant_index").values_list("job_id", flat=True)]


EstimateOutput = inline_serializer(
    "GroupEstimate",
    fields={
        "count": serializers.IntegerField(),
        "items": serializers.ListField(child=serializers.DecimalField(max_digits=12, decimal_places=4)),
        "total_estimate": serializers.DecimalField(max_digits=12, decimal_places=4),
        "remaining_budget": serializers.DecimalField(max_digits=12, decimal_places=4, required=False,
                                                     help_text="With a campaign: its budget less spent and reserved."),
        "fits": serializers.BooleanField(required=False,
                                         help_text="With a campaign: whether the total estimate fits its remaining budget."),
    },
)


class _GroupApi(APIView):
    kind = VideoBatch.Kind.BATCH
    InputSerializer: type[serializers.Serializer]

    def items(self, data: dict[str, Any], request: Any) -> list[dict[str, Any]]:
        raise NotImplementedError

    def post(self, request):
        serializer = self.InputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        campaign = data.pop("campaign", None)
        workspace = workspace_for_create(request, _workspace_id(request, campaign))
        items = self.items(data, request)
        if data.get("dry_run"):
            return Response(services.batch_estimate(items=items, campaign=campaign))
        batch = services.video_batch_create(workspace=workspace, items=items, kind=self.kind, title=data.get("title", ""),
                                            campaign=campaign, user=request.user, params={"count": len(items)})
        return Response(BatchOutputSerializer(batch).data, status=status.HTTP_202_ACCEPTED)


def _group_schema(name: str, input_serializer: type[serializers.Serializer], description: str):
    return extend_schema(operation_id=name, request=input_serializer,
                         responses={202: BatchOutputSerializer, 200: EstimateOutput}, description=description)


class _Common(serializers.Serializer):
    mood = serializers.FloatField(min_value=0, max_value=100, default=50)
    platform = OptionField(options=PLATFORMS, required=False, allow_blank=True, default="")
    aspect_ratio = OptionField(options=ASPECTS, required=False, allow_blank=True, default="")
    duration = serializers.FloatField(min_value=1, max_value=180, required=False, allow_null=True, default=None)
    resolution = serializers.ChoiceField(choices=RESOLUTIONS, default="720p")
    tier = OptionField(options=list(services.TIERS), required=False, allow_blank=True, default="")
    provider = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")


def _common(data: dict[str, Any]) -> dict[str, Any]:
    return {k: data[k] for k in ("mood", "platform", "aspect_ratio", "duration", "resolution", "tier", "provider") if k in data}


class VideoBatchApi(_GroupApi):
    class VideoBatchInput(GroupInputSerializer):
        items = VideoSpecSerializer(many=True)

    InputSerializer = VideoBatchInput

    def items(self, data, request):
        return [_spec_kwargs(dict(item)) for item in data["items"]]

    @_group_schema("video_batch", VideoBatchInput, "Many videos at once, with one grouped progress and a total estimate.")
    def post(self, request):
        return super().post(request)


class VideoVariantsApi(_GroupApi):
    kind = VideoBatch.Kind.VARIANTS

    class VideoVariantsInput(GroupInputSerializer, _Common):
        prompt = serializers.CharField(max_length=2000)
        count = serializers.IntegerField(min_value=1, max_value=strategy.MAX_VARIATIONS, default=3)
        seed = serializers.IntegerField(min_value=0, default=0)
        elements = ScopedField(queryset=Element.objects.all(), scope_path="universe__workspace", many=True, required=False)
        image_asset = ScopedField(queryset=MediaAsset.objects.filter(kind="image"), required=False, allow_null=True)

    InputSerializer = VideoVariantsInput

    def items(self, data, request):
        extra = {"elements": list(data.get("elements") or []), "image_asset": data.get("image_asset")}
        return services.variants_items(prompt=data["prompt"], count=data["count"], seed=data["seed"],
                                       **{**_common(data), **extra, "mood": data["mood"]})

    @_group_schema("video_variants", VideoVariantsInput, "N variations of one brief (camera, lighting, keywords, seed) for A/B tests.")
    def post(self, request):
        return super().post(request)


class VideoBrollApi(_GroupApi):
    kind = VideoBatch.Kind.BROLL

    class VideoBrollInput(GroupInputSerializer, _Common):
        scenes = serializers.ListField(child=serializers.CharField(max_length=1000), min_length=1, max_length=50)

    InputSerializer = VideoBrollInput

    def items(self, data, request):
        return services.broll_items(scenes=data["scenes"], **_common(data))

    @_group_schema("video_broll", VideoBrollInput, "One clip per scene description.")
    def post(self, request):
        return super().post(request)


class VideoProductApi(_GroupApi):
    kind = VideoBatch.Kind.PRODUCT

    class VideoProductInput(GroupInputSerializer, _Common):
        element = ScopedField(queryset=Element.objects.all(), scope_path="universe__workspace")
        prompt = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
        count = serializers.IntegerField(min_value=1, max_value=strategy.MAX_VARIATIONS, default=1)

    InputSerializer = VideoProductInput

    def items(self, data, request):
        return services.product_items(element=data["element"], prompt=data["prompt"], count=data["count"], **_common(data))

    @_group_schema("video_product", VideoProductInput, "Animate a product element's reference image with the strategy's camera moves.")
    def post(self, request):
        return super().post(request)


class VideoTransitionApi(_GroupApi):
    kind = VideoBatch.Kind.TRANSITION

    class VideoTransitionInput(GroupInputSerializer, _Common):
        from_asset = ScopedField(queryset=MediaAsset.objects.filter(kind="image"))
        to_asset = ScopedField(queryset=MediaAsset.objects.filter(kind="image"))
        prompt = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    InputSerializer = VideoTransitionInput

    def items(self, data, request):
        return services.transition_items(from_asset=data["from_asset"], to_asset=data["to_asset"], prompt=data["prompt"], **_common(data))

    @_group_schema("video_transition", VideoTransitionInput, "A clip from one shot's frame to another's (first and last frame).")
    def post(self, request):
        return super().post(request)


# ---------------------------------------------------------------------------- catalogue, estimate, strategy


class VideoProvidersApi(APIView):
    @extend_schema(
        operation_id="video_providers",
        responses=inline_serializer("VideoProviders", fields={
            "providers": serializers.ListField(child=serializers.DictField()),
            "tiers": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
            "recommendations": serializers.ListField(child=serializers.DictField()),
        }),
    )
    def get(self, request):
        return Response({"providers": selectors.provider_catalogue(), "tiers": services.tier_chains(),
                         "recommendations": selectors.USE_RECOMMENDATIONS})


class VideoProviderJobsApi(APIView):
    @extend_schema(
        operation_id="video_provider_jobs",
        parameters=[OpenApiParameter("limit", int, description="1-100, default 20.")],
        responses={
            200: inline_serializer("VideoProviderJobs", fields={
                "provider": serializers.CharField(), "jobs": serializers.ListField(child=serializers.DictField()),
            }),
            400: OpenApiResponse(description="The provider has no job listing, is unknown or is not enabled."),
        },
        description="The provider's recent jobs as its API lists them. A job started from one of your workspaces "
        "carries its studio job id and prompt; others (other workspaces, or outside the studio) only their id, "
        "state, model and time.",
    )
    def get(self, request, provider):
        raw = request.query_params.get("limit", "20")
        if not raw.isdigit() or not 1 <= int(raw) <= 100:
            raise serializers.ValidationError({"limit": ["An integer from 1 to 100."]})
        jobs = selectors.provider_jobs(user=request.user, provider=provider, limit=int(raw))
        return Response({"provider": provider, "jobs": jobs})


class VideoModelsApi(APIView):
    @extend_schema(
        operation_id="video_models",
        parameters=[OpenApiParameter("provider", str), OpenApiParameter("include_retired", bool)],
        responses=inline_serializer("VideoModels", fields={"models": serializers.ListField(child=serializers.DictField())}),
    )
    def get(self, request):
        wanted = request.query_params.get("provider", "")
        retired = request.query_params.get("include_retired", "").lower() in ("1", "true", "yes")
        models = [
            {**m, "provider_enabled": p["enabled"]}
            for p in selectors.provider_catalogue() if not wanted or p["identifier"] == wanted
            for m in p["models"] if retired or m["lifecycle"]["status"] != "retired"
        ]
        return Response({"models": models})


class VideoEstimateApi(APIView):
    class VideoEstimateQuery(serializers.Serializer):
        prompt = serializers.CharField(max_length=2000, required=False, default="a product shot")
        mood = serializers.FloatField(min_value=0, max_value=100, default=50)
        platform = OptionField(options=PLATFORMS, required=False, allow_blank=True, default="")
        aspect_ratio = OptionField(options=ASPECTS, required=False, allow_blank=True, default="")
        duration = serializers.FloatField(min_value=1, max_value=180, required=False, allow_null=True, default=None)
        resolution = serializers.ChoiceField(choices=RESOLUTIONS, default="720p")
        tier = OptionField(options=list(services.TIERS), required=False, allow_blank=True, default="")
        provider = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
        model = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
        allow_fallback = serializers.BooleanField(default=True)
        image = serializers.BooleanField(default=False, help_text="The request has a first-frame image.")
        campaign = serializers.IntegerField(required=False)

    @extend_schema(
        operation_id="video_estimate_cost",
        parameters=[VideoEstimateQuery],
        responses=inline_serializer("VideoEstimate", fields={
            "tier": serializers.CharField(), "estimate": serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True),
            "worst_case": serializers.DecimalField(max_digits=12, decimal_places=4), "provider": serializers.CharField(allow_null=True),
            "model": serializers.CharField(allow_null=True), "chain": serializers.ListField(child=serializers.DictField()),
            "skipped": serializers.ListField(child=serializers.DictField()), "duration": serializers.FloatField(),
            "aspect_ratio": serializers.CharField(),
            "warnings": serializers.ListField(child=serializers.CharField()),
            "budget": serializers.DictField(required=False),
        }),
    )
    def get(self, request):
        query = self.VideoEstimateQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = dict(query.validated_data)
        campaign_id = data.pop("campaign", None)
        campaign = None
        if campaign_id is not None:
            campaign = campaign_selectors.scoped_get(Campaign.objects.select_related("universe"), user=request.user, pk=campaign_id)
        estimate = services.video_estimate(universe=getattr(campaign, "universe", None), **data)
        body = estimate.to_dict()
        body["warnings"] = selectors.chain_warnings(body["chain"])
        if campaign is not None:
            body["budget"] = {"budget": str(campaign.budget), "spent": str(campaign.spent), "reserved": str(campaign.reserved),
                              "remaining": str(campaign.remaining),
                              "fits": estimate.worst_case <= campaign.remaining}
        return Response(body)


class VideoStrategyApi(APIView):
    class VideoStrategyInput(serializers.Serializer):
        prompt = serializers.CharField(max_length=2000)
        mood = serializers.FloatField(min_value=0, max_value=100, default=50)
        count = serializers.IntegerField(min_value=1, max_value=strategy.MAX_VARIATIONS, default=3)
        seed = serializers.IntegerField(min_value=0, default=0)
        platform = OptionField(options=PLATFORMS, required=False, allow_blank=True, default="")
        aspect_ratio = OptionField(options=ASPECTS, required=False, allow_blank=True, default="")
        duration = serializers.FloatField(min_value=1, max_value=180, required=False, allow_null=True, default=None)
        campaign = ScopedField(queryset=Campaign.objects.all(), required=False, allow_null=True)
        elements = ScopedField(queryset=Element.objects.all(), scope_path="universe__workspace", many=True, required=False)

    @extend_schema(
        operation_id="video_strategy",
        request=VideoStrategyInput,
        responses=inline_serializer("VideoStrategy", fields={
            "suggestion": serializers.DictField(), "variations": serializers.ListField(child=serializers.DictField()),
        }),
        description="The mood's category with its camera moves and lighting, and N distinct shot strategies.",
    )
    def post(self, request):
        serializer = self.VideoStrategyInput(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        d = serializer.validated_data
        campaign = d.get("campaign")
        elements = list(d.get("elements") or [])
        universe = getattr(campaign, "universe", None) or (elements[0].universe if elements else None)
        try:
            variations = strategy.strategy_variations(
                prompt=d["prompt"], mood=d["mood"], count=d["count"], seed=d["seed"], platform=d["platform"] or None,
                aspect_ratio=d["aspect_ratio"] or None, duration=d["duration"], tone=getattr(universe, "tone", "") or "",
                palette=list(getattr(universe, "palette", None) or []),
                element_descriptions=[e.description for e in elements if e.description],
            )
        except ValueError as exc:
            raise ApplicationError(str(exc), code="invalid") from None
        return Response({"suggestion": strategy.suggest(d["mood"]), "variations": [v.to_dict() for v in variations]})


class VideoRemixApi(APIView):
    class VideoRemixInput(serializers.Serializer):
        job = serializers.UUIDField(help_text="The finished video job to remix.")
        prompt = serializers.CharField(max_length=2000)
        idempotency_key = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    @extend_schema(operation_id="video_remix", request=VideoRemixInput, responses={202: GenerationOutputSerializer, 200: GenerationOutputSerializer})
    def post(self, request):
        serializer = self.VideoRemixInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        source = selectors.generation_get(user=request.user, job_id=serializer.validated_data["job"])
        campaign_selectors.require_write(user=request.user, workspace_id=source.workspace_id)
        if source.result_asset_id is None:
            raise ApplicationError("Only a finished video can be remixed.", code="not_ready", status_code=409)
        key = request.headers.get("Idempotency-Key", "") or serializer.validated_data["idempotency_key"]
        generation, created = services.video_generation_create(
            workspace=source.workspace, user=request.user, campaign=source.campaign,
            prompt=serializer.validated_data["prompt"], mood=source.mood, aspect_ratio=source.aspect_ratio,
            duration=source.duration, resolution=source.resolution, tier=source.tier, remix_of=source,
            idempotency_key=key[:100],
        )
        return _out(generation, code=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK)


class VideoWebhookApi(APIView):
    """Provider callbacks. No session: trust comes only from the provider's signature."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="video_webhook",
        request=OpenApiTypes.BINARY,
        responses={
            200: inline_serializer("WebhookAck", fields={"outcome": serializers.CharField()}),
            400: OpenApiResponse(description="Bad signature or body."),
        },
        auth=[],
    )
    def post(self, request, provider):
        body = request.body
        try:
            outcome = services.video_webhook_receive(provider=provider, headers=request.headers, body=body)
        except ProviderError as exc:
            raise ApplicationError(str(exc), code=exc.code or "invalid", status_code=400) from None
        except ApplicationError as exc:
            raise ApplicationError(exc.message, code=exc.code, status_code=404) from None
        return Response({"outcome": outcome})

