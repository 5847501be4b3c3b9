"""Where the thing a job works on lives: its page and its API resource.

A job row is generic; what it makes belongs to an app (a video generation, an audio request, a
composition's renders, an uploaded file). Each app says, in its ``AppConfig.ready``, how to find
that for its kinds of job, so the generic job page and ``/api/jobs/<id>/`` can point there (the
provider log of a video job, the words of a voiceover, the cuts of a render) without this app
importing any of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from django.urls import reverse

from mediastudio.jobs.models import Job


@dataclass(frozen=True)
class JobSubject:
    label: str  # what the page shows, e.g. "the video generation"
    page: str  # the studio page (path)
    api: str  # the API resource (path)

    @classmethod
    def of(cls, label: str, pk: Any, *, page: str, api: str) -> JobSubject | None:
        """The subject at the URL names ``page`` and ``api`` for ``pk``; None when there is no ``pk``
        (what the job worked on is gone)."""
        if pk is None:
            return None
        return cls(label=label, page=reverse(page, args=[pk]), api=reverse(api, args=[pk]))

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


Finder = Callable[[Job], JobSubject | None]
_finders: dict[str, Finder] = {}


def register(*kinds: str, finder: Finder) -> None:
    """``finder(job)`` returns the job's subject, or None when it has none (any more)."""
    for kind in kinds:
        _finders[kind] = finder


def job_subject(job: Job) -> JobSubject | None:
    finder = _finders.get(job.kind)
    return finder(job) if finder is not None else None
