"""Local GPU video generation through Hugging Face diffusers, with weights from DIFFUSERS_MODEL_DIR.

Enabled when DIFFUSERS_MODEL_DIR is an existing folder holding a diffusers pipeline
(model_index.json) and torch and diffusers import here; DIFFUSERS_ENABLED=true enables it without
them (the GPU worker runs elsewhere: compose.yaml's gpu profile), false turns it off. Nothing is ever
downloaded (local_files_only). It behaves like a remote vendor: `submit` writes the request to a
work folder (DIFFUSERS_WORK_DIR, default <VAR_DIR>/diffusers) and queues `diffusers_render` on the
"gpu" django-q cluster (a worker started with Q_CLUSTER_NAME=gpu), so a CPU box never picks it up;
`poll` reads the status file the render writes; `cancel` leaves a flag checked between denoising
steps; `download` copies the MP4. The pipeline is loaded once per worker process and cached.

The pipeline class comes from model_index.json: image-to-video pipelines (class name containing
"ImageToVideo" or "Img2Vid", Stable Video Diffusion and I2VGen-XL) take the first frame; the others
are text-to-video. Frames are encoded to H.264 (yuv420p, faststart) with ffmpeg. Settings (from the
environment, see settings.py): DIFFUSERS_FPS (8), DIFFUSERS_STEPS (25), DIFFUSERS_GUIDANCE (7.5),
DIFFUSERS_MAX_FRAMES (49), DIFFUSERS_DEVICE ("cuda" when available), DIFFUSERS_FRAME_SIZE ("WxH":
the model's native size, overriding the aspect ratio and resolution), DIFFUSERS_VAE_SLICING (true:
the VAE decodes one frame at a time, a temporal VAE eight; on an H100 that took a 720p clip's peak
GPU memory from 28 to 12.6 GiB in the same time), DIFFUSERS_DTYPE (float16 on a GPU, float32 on
the CPU; bfloat16 where float16 overflows). Frames that come back as NaN fail the request with that
reason rather than become a black video. A pipeline that calls back after no step shows no step
progress and can be canceled only before it starts. I2VGen-XL (deprecated in diffusers) does not run
with transformers 5, which this project installs: its prompt encoding reaches for an attribute that
CLIPTextModel no longer has, so its requests fail with that AttributeError.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import threading
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from generation.providers.base import (
    CANCEL,
    IMAGE_TO_VIDEO,
    TEXT_TO_VIDEO,
    ModelSpec,
    Price,
    SubmitResult,
    VideoRequest,
)
from generation.providers.local_jobs import JobStatus, LocalJobProvider, read_json, write_json

_PIPELINES: dict[str, Any] = {}
_PIPELINE_LOCK = threading.Lock()


def _setting(name: str, default: Any) -> Any:
    from django.conf import settings

    return getattr(settings, name, default)


def model_dir() -> Path | None:
    raw = str(_setting("DIFFUSERS_MODEL_DIR", "") or "")
    return Path(raw) if raw else None


def pipeline_class_name(folder: Path) -> str:
    try:
        return str(json.loads((folder / "model_index.json").read_text()).get("_class_name", ""))
    except (OSError, ValueError):
        return ""


# Image-to-video pipelines whose class name does not say so.
_IMAGE_PIPELINES = frozenset({"StableVideoDiffusionPipeline", "I2VGenXLPipeline"})


def is_image_pipeline(class_name: str) -> bool:
    return "ImageToVideo" in class_name or "Img2Vid" in class_name or class_name in _IMAGE_PIPELINES


def work_dir() -> Path:
    from django.conf import settings

    base = Path(_setting("DIFFUSERS_WORK_DIR", "") or Path(settings.VAR_DIR) / "diffusers")
    base.mkdir(parents=True, exist_ok=True)
    return base


class DiffusersProvider(LocalJobProvider):
    identifier: ClassVar[str] = "diffusers"
    verbose_name: ClassVar[str] = "Local GPU (diffusers)"
    capabilities: ClassVar[frozenset[str]] = frozenset({TEXT_TO_VIDEO, IMAGE_TO_VIDEO, CANCEL})
    settings_keys: ClassVar[tuple[str, ...]] = ("DIFFUSERS_MODEL_DIR",)
    embedded: ClassVar[bool] = True
    job_label: ClassVar[str] = "Local GPU"

    @classmethod
    def work_dir(cls) -> Path:
        return work_dir()

    @classmethod
    def is_enabled(cls) -> bool:
        if not super().is_enabled():
            return False
        folder = model_dir()
        if folder is None or not (folder / "model_index.json").is_file():
            return False
        if _setting("DIFFUSERS_ENABLED", None) is True:
            return True  # the GPU worker is another machine or container: torch is needed there, not here
        return importlib.util.find_spec("torch") is not None and importlib.util.find_spec("diffusers") is not None

    def models(self) -> list[ModelSpec]:
        folder = model_dir()
        class_name = pipeline_class_name(folder) if folder else ""
        mode = IMAGE_TO_VIDEO if is_image_pipeline(class_name) else TEXT_TO_VIDEO
        fps = int(self.setting("DIFFUSERS_FPS", 8))
        max_frames = int(self.setting("DIFFUSERS_MAX_FRAMES", 49))
        return [
            ModelSpec(
                provider=self.identifier,
                name="local",
                label=f"Local {class_name or 'diffusers pipeline'}",
                capabilities=frozenset({mode, CANCEL}),
                min_duration=1.0,
                max_duration=max(1.0, max_frames / fps),
                aspect_ratios=("16:9", "9:16", "1:1"),
                resolutions=("480p", "720p"),
                price=Price(per_second={"*": Decimal("0")}, source="local GPU: electricity only", as_of="2026-01-01", confirmed=True),
                poll_interval=2.0,
            )
        ]

    def submit(self, request: VideoRequest) -> SubmitResult:
        external_id = self.create_job(request)
        from django_q.tasks import async_task

        async_task("generation.providers.diffusers_local.diffusers_render", external_id,
                   q_options={"cluster": "gpu", "task_name": f"diffusers-{external_id}"})
        return SubmitResult(external_id=external_id, poll_after=2.0)

    def create_job(self, request: VideoRequest) -> str:
        """Validate ``request`` and write its job folder (request.json, the image, status "queued");
        returns the job's id, which :func:`diffusers_render` takes."""
        self.validate(request)
        external_id = uuid.uuid4().hex
        folder = self.job_dir(external_id)
        folder.mkdir(parents=True)
        image = None
        if request.image_path:
            image = f"image{Path(request.image_path).suffix or '.img'}"
            shutil.copyfile(request.image_path, folder / image)
        write_json(folder / "request.json", {
            "prompt": request.prompt, "negative_prompt": request.negative_prompt, "duration": float(request.duration),
            "aspect_ratio": request.aspect_ratio, "resolution": request.resolution, "seed": int(request.seed or 0), "image": image,
        })
        JobStatus(folder).set("queued", message="Waiting for the GPU worker")
        return external_id


# ---------------------------------------------------------------------------- the GPU worker side


def _pipeline_key(folder: Path, device: str | None = None) -> tuple[str, str, str]:
    """The cache key of the pipeline in ``folder`` as the settings load it, its device and dtype."""
    import torch

    device = device or str(_setting("DIFFUSERS_DEVICE", "") or ("cuda" if torch.cuda.is_available() else "cpu"))
    dtype_name = str(_setting("DIFFUSERS_DTYPE", "") or ("float16" if device.startswith("cuda") else "float32"))
    return f"{folder.resolve()}@{device}@{dtype_name}", device, dtype_name


def load_pipeline(folder: Path, *, device: str | None = None) -> Any:
    """The diffusers pipeline saved in `folder`, loaded once per process (local files only)."""
    import torch
    from diffusers import DiffusionPipeline

    key, device, dtype_name = _pipeline_key(folder, device)
    with _PIPELINE_LOCK:
        if key not in _PIPELINES:
            dtype = getattr(torch, dtype_name)
            import diffusers

            # diffusers renamed torch_dtype to dtype (0.36); older releases know only the old name.
            major, minor = (int(x) for x in diffusers.__version__.split(".")[:2])
            dtype_kw = "dtype" if (major, minor) >= (0, 36) else "torch_dtype"
            pipe = DiffusionPipeline.from_pretrained(str(folder), local_files_only=True, **{dtype_kw: dtype})
            pipe = pipe.to(device)
            if _setting("DIFFUSERS_VAE_SLICING", True):
                set_vae_slicing(pipe, True)
            if hasattr(pipe, "set_progress_bar_config"):
                pipe.set_progress_bar_config(disable=True)
            _PIPELINES[key] = pipe
        return _PIPELINES[key]


def set_vae_slicing(pipe: Any, on: bool) -> None:
    """Have the pipeline's VAE decode the frames one by one (the same pictures, a fraction of the
    memory), or all at once. A temporal VAE (Stable Video Diffusion's) cannot: generate_frames has
    it decode chunks of frames instead, while DIFFUSERS_VAE_SLICING is on."""
    vae = getattr(pipe, "vae", None)
    try:
        vae.enable_slicing() if on else vae.disable_slicing()
    except (AttributeError, NotImplementedError):
        pass


def frame_size(*, aspect_ratio: str, resolution: str, multiple: int = 16) -> tuple[int, int]:
    """Width and height for the request, rounded down to what latent models accept (a multiple of 16)."""
    from generation.strategy import dimensions_for

    width, height = dimensions_for(aspect_ratio=aspect_ratio, resolution=resolution)
    return max(multiple, width // multiple * multiple), max(multiple, height // multiple * multiple)


# Frames a temporal VAE decodes at once when DIFFUSERS_VAE_SLICING is on (it cannot go frame by
# frame without losing what holds neighbouring frames together).
DECODE_CHUNK = 8


def generate_frames(pipe: Any, spec: dict[str, Any], *, folder: Path | None = None, fps: int = 8, steps: int = 25,
                    guidance: float = 7.5, max_frames: int = 49, size: tuple[int, int] | None = None,
                    progress: Any = None, should_cancel: Any = None) -> list[Any]:
    """Run the pipeline for one request; returns the frames (PIL images or HxWx3 arrays)."""
    import inspect

    import torch

    width, height = size or frame_size(aspect_ratio=spec["aspect_ratio"], resolution=spec["resolution"])
    frames = max(2, min(max_frames, int(round(spec["duration"] * fps))))
    device = getattr(pipe, "device", torch.device("cpu"))
    generator = torch.Generator(device="cpu" if str(device) == "mps" else device).manual_seed(int(spec.get("seed") or 0))
    accepted = set(inspect.signature(pipe.__call__).parameters)
    kwargs: dict[str, Any] = {"height": height, "width": width, "num_inference_steps": steps, "generator": generator}
    if "num_frames" in accepted:
        kwargs["num_frames"] = frames
    if "prompt" in accepted:
        kwargs["prompt"] = spec["prompt"]
    if "negative_prompt" in accepted and spec.get("negative_prompt"):
        kwargs["negative_prompt"] = spec["negative_prompt"]
    if "guidance_scale" in accepted:
        kwargs["guidance_scale"] = guidance
    if "output_type" in accepted:
        kwargs["output_type"] = "np"
    if "decode_chunk_size" in accepted and _setting("DIFFUSERS_VAE_SLICING", True):
        kwargs["decode_chunk_size"] = DECODE_CHUNK
    if spec.get("image") and "image" in accepted and folder is not None:
        from PIL import Image

        kwargs["image"] = Image.open(folder / spec["image"]).convert("RGB").resize((width, height))

    def after_step(step: int) -> None:
        if should_cancel is not None and should_cancel():
            raise _Canceled()
        if progress is not None:
            progress(int((step + 1) * 95 / steps), f"Denoising step {step + 1} of {steps}")

    # Newer pipelines call callback_on_step_end; older ones (TextToVideoSDPipeline among them)
    # only the legacy callback, every callback_steps steps.
    if "callback_on_step_end" in accepted:
        def on_step_end(pipeline: Any, step: int, timestep: Any, callback_kwargs: dict[str, Any]) -> dict[str, Any]:
            after_step(step)
            return callback_kwargs

        kwargs["callback_on_step_end"] = on_step_end
    elif "callback" in accepted:
        kwargs["callback"] = lambda step, timestep, latents: after_step(step)
        if "callback_steps" in accepted:
            kwargs["callback_steps"] = 1
    elif progress is not None:  # a pipeline that calls back nothing: no steps to show, no cancel once it runs
        progress(5, f"Denoising {steps} steps (this pipeline reports none of them)")
    output = pipe(**kwargs)
    video = output.frames[0]
    return list(video)


class _Canceled(Exception):
    pass


def encode_frames(frames: list[Any], out: Path, *, fps: int, timeout: float = 600) -> None:
    """Frames (PIL or float/uint8 arrays) to an H.264 MP4 (yuv420p, faststart)."""
    import numpy as np

    arrays = []
    for frame in frames:
        arr = np.asarray(frame)
        if arr.dtype != np.uint8:
            if not np.isfinite(arr).all():  # half precision overflowed: the video would be black
                raise RuntimeError("the model produced frames that are not numbers (NaN), as float16 can overflow; "
                                   "set DIFFUSERS_DTYPE=bfloat16 (or float32)")
            arr = (np.clip(arr, 0, 1) * 255).round().astype(np.uint8)
        if arr.ndim == 3 and arr.shape[0] in (1, 3) and arr.shape[-1] not in (1, 3):
            arr = np.transpose(arr, (1, 2, 0))
        if arr.shape[-1] == 1:
            arr = np.repeat(arr, 3, axis=-1)
        arrays.append(np.ascontiguousarray(arr[..., :3]))
    height, width = arrays[0].shape[:2]
    even_w, even_h = width - width % 2, height - height % 2
    args = [
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
        "-s", f"{width}x{height}", "-r", str(fps), "-i", "pipe:0",
        "-vf", f"crop={even_w}:{even_h}:0:0", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20",
        "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(out),
    ]
    done = subprocess.run(args, input=b"".join(a.tobytes() for a in arrays), capture_output=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ffmpeg could not encode the frames: {done.stderr.decode(errors='replace')[:300]}")


def diffusers_render(external_id: str) -> str:
    """GPU worker task: run the local pipeline for one submitted request."""
    folder = DiffusersProvider().job_dir(external_id)
    spec = read_json(folder / "request.json")
    if not spec:
        return "missing"
    status = JobStatus(folder)
    if status.cancel_requested():
        status.set("canceled")
        return "canceled"
    source = model_dir()
    loaded = source is not None and _pipeline_key(source)[0] in _PIPELINES
    status.set("running", message="Starting" if loaded else "Loading the model")
    try:
        if source is None:
            raise RuntimeError("DIFFUSERS_MODEL_DIR is not set on the GPU worker.")
        pipe = load_pipeline(source)
        fps = int(_setting("DIFFUSERS_FPS", 8))
        forced = str(_setting("DIFFUSERS_FRAME_SIZE", "") or "")
        size = tuple(int(v) for v in forced.lower().split("x")) if forced else None
        frames = generate_frames(
            pipe, spec, folder=folder, fps=fps, steps=int(_setting("DIFFUSERS_STEPS", 25)),
            guidance=float(_setting("DIFFUSERS_GUIDANCE", 7.5)), max_frames=int(_setting("DIFFUSERS_MAX_FRAMES", 49)),
            size=size, progress=status.progress, should_cancel=status.cancel_requested,  # type: ignore[arg-type]
        )
        encode_frames(frames, folder / "output.mp4", fps=fps)
    except _Canceled:
        status.set("canceled", message="Canceled")
        return "canceled"
    except Exception as exc:  # model, memory or encoder failures end this request, not the worker
        status.set("failed", error=f"{type(exc).__name__}: {exc}")
        return "failed"
    status.set("succeeded", 100, "Rendered")
    return "succeeded"
