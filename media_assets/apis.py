"""REST API of the media library. Every query is scoped to the requesting user's workspaces;
another workspace's asset is a 404; a viewer cannot write (403); a refused upload is a 400 whose
error names the reason; deleting a referenced asset is a 409."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns import selectors as campaign_selectors
from campaigns.apis import workspace_for_create
from campaigns.models import Campaign, Element
from media_assets import selectors, services
from media_assets.forms import AssetListFilterForm
from media_assets.models import MediaAsset
from media_assets.storage import install_upload_handler
from media_assets.validation import MediaRejected
from mediastudio.lib.api import StudioPagination
from mediastudio.lib.exceptions import ApplicationError


class _ScopedRelated(serializers.PrimaryKeyRelatedField):
    """A campaign or element of the requesting user's workspaces only (no probing other tenants' ids)."""

    def __init__(self, *, scope_path: str = "workspace", **kwargs):
        self.scope_path = scope_path
        super().__init__(**kwargs)

    def get_queryset(self):
        return campaign_selectors.scoped(super().get_queryset(), user=self.context["request"].user, path=self.scope_path)


class AssetOutputSerializer(serializers.ModelSerializer):
    ingest_job = serializers.UUIDField(source="ingest_job_id", read_only=True, allow_null=True)
    file_url = serializers.SerializerMethodField()
    previews = serializers.SerializerMethodField()

    class Meta:
        model = MediaAsset
        fields = [
            "id", "uuid", "workspace", "kind", "source", "status", "title", "original_name", "mime", "size",
            "sha256", "duration", "width", "height", "fps", "video_codec", "audio_codec", "bitrate",
            "audio_channels", "loudness_lufs", "tags", "campaign", "element", "preview_error", "ingest_job",
            "file_url", "previews", "metadata", "created_at", "updated_at",
        ]
        read_only_fields = fields

    def get_file_url(self, obj) -> str:
        return self.context["request"].build_absolute_uri(f"/library/{obj.pk}/file/")

    def get_previews(self, obj) -> dict[str, str]:
        request = self.context["request"]
        return {
            variant: request.build_absolute_uri(f"/library/{obj.pk}/preview/{variant}/")
            for variant in services.PREVIEW_FIELDS
            if getattr(obj, variant)
        }


class AssetUploadOutputSerializer(AssetOutputSerializer):
    duplicate = serializers.SerializerMethodField(help_text="The same bytes were already in the workspace: this is that asset.")
    note = serializers.SerializerMethodField(help_text="For a duplicate, what the upload added to it (tags, a campaign) or kept.")

    class Meta(AssetOutputSerializer.Meta):
        fields = [*AssetOutputSerializer.Meta.fields, "duplicate", "note"]
        read_only_fields = fields

    def get_duplicate(self, obj) -> bool:
        return not self.context["upload"].created

    def get_note(self, obj) -> str:
        return self.context["upload"].note


class AssetUploadInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The media file (video, audio, PNG/JPEG/WebP image), validated by content.")
    workspace = serializers.IntegerField(required=False, help_text="Defaults to your only (or current) workspace.")
    campaign = _ScopedRelated(queryset=Campaign.objects.all(), required=False, allow_null=True)
    element = _ScopedRelated(queryset=Element.objects.all(), scope_path="universe__workspace", required=False, allow_null=True)
    tags = serializers.CharField(required=False, allow_blank=True, help_text="Comma-separated tags.")


class AssetUpdateInputSerializer(serializers.Serializer):
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)
    tags = serializers.ListField(child=serializers.CharField(max_length=40), required=False, max_length=30)
    campaign = _ScopedRelated(queryset=Campaign.objects.all(), required=False, allow_null=True)
    element = _ScopedRelated(queryset=Element.objects.all(), scope_path="universe__workspace", required=False, allow_null=True)


class AssetDownloadOutputSerializer(serializers.Serializer):
    url = serializers.URLField()
    expires_in = serializers.IntegerField(help_text="Seconds the URL stays valid.")
    variant = serializers.CharField()


ERROR_SCHEMA = inline_serializer(
    "AssetError",
    {"error": inline_serializer("AssetErrorBody", {"code": serializers.CharField(), "message": serializers.CharField(), "fields": serializers.DictField()})},
)
LIST_FILTERS = [
    OpenApiParameter("kind", str, enum=MediaAsset.Kind.values),
    OpenApiParameter("source", str, enum=MediaAsset.Source.values),
    OpenApiParameter("status", str, enum=MediaAsset.Status.values),
    OpenApiParameter("campaign", int),
    OpenApiParameter("element", int),
    OpenApiParameter("workspace", int),
    OpenApiParameter("tag", str),
    OpenApiParameter("q", str, description="Search in title, file name and tags."),
]


class AssetListApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    def initialize_request(self, request, *args, **kwargs):
        # Uploads stream to disk under the byte cap, whatever reads the body first (CSRF, the parser).
        self.upload_handler = install_upload_handler(request) if request.method == "POST" else None
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(operation_id="assets_list", parameters=LIST_FILTERS, responses={200: AssetOutputSerializer(many=True), 400: ERROR_SCHEMA})
    def get(self, request):
        filters = AssetListFilterForm(request.query_params, user=request.user)
        if not filters.is_valid():
            raise serializers.ValidationError({name: list(errors) for name, errors in filters.errors.items()})
        data = filters.cleaned_data
        qs = selectors.asset_list(
            user=request.user,
            workspace=data["workspace"],
            kind=data["kind"],
            source=data["source"],
            status=data["status"],
            campaign=data["campaign"],
            element=data["element"],
            tag=data["tag"],
            search=data["q"],
        )
        paginator = StudioPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(AssetOutputSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(
        operation_id="assets_upload",
        request={"multipart/form-data": AssetUploadInputSerializer},
        responses={201: AssetUploadOutputSerializer, 200: AssetUploadOutputSerializer, 400: ERROR_SCHEMA},
        description=(
            "Upload one file. The same bytes already in the workspace return the existing asset (200, `duplicate`), "
            "with the upload's tags added and its campaign and element set where it had none (`note` says what changed)."
        ),
    )
    def post(self, request):
        data = request.data  # parses the body through the capped handler
        if self.upload_handler is not None and self.upload_handler.refused:
            raise ApplicationError(self.upload_handler.refused, code="media_rejected", extra={"reason": "too_big"})
        serializer = AssetUploadInputSerializer(data=data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        validated = serializer.validated_data
        workspace = workspace_for_create(request, validated.get("workspace"))
        try:
            result = services.asset_ingest_upload(
                workspace=workspace,
                uploaded_file=validated["file"],
                user=request.user,
                campaign=validated.get("campaign"),
                element=validated.get("element"),
                tags=[validated.get("tags", "")],
            )
        except MediaRejected as exc:
            raise ApplicationError(exc.message, code="media_rejected", extra={"reason": exc.reason_code}) from exc
        return Response(
            AssetUploadOutputSerializer(result.asset, context={"request": request, "upload": result}).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


class AssetDetailApi(APIView):
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def _get(self, request, pk, *, write=False) -> MediaAsset:
        return campaign_selectors.scoped_get(MediaAsset.objects.select_related("workspace"), user=request.user, write=write, pk=pk)

    @extend_schema(operation_id="assets_retrieve", responses=AssetOutputSerializer)
    def get(self, request, pk):
        return Response(AssetOutputSerializer(self._get(request, pk), context={"request": request}).data)

    @extend_schema(operation_id="assets_update", request=AssetUpdateInputSerializer, responses=AssetOutputSerializer)
    def patch(self, request, pk):
        asset = self._get(request, pk, write=True)
        serializer = AssetUpdateInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        asset = services.asset_update(
            asset=asset,
            title=data.get("title"),
            tags=data.get("tags"),
            campaign=data["campaign"] if "campaign" in data else ...,
            element=data["element"] if "element" in data else ...,
        )
        return Response(AssetOutputSerializer(asset, context={"request": request}).data)

    @extend_schema(operation_id="assets_destroy", responses={204: None, 409: ERROR_SCHEMA})
    def delete(self, request, pk):
        services.asset_delete(asset=self._get(request, pk, write=True))
        return Response(status=status.HTTP_204_NO_CONTENT)


class AssetDownloadApi(APIView):
    @extend_schema(
        operation_id="assets_download_url",
        parameters=[OpenApiParameter("variant", str, enum=list(services.VARIANTS), description="Default: file.")],
        responses=AssetDownloadOutputSerializer,
        description="A short-lived URL of the file or a preview (a signed S3 URL, or a signed streaming URL).",
    )
    def get(self, request, pk):
        asset = campaign_selectors.scoped_get(MediaAsset.objects.all(), user=request.user, pk=pk)
        variant = request.query_params.get("variant", "file")
        if variant not in services.VARIANTS:
            raise serializers.ValidationError({"variant": [f"One of: {', '.join(services.VARIANTS)}."]})
        expire = services.stream_url_lifetime()
        url = services.asset_stream_url(asset=asset, variant=variant, expire=expire)
        return Response({"url": request.build_absolute_uri(url), "expires_in": expire, "variant": variant})
