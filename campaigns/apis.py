"""REST API of workspaces, universes, elements and campaigns. Every query is scoped to the
requesting user's workspaces; another workspace's object is a 404; a viewer cannot write (403)."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns import selectors, services
from campaigns.models import (
    ASPECT_RATIO_CHOICES, FONT_NAME_MAX_LENGTH, PLATFORM_CHOICES, Campaign, Element, Universe, Workspace,
)
from media_assets.models import MediaAsset
from mediastudio.lib.api import StudioPagination


class WorkspaceOutputSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()

    class Meta:
        model = Workspace
        fields = ["id", "name", "slug", "role", "created_at"]

    def get_role(self, obj) -> str | None:
        return selectors.role_for(user=self.context["request"].user, workspace_id=obj.pk)


class WorkspaceListApi(APIView):
    @extend_schema(responses=WorkspaceOutputSerializer(many=True))
    def get(self, request):
        qs = selectors.workspace_list(user=request.user)
        return Response(WorkspaceOutputSerializer(qs, many=True, context={"request": request}).data)


def workspace_for_create(request, workspace_id) -> Workspace:
    """The workspace a new object goes into: the given id, else the session's, else the user's only one.
    The user must be allowed to write there; every app's create API uses this."""
    workspace_id = workspace_id or request.session.get("workspace_id")
    if workspace_id is None:
        workspaces = list(selectors.workspace_list(user=request.user)[:2])
        if len(workspaces) != 1:
            raise serializers.ValidationError({"workspace": ["Say which workspace (you belong to several)."]})
        workspace_id = workspaces[0].pk
    membership = selectors.membership_get(user=request.user, workspace_id=workspace_id)
    if membership is None:
        raise serializers.ValidationError({"workspace": ["No such workspace."]})
    selectors.require_write(user=request.user, workspace_id=membership.workspace_id)
    return membership.workspace


class _ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related object limited to the requesting user's workspaces (no probing of other tenants' ids)."""

    def __init__(self, *, scope_path: str = "workspace", **kwargs):
        self.scope_path = scope_path
        super().__init__(**kwargs)

    def get_queryset(self):
        return selectors.scoped(super().get_queryset(), user=self.context["request"].user, path=self.scope_path)


class UniverseSerializer(serializers.ModelSerializer):
    logo = _ScopedPrimaryKeyRelatedField(queryset=MediaAsset.objects.filter(kind="image"), required=False, allow_null=True)
    palette = serializers.ListField(child=serializers.RegexField(r"^#[0-9a-fA-F]{6}$"), required=False)
    # Each name's length is the model's rule (Universe.clean), which the form applies too.
    fonts = serializers.ListField(child=serializers.CharField(), required=False,
                                  help_text=f"Font family names, headline first; at most {FONT_NAME_MAX_LENGTH} characters each.")

    class Meta:
        model = Universe
        fields = ["id", "workspace", "name", "description", "style", "tone", "palette", "fonts", "logo", "created_at", "updated_at"]
        read_only_fields = ["workspace", "created_at", "updated_at"]


class ElementSerializer(serializers.ModelSerializer):
    universe = _ScopedPrimaryKeyRelatedField(queryset=Universe.objects.all())
    reference_assets = _ScopedPrimaryKeyRelatedField(queryset=MediaAsset.objects.all(), many=True, required=False)
    consent_valid = serializers.BooleanField(read_only=True)

    class Meta:
        model = Element
        fields = [
            "id", "universe", "kind", "name", "description", "reference_assets", "is_person",
            "consent_given_by", "consent_scope", "consent_expires_on", "consent_valid", "created_at", "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


class CampaignSerializer(serializers.ModelSerializer):
    universe = _ScopedPrimaryKeyRelatedField(queryset=Universe.objects.all(), required=False, allow_null=True)
    target_platforms = serializers.ListField(child=serializers.ChoiceField(choices=PLATFORM_CHOICES), required=False)
    aspect_ratios = serializers.ListField(child=serializers.ChoiceField(choices=ASPECT_RATIO_CHOICES), required=False)
    remaining = serializers.DecimalField(max_digits=12, decimal_places=4, read_only=True)

    class Meta:
        model = Campaign
        fields = [
            "id", "uuid", "workspace", "universe", "name", "brief", "objective", "target_platforms", "aspect_ratios",
            "budget", "currency", "spent", "reserved", "remaining", "status", "starts_on", "ends_on", "created_at", "updated_at",
        ]
        read_only_fields = ["uuid", "workspace", "spent", "reserved", "created_at", "updated_at"]


class _ListCreateApi(APIView):
    serializer_class: type[serializers.ModelSerializer]
    create_service = None

    def queryset(self, request):
        raise NotImplementedError

    def get(self, request):
        paginator = StudioPagination()
        page = paginator.paginate_queryset(self.queryset(request), request, view=self)
        return paginator.get_paginated_response(self.serializer_class(page, many=True, context={"request": request}).data)

    def post(self, request):
        serializer = self.serializer_class(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            obj = self.create(request, serializer.validated_data)
        return Response(self.serializer_class(obj, context={"request": request}).data, status=status.HTTP_201_CREATED)


class _DetailApi(APIView):
    serializer_class: type[serializers.ModelSerializer]
    scope_path = "workspace"

    def base_queryset(self):
        raise NotImplementedError

    def get_object(self, request, pk, *, write=False):
        return selectors.scoped_get(self.base_queryset(), user=request.user, write=write, path=self.scope_path, pk=pk)

    def get(self, request, pk):
        return Response(self.serializer_class(self.get_object(request, pk), context={"request": request}).data)

    def patch(self, request, pk):
        obj = self.get_object(request, pk, write=True)
        serializer = self.serializer_class(obj, data=request.data, partial=True, context={"request": request})
        serializer.is_valid(raise_exception=True)
        obj = self.update(obj, serializer.validated_data)
        return Response(self.serializer_class(obj, context={"request": request}).data)

    def delete(self, request, pk):
        obj = self.get_object(request, pk, write=True)
        obj.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


def _list_create_schema(name: str, serializer: type[serializers.Serializer]):
    return extend_schema_view(
        get=extend_schema(operation_id=f"{name}_list", responses=serializer(many=True)),
        post=extend_schema(operation_id=f"{name}_create", request=serializer, responses={201: serializer}),
    )


@_list_create_schema("universes", UniverseSerializer)
class UniverseListApi(_ListCreateApi):
    serializer_class = UniverseSerializer

    def queryset(self, request):
        return selectors.universe_list(user=request.user)

    def create(self, request, data):
        return services.universe_create(workspace=workspace_for_create(request, request.data.get("workspace")), **data)


class UniverseDetailApi(_DetailApi):
    serializer_class = UniverseSerializer

    def base_queryset(self):
        return Universe.objects.all()

    def update(self, obj, data):
        return services.universe_update(universe=obj, **data)


@_list_create_schema("elements", ElementSerializer)
class ElementListApi(_ListCreateApi):
    serializer_class = ElementSerializer

    def queryset(self, request):
        return selectors.element_list(user=request.user)

    def create(self, request, data):
        universe = data.pop("universe")
        selectors.require_write(user=request.user, workspace_id=universe.workspace_id)
        return services.element_create(universe=universe, **data)


class ElementDetailApi(_DetailApi):
    serializer_class = ElementSerializer
    scope_path = "universe__workspace"

    def base_queryset(self):
        return Element.objects.select_related("universe")

    def update(self, obj, data):
        if "universe" in data and data["universe"].workspace_id != obj.universe.workspace_id:
            raise serializers.ValidationError({"universe": ["An element cannot move to another workspace."]})
        return services.element_update(element=obj, **data)


@_list_create_schema("campaigns", CampaignSerializer)
class CampaignListApi(_ListCreateApi):
    serializer_class = CampaignSerializer

    def queryset(self, request):
        return selectors.campaign_list(user=request.user)

    def create(self, request, data):
        return services.campaign_create(workspace=workspace_for_create(request, request.data.get("workspace")), **data)


class CampaignDetailApi(_DetailApi):
    serializer_class = CampaignSerializer

    def base_queryset(self):
        return Campaign.objects.all()

    def update(self, obj, data):
        return services.campaign_update(campaign=obj, **data)
