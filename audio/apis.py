"""REST API of audio: voiceover and music generation, transcription, audio jobs, caption downloads
and the voices of a speech provider. Scoped to the requesting user's workspaces: another
workspace's request or asset is a 404; a viewer cannot start jobs (403)."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from audio import selectors, services
from audio.models import AudioRequest
from audio.providers.registry import (
    DEFAULT_MUSIC,
    DEFAULT_TRANSCRIPTION,
    DEFAULT_TTS,
    music_providers,
    transcription_providers,
    tts_providers,
)
from campaigns import selectors as tenancy
from campaigns.apis import workspace_for_create
from campaigns.models import Campaign
from media_assets.models import MediaAsset
from mediastudio.lib.api import StudioPagination, query_filters
from mediastudio.lib.exceptions import ApplicationError
from mediastudio.lib.providers import ProviderDisabled, ProviderError


class _ScopedField(serializers.PrimaryKeyRelatedField):
    """A related object of the requesting user's workspaces only (no probing other tenants' ids)."""

    def get_queryset(self):
        return tenancy.scoped(super().get_queryset(), user=self.context["request"].user)


class JobStateSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    progress = serializers.IntegerField()
    message = serializers.CharField()
    error = serializers.CharField()


class AudioRequestOutputSerializer(serializers.ModelSerializer):
    job = JobStateSerializer()
    # A plain string, not a choice field: its enum would collide with the other apps' "kind" enums.
    kind = serializers.CharField(read_only=True, help_text="voiceover | transcription | music")
    captions = serializers.SerializerMethodField()

    class Meta:
        model = AudioRequest
        fields = [
            "id", "kind", "provider", "workspace", "campaign", "job", "script", "voice", "language", "rate", "pitch",
            "mood", "duration", "seed", "tempo", "key", "source_asset", "asset", "alignment", "details", "captions",
            "created_at", "updated_at",
        ]

    def get_captions(self, obj) -> dict[str, str]:
        if not obj.words:
            return {}
        request = self.context.get("request")
        urls = {}
        for fmt in services.CAPTION_FORMATS:
            path = f"/api/audio/jobs/{obj.pk}/captions.{fmt}"
            urls[fmt] = request.build_absolute_uri(path) if request else path
        return urls


class WordSerializer(serializers.Serializer):
    text = serializers.CharField()
    start = serializers.FloatField()
    end = serializers.FloatField()
    matched = serializers.BooleanField(required=False)
    probability = serializers.FloatField(required=False, allow_null=True)


class AudioRequestDetailSerializer(AudioRequestOutputSerializer):
    words = WordSerializer(many=True)
    transcript = serializers.JSONField()

    class Meta(AudioRequestOutputSerializer.Meta):
        fields = [*AudioRequestOutputSerializer.Meta.fields, "transcript", "words"]


class AudioGenerateApi(APIView):
    class AudioGenerateInputSerializer(serializers.Serializer):
        type = serializers.ChoiceField(choices=["voiceover", "music"])
        workspace = serializers.IntegerField(required=False)
        campaign = _ScopedField(queryset=Campaign.objects.all(), required=False, allow_null=True)
        provider = serializers.CharField(
            required=False, max_length=40,
            help_text=f"voiceover: {' | '.join(tts_providers.entries)} (default {DEFAULT_TTS}); "
                      f"music: {' | '.join(music_providers.entries)} (default {DEFAULT_MUSIC}). Remote ones need their key.")
        idempotency_key = serializers.CharField(
            required=False, max_length=100, default="",
            help_text="Sending the same key and body again returns the request it made; the key with another "
                      "body is refused (422), and for another kind of request (409).")
        # voiceover
        script = serializers.CharField(required=False, trim_whitespace=True,
                                       help_text="voiceover: the words to speak (at least one word; at most "
                                                 "AUDIO_SCRIPT_MAX_CHARS characters, 5000 by default).")
        voice = serializers.CharField(required=False, max_length=80, default="",
                                      help_text="A voice id from GET /api/audio/voices; default: the language's voice.")
        language = serializers.CharField(required=False, max_length=20, default="", help_text="e.g. en, fr, pt-BR")
        rate = serializers.FloatField(required=False, min_value=0.25, max_value=450, allow_null=True,
                                      help_text="espeak: words per minute (80-450); remote: speed multiplier.")
        pitch = serializers.FloatField(required=False, min_value=0, max_value=100, allow_null=True)
        # music
        mood = serializers.IntegerField(required=False, min_value=0, max_value=100, help_text="0 calm ... 100 energetic")
        duration = serializers.FloatField(required=False, min_value=1, help_text="music: length in seconds (at least 1; "
                                                                                 "at most AUDIO_MUSIC_MAX_SECONDS, 300 by default)")
        seed = serializers.IntegerField(required=False, min_value=0, max_value=services.MAX_SEED, allow_null=True)
        tempo = serializers.FloatField(required=False, min_value=30, max_value=240, allow_null=True)
        key = serializers.CharField(required=False, max_length=20, default="", help_text="e.g. 'A minor'")

        def validate(self, data):
            if data["type"] == "voiceover" and not data.get("script"):
                raise serializers.ValidationError({"script": ["A voiceover needs a script."]})
            if data["type"] == "music":
                missing = {k: ["Required for music."] for k in ("mood", "duration") if data.get(k) is None}
                if missing:
                    raise serializers.ValidationError(missing)
            return data

    @extend_schema(operation_id="audio_generate", request=AudioGenerateInputSerializer,
                   responses={202: AudioRequestOutputSerializer})
    def post(self, request):
        serializer = self.AudioGenerateInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        workspace = workspace_for_create(request, data.get("workspace"))
        common = {"workspace": workspace, "user": request.user, "campaign": data.get("campaign"),
                  "idempotency_key": data.get("idempotency_key", "")}
        if data["type"] == "voiceover":
            audio_request = services.voiceover_request(
                **common, script=data["script"], voice=data.get("voice", ""), language=data.get("language", ""),
                rate=data.get("rate"), pitch=data.get("pitch"), provider=data.get("provider") or DEFAULT_TTS,
            )
        else:
            audio_request = services.music_request(
                **common, mood=data["mood"], duration=data["duration"], seed=data.get("seed"), tempo=data.get("tempo"),
                key=data.get("key", ""), provider=data.get("provider") or DEFAULT_MUSIC,
            )
        return Response(AudioRequestOutputSerializer(audio_request, context={"request": request}).data,
                        status=status.HTTP_202_ACCEPTED)


class AudioTranscribeApi(APIView):
    class AudioTranscribeInputSerializer(serializers.Serializer):
        asset = _ScopedField(queryset=MediaAsset.objects.all(), help_text="A video or audio asset.")
        script = serializers.CharField(required=False, default="", allow_blank=True,
                                       help_text="The words spoken, when known: captions then carry them exactly.")
        language = serializers.CharField(required=False, max_length=20, default="",
                                         help_text="e.g. en; the bundled Whisper model hears English only.")
        provider = serializers.CharField(required=False, max_length=40, default=DEFAULT_TRANSCRIPTION,
                                         help_text=" | ".join(transcription_providers.entries))
        idempotency_key = serializers.CharField(
            required=False, max_length=100, default="",
            help_text="Sending the same key and body again returns the request it made; the key with another "
                      "body is refused (422), and for another kind of request (409).")

    @extend_schema(operation_id="audio_transcribe", request=AudioTranscribeInputSerializer,
                   responses={202: AudioRequestOutputSerializer})
    def post(self, request):
        serializer = self.AudioTranscribeInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        asset = data["asset"]
        tenancy.require_write(user=request.user, workspace_id=asset.workspace_id)
        audio_request = services.transcription_request(
            workspace=asset.workspace, asset=asset, user=request.user, script=data["script"], language=data["language"],
            provider=data["provider"], idempotency_key=data["idempotency_key"],
        )
        return Response(AudioRequestOutputSerializer(audio_request, context={"request": request}).data,
                        status=status.HTTP_202_ACCEPTED)


class AudioJobListApi(APIView):
    @extend_schema(
        operation_id="audio_jobs_list",
        parameters=[OpenApiParameter("kind", str, enum=[k for k, _ in AudioRequest.Kind.choices]),
                    OpenApiParameter("workspace", int)],
        responses=AudioRequestOutputSerializer(many=True),
    )
    def get(self, request):
        filters = query_filters(request, choices={"kind": AudioRequest.Kind.values}, ids=("workspace",))
        kind = filters.pop("kind", "")
        qs = selectors.audio_request_list(user=request.user, kind=kind).filter(**filters)
        paginator = StudioPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(AudioRequestOutputSerializer(page, many=True, context={"request": request}).data)


class AudioJobDetailApi(APIView):
    @extend_schema(operation_id="audio_jobs_retrieve", responses=AudioRequestDetailSerializer)
    def get(self, request, pk):
        audio_request = selectors.audio_request_get(user=request.user, pk=pk)
        return Response(AudioRequestDetailSerializer(audio_request, context={"request": request}).data)


class AudioCaptionsApi(APIView):
    @extend_schema(
        operation_id="audio_jobs_captions",
        parameters=[OpenApiParameter("fmt", str, OpenApiParameter.PATH, enum=list(services.CAPTION_FORMATS))],
        responses={(200, "text/plain"): OpenApiTypes.STR},
    )
    def get(self, request, pk, fmt):
        audio_request = selectors.audio_request_get(user=request.user, pk=pk)
        return captions_response(audio_request=audio_request, fmt=fmt)


def captions_response(*, audio_request: AudioRequest, fmt: str) -> HttpResponse:
    body = services.captions_render(request=audio_request, fmt=fmt)
    response = HttpResponse(body, content_type=f"{services.CAPTION_CONTENT_TYPES[fmt]}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{services.captions_filename(request=audio_request, fmt=fmt)}"'
    return response


class VoiceSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    language = serializers.CharField()
    gender = serializers.CharField()


class AudioVoiceListApi(APIView):
    @extend_schema(
        operation_id="audio_voices_list",
        parameters=[OpenApiParameter("provider", str, enum=list(tts_providers.entries))],
        responses=VoiceSerializer(many=True),
    )
    def get(self, request):
        identifier = request.query_params.get("provider") or DEFAULT_TTS
        try:
            engine = tts_providers.get(identifier)
            voices = engine.list_voices()
        except ProviderDisabled as exc:
            raise ApplicationError(str(exc), code="provider_unavailable") from None
        except ProviderError as exc:
            raise ApplicationError(f"Cannot list voices: {exc}", code="provider_error", status_code=502) from None
        return Response(VoiceSerializer([v.to_dict() for v in voices], many=True).data)
