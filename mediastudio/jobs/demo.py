"""A demonstration job: counts through steps, reporting progress. Used by the Jobs page's
'Run a demo job' button and by the end-to-end test of worker-to-browser progress."""

from __future__ import annotations

import time

from mediastudio.jobs.models import Job
from mediastudio.jobs.services import JobReporter


def count_steps(job: Job, reporter: JobReporter) -> dict:
    steps = int(job.params.get("steps", 5))
    pause = float(job.params.get("pause", 0.3))
    for step in range(1, steps + 1):
        time.sleep(pause)
        reporter.interval = 0  # every step is reported
        reporter.progress(step * 100 // steps, f"Step {step} of {steps}")
    return {"steps": steps}
