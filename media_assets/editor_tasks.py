"""Worker entry points of the editor's render jobs: load, delegate to editor_services."""

from __future__ import annotations

from typing import Any

from media_assets import editor_services


def render_run(job: Any, reporter: Any) -> dict[str, Any]:
    return editor_services.render_execute(job=job, reporter=reporter)


def render_finalize(job: Any) -> None:
    editor_services.render_finalize(job=job)
