"""Jobs of the providers that render on this installation's own workers (animatic, diffusers).

The provider's submit makes a job folder holding request.json and status.json and enqueues a
worker task; the task reports into status.json and writes output.mp4; poll reads status.json;
cancel drops a ``cancel`` file the task checks between steps; download copies output.mp4.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from generation.providers.base import CANCELED, FAILED, QUEUED, RUNNING, SUCCEEDED, PollResult, VideoProvider
from mediastudio.lib.providers import ProviderError

STATE_MAP = {"queued": QUEUED, "running": RUNNING, "succeeded": SUCCEEDED, "failed": FAILED, "canceled": CANCELED}
PROGRESS_EVERY = 0.5  # seconds between status writes while rendering


def write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)  # a poll never reads half a file


def read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def job_folder(base: Path, external_id: str, *, label: str) -> Path:
    """The folder of one job under ``base``; the id is ours (hex), never a path from outside."""
    if not external_id or not all(c.isalnum() or c == "-" for c in external_id):
        raise ProviderError(f"Not a {label} job id: {external_id!r}.", permanent=True, code="unknown_job")
    return base / external_id


class JobStatus:
    """The worker side: what a render task writes into its job's status.json."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / "status.json"
        self._last = 0.0

    def set(self, state: str, percent: int = 0, message: str = "", error: str = "") -> None:
        data: dict[str, Any] = {"state": state, "percent": int(percent), "message": message}
        if error:
            data["error"] = error[:1000]
        write_json(self.path, data)

    def progress(self, percent: int, message: str) -> None:
        """Running at ``percent``: written at most every PROGRESS_EVERY seconds, and at 100."""
        now = time.monotonic()
        if now - self._last >= PROGRESS_EVERY or percent >= 100:
            self._last = now
            self.set("running", percent, message)

    def cancel_requested(self) -> bool:
        return (self.folder / "cancel").exists()


class LocalJobProvider(VideoProvider):
    """poll, cancel and download for a provider whose jobs live in folders under ``work_dir()``."""

    job_label: ClassVar[str] = "Local"

    @classmethod
    def work_dir(cls) -> Path:
        raise NotImplementedError

    def job_dir(self, external_id: str) -> Path:
        return job_folder(self.work_dir(), external_id, label=self.job_label)

    def poll(self, external_id: str) -> PollResult:
        folder = self.job_dir(external_id)
        status = read_json(folder / "status.json")
        if not status:
            raise ProviderError(f"{self.job_label} job {external_id} is unknown (its folder is gone).", permanent=True,
                                code="unknown_job")
        state = STATE_MAP.get(str(status.get("state")), QUEUED)
        error = None
        if state == FAILED:
            error = ProviderError(f"{self.job_label}: {status.get('error') or 'render failed'}", permanent=True, code="render_failed")
        return PollResult(
            state=state,
            percent=int(status.get("percent") or 0),
            message=str(status.get("message") or ""),
            result_urls=[],
            error=error,
            actual_cost=Decimal("0") if state == SUCCEEDED else None,
            raw={"external_id": external_id, "output": str(folder / "output.mp4")},
        )

    def cancel(self, external_id: str) -> None:
        folder = self.job_dir(external_id)
        if folder.is_dir():
            (folder / "cancel").touch()

    def download(self, result: PollResult, dest: Path) -> Path:
        source = Path(str(result.raw.get("output") or ""))
        if not source.is_file():
            raise ProviderError(f"{self.job_label} output is missing.", permanent=True, code="empty_result")
        shutil.copyfile(source, dest)
        return dest
