"""Task functions the job tests run (dotted paths stored on jobs)."""

from mediastudio.jobs.models import Job
from mediastudio.jobs.services import job_cancel
from mediastudio.lib.providers import ProviderError


def succeed(job, reporter):
    return {"ok": True}


def fail_permanently(job, reporter):
    raise ProviderError("the provider refused the prompt", permanent=True)


def fail_transiently(job, reporter):
    raise ProviderError("HTTP 503", permanent=False, retry_after=0)


def cancel_midway(job, reporter):
    reporter.progress(30, "working")
    job_cancel(job=Job.objects.get(pk=job.pk))
    reporter.progress(60, "still working")  # raises JobCanceled
    return {"unreachable": True}


def record_finalizer(job):
    Job.objects.filter(pk=job.pk).update(result={**job.result, "finalized_as": job.status})
