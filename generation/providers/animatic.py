"""The embedded animatic provider: real H.264 video with no key and no network (generation/animatic.py).

It behaves like a remote vendor so the engine treats it the same way: `submit` writes the request
to a work folder and queues a render task (a django-q task on the default queue), returning an id
at once; the render task reports progress into a status file; `poll` reads it; `cancel` leaves a
flag the renderer checks; `download` copies the finished file. The work folder
(ANIMATIC_WORK_DIR, default <VAR_DIR>/animatic) must be shared by the workers that render and poll
(one host, or a shared volume). Folders older than ANIMATIC_KEEP_HOURS are removed on submit.

With a first and a last frame (a transition) it renders the camera move over each image and
cross-fades them halfway.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from generation.providers.base import (
    CANCEL,
    CANCELED,
    FAILED,
    FIRST_LAST_FRAME,
    IMAGE_TO_VIDEO,
    QUEUED,
    RUNNING,
    SUCCEEDED,
    TEXT_TO_VIDEO,
    Lifecycle,
    ModelSpec,
    PollResult,
    Price,
    SubmitResult,
    VideoProvider,
    VideoRequest,
)
from mediastudio.lib.providers import ProviderError

logger = logging.getLogger(__name__)
MODEL = "animatic-v1"
STATE_MAP = {"queued": QUEUED, "running": RUNNING, "succeeded": SUCCEEDED, "failed": FAILED, "canceled": CANCELED}


def work_dir() -> Path:
    from django.conf import settings

    base = Path(getattr(settings, "ANIMATIC_WORK_DIR", "") or Path(settings.VAR_DIR) / "animatic")
    base.mkdir(parents=True, exist_ok=True)
    return base


def _job_dir(external_id: str) -> Path:
    if not external_id or not all(c.isalnum() or c == "-" for c in external_id):
        raise ProviderError(f"Not an animatic job id: {external_id!r}.", permanent=True, code="unknown_job")
    return work_dir() / external_id


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


class AnimaticProvider(VideoProvider):
    identifier: ClassVar[str] = "animatic"
    verbose_name: ClassVar[str] = "Animatic (embedded)"
    capabilities: ClassVar[frozenset[str]] = frozenset({TEXT_TO_VIDEO, IMAGE_TO_VIDEO, FIRST_LAST_FRAME, CANCEL})
    settings_keys: ClassVar[tuple[str, ...]] = ()
    embedded: ClassVar[bool] = True

    def models(self) -> list[ModelSpec]:
        return [
            ModelSpec(
                provider=self.identifier,
                name=MODEL,
                label="Animatic (camera move over an image or a title card)",
                capabilities=frozenset({TEXT_TO_VIDEO, IMAGE_TO_VIDEO, FIRST_LAST_FRAME, CANCEL}),
                min_duration=1.0,
                max_duration=60.0,
                aspect_ratios=("9:16", "16:9", "1:1", "4:5"),
                resolutions=("480p", "720p", "1080p"),
                max_reference_images=0,
                price=Price(per_second={"*": Decimal("0")}, source="embedded renderer: CPU time only", as_of="2026-01-01", confirmed=True),
                lifecycle=Lifecycle(),
                poll_interval=1.0,
            )
        ]

    def submit(self, request: VideoRequest) -> SubmitResult:
        self.validate(request)
        self._sweep()
        external_id = uuid.uuid4().hex
        folder = _job_dir(external_id)
        folder.mkdir(parents=True)
        images: dict[str, str] = {}
        for key, src in (("image", request.image_path), ("last_frame", request.last_frame_path)):
            if src:
                dest = folder / f"{key}{Path(src).suffix or '.img'}"
                shutil.copyfile(src, dest)
                images[key] = dest.name
        extra = request.extra or {}
        spec = {
            "prompt": extra.get("prompt") or request.prompt,
            "camera_move": extra.get("camera_move") or "dolly_slow",
            "lighting": extra.get("lighting") or "soft_key",
            "aspect_ratio": request.aspect_ratio,
            "duration": float(request.duration),
            "resolution": request.resolution,
            "seed": int(request.seed or 0),
            "palette": list(extra.get("palette") or []),
            "title": extra.get("title"),
            "mood_category": extra.get("mood_category"),
            "images": images,
        }
        _write_json(folder / "request.json", spec)
        _write_json(folder / "status.json", {"state": "queued", "percent": 0, "message": "Queued for rendering"})
        from django_q.tasks import async_task

        async_task("generation.providers.animatic.animatic_render", external_id, task_name=f"animatic-{external_id}")
        return SubmitResult(external_id=external_id, poll_after=1.0, raw={"folder": str(folder)})

    def poll(self, external_id: str) -> PollResult:
        folder = _job_dir(external_id)
        status = _read_json(folder / "status.json")
        if not status:
            raise ProviderError(f"Animatic job {external_id} is unknown (its folder is gone).", permanent=True, code="unknown_job")
        state = STATE_MAP.get(str(status.get("state")), QUEUED)
        error = None
        if state == FAILED:
            error = ProviderError(f"Animatic: {status.get('error') or 'render failed'}", permanent=True, code="render_failed")
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
        folder = _job_dir(external_id)
        if folder.is_dir():
            (folder / "cancel").touch()

    def download(self, result: PollResult, dest: Path) -> Path:
        source = Path(str(result.raw.get("output") or ""))
        if not source.is_file():
            raise ProviderError("Animatic output is missing.", permanent=True, code="empty_result")
        shutil.copyfile(source, dest)
        return dest

    def _sweep(self) -> None:
        keep = float(self.setting("ANIMATIC_KEEP_HOURS", 24)) * 3600
        cutoff = time.time() - keep
        for folder in work_dir().iterdir():
            try:
                if folder.is_dir() and folder.stat().st_mtime < cutoff:
                    shutil.rmtree(folder, ignore_errors=True)
            except OSError:
                continue


def animatic_render(external_id: str) -> str:
    """Worker task: render one submitted animatic, reporting into its status file."""
    from generation.animatic import AnimaticCancelled, AnimaticError, AnimaticRequest, render_animatic

    folder = _job_dir(external_id)
    spec = _read_json(folder / "request.json")
    status_path = folder / "status.json"
    if not spec:
        return "missing"
    if (folder / "cancel").exists():
        _write_json(status_path, {"state": "canceled", "percent": 0, "message": "Canceled"})
        return "canceled"
    last = [0.0]

    def progress(percent: int, message: str) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.5 or percent >= 100:
            last[0] = now
            _write_json(status_path, {"state": "running", "percent": int(percent), "message": message})

    def should_cancel() -> bool:
        return (folder / "cancel").exists()

    def request_for(image: str | None, duration: float) -> AnimaticRequest:
        return AnimaticRequest(
            prompt=spec["prompt"], camera_move=spec["camera_move"], lighting=spec["lighting"],
            aspect_ratio=spec["aspect_ratio"], duration=duration, resolution=spec["resolution"], seed=spec["seed"],
            image_path=str(folder / image) if image else None, palette=tuple(spec.get("palette") or ()),
            title=spec.get("title"), mood_category=spec.get("mood_category"),
        )

    _write_json(status_path, {"state": "running", "percent": 0, "message": "Rendering"})
    images = spec.get("images") or {}
    out = folder / "output.mp4"
    try:
        if images.get("image") and images.get("last_frame"):
            _render_transition(folder, spec, request_for, progress, should_cancel, out)
        else:
            render_animatic(request_for(images.get("image"), spec["duration"]), out, progress=progress, should_cancel=should_cancel)
    except AnimaticCancelled:
        _write_json(status_path, {"state": "canceled", "percent": 0, "message": "Canceled"})
        return "canceled"
    except (AnimaticError, OSError, subprocess.SubprocessError) as exc:
        _write_json(status_path, {"state": "failed", "percent": 0, "error": str(exc)[:1000]})
        return "failed"
    _write_json(status_path, {"state": "succeeded", "percent": 100, "message": "Rendered"})
    return "succeeded"


def _render_transition(folder: Path, spec: dict[str, Any], request_for: Any, progress: Any, should_cancel: Any, out: Path) -> None:
    """Each frame's camera move for 3/4 of the duration, cross-faded over the middle half."""
    from generation.animatic import AnimaticError, render_animatic

    total = float(spec["duration"])
    part = round(total * 0.75, 3)
    fade = round(2 * part - total, 3)
    clips = []
    for index, key in enumerate(("image", "last_frame")):
        clip = folder / f"part{index}.mp4"
        render_animatic(request_for(spec["images"][key], part), clip,
                        progress=lambda p, m, i=index: progress(int(i * 45 + p * 0.45), m), should_cancel=should_cancel)
        clips.append(clip)
    args = [
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", str(clips[0]), "-i", str(clips[1]),
        "-filter_complex", f"[0:v][1:v]xfade=transition=fade:duration={fade}:offset={part - fade},format=yuv420p[v]",
        "-map", "[v]", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-movflags", "+faststart", str(out),
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise AnimaticError(f"ffmpeg could not join the transition: {done.stderr.strip()[:300]}")
    progress(100, "Rendered")
