"""Reads of audio requests and the media they use, scoped to the user's workspaces."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from audio.models import AudioRequest
from campaigns.selectors import scoped, scoped_get
from mediastudio.jobs.links import JobSubject


def audio_request_list(*, user: Any, workspace: Any = None, kind: str = "") -> QuerySet[AudioRequest]:
    qs = scoped(AudioRequest.objects.select_related("job", "asset", "source_asset", "campaign"), user=user)
    if workspace is not None:
        qs = qs.filter(workspace=workspace)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def audio_request_get(*, user: Any, pk: Any, write: bool = False) -> AudioRequest:
    """One request of the user's workspaces (404 otherwise; 403 for a viewer when write=True)."""
    return scoped_get(
        AudioRequest.objects.select_related("job", "asset", "source_asset", "campaign", "workspace"),
        user=user, write=write, pk=pk,
    )


def transcribable_assets(*, user: Any, workspace: Any) -> QuerySet:
    """Video and audio assets of the workspace that are ready (anything with sound can be transcribed)."""
    from media_assets.models import MediaAsset

    return scoped(MediaAsset.objects.filter(workspace=workspace, kind__in=["audio", "video"], status="ready"), user=user)


def music_assets(*, user: Any, workspace: Any) -> QuerySet:
    """The audio assets of the workspace that can be music beds: generated music and uploaded tracks
    alike, not the voiceovers the studio spoke (the editor still offers every sound as music)."""
    from audio.models import AudioRequest
    from media_assets.models import MediaAsset

    voiceovers = AudioRequest.objects.filter(workspace=workspace, kind="voiceover", asset__isnull=False).values("asset_id")
    return (scoped(MediaAsset.objects.filter(workspace=workspace, kind="audio", status="ready"), user=user)
            .exclude(pk__in=voiceovers).order_by("-created_at"))


def job_subject(job: Any) -> JobSubject | None:
    """An audio job's request: its page and API resource (mediastudio.jobs.links)."""
    return JobSubject.of(f"the {job.get_kind_display().lower()}",
                         AudioRequest.objects.filter(job=job).values_list("pk", flat=True).first(),
                         page="audio:detail", api="api-audio-job-detail")
