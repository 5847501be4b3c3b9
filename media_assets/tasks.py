"""Worker entry points: they load rows by id and delegate to services."""

from __future__ import annotations

from typing import Any

from media_assets import services
from media_assets.models import MediaAsset
from mediastudio.jobs.models import Job
from mediastudio.jobs.services import JobReporter


def ingest_run(job: Job, reporter: JobReporter) -> dict[str, Any]:
    """Job task (kind "ingest"): loudness and previews of one asset, with progress."""
    asset = MediaAsset.objects.select_related("workspace").get(pk=job.params["asset_id"])
    reporter.progress(5, "Reading the file")
    return services.asset_ingest(asset=asset, progress=reporter.progress)


def ingest_finalize(job: Job) -> None:
    """Runs in the transaction that ends the job: a failed or canceled ingest marks its asset failed."""
    if job.status in (Job.Status.FAILED, Job.Status.CANCELED):
        reason = job.error or ("The ingest was canceled." if job.status == Job.Status.CANCELED else "The ingest failed.")
        services.asset_ingest_failed(asset_id=job.params.get("asset_id"), reason=reason)


def cleanup_media() -> str:
    """Scheduled (daily): the retention cleanup."""
    return services.media_cleanup().summary()
