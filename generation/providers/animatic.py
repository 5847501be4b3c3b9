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

import logging
import shutil
import subprocess
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from generation.providers.base import (
    CANCEL,
    FIRST_LAST_FRAME,
    IMAGE_TO_VIDEO,
    TEXT_TO_VIDEO,
    Lifecycle,
    ModelSpec,
    Price,
    SubmitResult,
    VideoRequest,
)
from generation.providers.local_jobs import JobStatus, LocalJobProvider, read_json, write_json

logger = logging.getLogger(__name__)
MODEL = "animatic-v1"


def work_dir() -> Path:
    from django.conf import settings

    base = Path(getattr(settings, "ANIMATIC_WORK_DIR", "") or Path(settings.VAR_DIR) / "animatic")
    base.mkdir(parents=True, exist_ok=True)
    return base


class AnimaticProvider(LocalJobProvider):
    identifier: ClassVar[str] = "animatic"
    verbose_name: ClassVar[str] = "Animatic (embedded)"
    capabilities: ClassVar[frozenset[str]] = frozenset({TEXT_TO_VIDEO, IMAGE_TO_VIDEO, FIRST_LAST_FRAME, CANCEL})
    settings_keys: ClassVar[tuple[str, ...]] = ()
    embedded: ClassVar[bool] = True
    job_label: ClassVar[str] = "Animatic"

    @classmethod
    def work_dir(cls) -> Path:
        return work_dir()

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
        folder = self.job_dir(external_id)
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
        write_json(folder / "request.json", spec)
        JobStatus(folder).set("queued", message="Queued for rendering")
        from django_q.tasks import async_task

        async_task("generation.providers.animatic.animatic_render", external_id, task_name=f"animatic-{external_id}")
        return SubmitResult(external_id=external_id, poll_after=1.0, raw={"folder": str(folder)})

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

    folder = AnimaticProvider().job_dir(external_id)
    spec = read_json(folder / "request.json")
    if not spec:
        return "missing"
    status = JobStatus(folder)
    if status.cancel_requested():
        status.set("canceled", message="Canceled")
        return "canceled"

    def request_for(image: str | None, duration: float) -> AnimaticRequest:
        return AnimaticRequest(
            prompt=spec["prompt"], camera_move=spec["camera_move"], lighting=spec["lighting"],
            aspect_ratio=spec["aspect_ratio"], duration=duration, resolution=spec["resolution"], seed=spec["seed"],
            image_path=str(folder / image) if image else None, palette=tuple(spec.get("palette") or ()),
            title=spec.get("title"), mood_category=spec.get("mood_category"),
        )

    status.set("running", message="Rendering")
    images = spec.get("images") or {}
    out = folder / "output.mp4"
    try:
        if images.get("image") and images.get("last_frame"):
            _render_transition(folder, spec, request_for, status.progress, status.cancel_requested, out)
        else:
            render_animatic(request_for(images.get("image"), spec["duration"]), out, progress=status.progress,
                            should_cancel=status.cancel_requested)
    except AnimaticCancelled:
        status.set("canceled", message="Canceled")
        return "canceled"
    except (AnimaticError, OSError, subprocess.SubprocessError) as exc:
        status.set("failed", error=str(exc))
        return "failed"
    status.set("succeeded", 100, "Rendered")
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
