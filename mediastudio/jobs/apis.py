from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.selectors import require_write
from mediastudio.jobs import selectors
from mediastudio.jobs.links import job_subject
from mediastudio.jobs.models import Job
from mediastudio.jobs.services import IllegalTransition, job_cancel, job_retry
from mediastudio.lib.api import StudioPagination, query_filters
from mediastudio.lib.exceptions import Conflict


class JobOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Job
        fields = [
            "id", "kind", "title", "status", "progress", "message", "error", "attempts", "max_attempts",
            "estimated_cost", "actual_cost", "workspace", "campaign", "parent", "result",
            "created_at", "started_at", "finished_at", "updated_at",
        ]


class JobSubjectSerializer(serializers.Serializer):
    label = serializers.CharField()
    page = serializers.CharField(help_text="The studio page of what the job works on.")
    api = serializers.CharField(help_text="Its API resource: a video job's provider log, an audio job's words, "
                                "a render's cuts, an uploaded file's checks.")


class JobDetailOutputSerializer(JobOutputSerializer):
    subject = serializers.SerializerMethodField()

    class Meta(JobOutputSerializer.Meta):
        fields = [*JobOutputSerializer.Meta.fields, "subject"]

    @extend_schema_field(JobSubjectSerializer(allow_null=True))
    def get_subject(self, obj: Job) -> dict[str, str] | None:
        subject = job_subject(obj)
        return subject.to_dict() if subject is not None else None


class JobListApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=[s for s, _ in Job.Status.choices]),
            OpenApiParameter("kind", str, enum=[k for k, _ in Job.Kind.choices]),
            OpenApiParameter("workspace", int),
            OpenApiParameter("campaign", int),
        ],
        responses=JobOutputSerializer(many=True),
    )
    def get(self, request):
        filters = query_filters(request, choices={"status": Job.Status.values, "kind": Job.Kind.values},
                                ids=("workspace", "campaign"))
        qs = selectors.job_list(user=request.user).filter(**filters)  # a foreign key matches its id
        paginator = StudioPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(JobOutputSerializer(page, many=True).data)


class JobDetailApi(APIView):
    @extend_schema(responses=JobDetailOutputSerializer)
    def get(self, request, job_id):
        return Response(JobDetailOutputSerializer(selectors.job_get(user=request.user, job_id=job_id)).data)


class JobCancelApi(APIView):
    @extend_schema(request=None, responses=JobOutputSerializer)
    def post(self, request, job_id):
        job = selectors.job_get(user=request.user, job_id=job_id)
        require_write(user=request.user, workspace_id=job.workspace_id)
        try:
            job = job_cancel(job=job)
        except IllegalTransition as exc:
            raise Conflict(f"A {exc.current} job cannot be canceled.") from None
        return Response(JobOutputSerializer(job).data)


class JobRetryApi(APIView):
    @extend_schema(request=None, responses=JobOutputSerializer)
    def post(self, request, job_id):
        job = selectors.job_get(user=request.user, job_id=job_id)
        require_write(user=request.user, workspace_id=job.workspace_id)
        try:
            job = job_retry(job=job)
        except IllegalTransition as exc:
            raise Conflict(f"A {exc.current} job cannot be retried.") from None
        return Response(JobOutputSerializer(job).data)
