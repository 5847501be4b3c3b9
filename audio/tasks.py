"""Worker entry points of audio jobs: `fn(job, reporter)`, named by the Job's `task`. They load the
request row and delegate to a service; the returned dict becomes the job's result."""

from __future__ import annotations

from typing import Any

from audio import services
from audio.models import AudioRequest
from mediastudio.jobs.models import Job
from mediastudio.jobs.services import JobReporter


def _request(job: Job) -> AudioRequest:
    return AudioRequest.objects.select_related("workspace", "campaign", "source_asset", "created_by").get(job=job)


def voiceover_run(job: Job, reporter: JobReporter) -> dict[str, Any]:
    return services.voiceover_execute(request=_request(job), reporter=reporter)


def transcription_run(job: Job, reporter: JobReporter) -> dict[str, Any]:
    return services.transcription_execute(request=_request(job), reporter=reporter)


def music_run(job: Job, reporter: JobReporter) -> dict[str, Any]:
    return services.music_execute(request=_request(job), reporter=reporter)
