"""The local GPU provider (diffusers) on a real GPU: its worker task, end to end, timed.

Runs the same code a GPU worker runs for a queued request (``DiffusersProvider.create_job``, then
``diffusers_render``, then ``poll`` and ``download``) with no database: Django is configured with
the provider's settings alone. No weights can be downloaded, so the pipelines are randomly
initialised and saved first (:mod:`generation.providers.diffusers_random`): ``tiny`` checks the
path, ``full`` has the layer sizes of a public model, so the time per step and the GPU memory are
what real weights cost (the pictures are noise).

Both kinds run: text to video (ModelScope's sizes) and image to video (Stable Video Diffusion's,
animating a still). For each request it prints whether the pipeline was loaded (the first request
of a process) or cached, the wall time, the seconds per denoising step, the peak GPU memory, the
progress the status file reported, and what the MP4 holds (size, frames, and the darkest and
flattest frame: NaN frames would be black).
A cancel test asks a long request to stop after its third step and reports how soon it stopped.

Run where a GPU is: ``python bench/bench_gpu_generation.py [--sizes tiny,full] [--kinds text,image]
[--steps 25]``; ffmpeg must be on PATH. Without CUDA it runs on the CPU (``--sizes tiny`` there).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def configure(work: Path, model: Path, *, steps: int, max_frames: int, frame_size: str) -> None:
    from django.conf import settings

    values = {"DIFFUSERS_MODEL_DIR": str(model), "DIFFUSERS_WORK_DIR": str(work / "jobs"), "DIFFUSERS_STEPS": steps,
              "DIFFUSERS_FPS": 8, "DIFFUSERS_MAX_FRAMES": max_frames, "DIFFUSERS_FRAME_SIZE": frame_size, "VAR_DIR": str(work)}
    if not settings.configured:
        settings.configure(**values)
    else:
        for key, value in values.items():
            setattr(settings, key, value)


def decoded_frames(path: Path) -> dict:
    """Frames of the MP4 as decoded by ffmpeg: size, count, and the darkest and flattest frame."""
    import numpy as np

    head = subprocess.run(["ffmpeg", "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    line = next(ln for ln in head.splitlines() if "Video:" in ln)
    width, height = (int(v) for v in re.search(r", (\d+)x(\d+)[, ]", line).groups())
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)
    return {"codec": line.split("Video:")[1].split(",")[0].strip().split()[0], "size": f"{width}x{height}",
            "frames": int(frames.shape[0]), "darkest_mean": round(float(frames.mean(axis=(1, 2, 3)).min()), 1),
            "flattest_std": round(float(frames.std(axis=(1, 2, 3)).min()), 1)}


def run_request(provider, request, *, cancel_after_step: int | None = None) -> dict:
    import torch

    from generation.providers import diffusers_local

    job = provider.create_job(request)
    folder = provider.job_dir(job)
    seen: list[str] = []
    steps_at: dict[int, float] = {}  # denoising step -> when the status file first showed it
    stop = threading.Event()

    def watch() -> None:  # what a poll would have shown, and the cancel a user would send
        while not stop.is_set():
            message = json.loads((folder / "status.json").read_text()).get("message", "")
            if not seen or seen[-1] != message:
                seen.append(message)
                step = re.search(r"step (\d+) of", message)
                if step:
                    steps_at.setdefault(int(step.group(1)), time.perf_counter())
            if cancel_after_step is not None and steps_at and max(steps_at) >= cancel_after_step:
                provider.cancel(job)
                seen.append(f"cancel sent at {time.perf_counter() - started:.2f} s")
                return
            time.sleep(0.02)

    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    loaded_before = len(diffusers_local._PIPELINES)
    started = time.perf_counter()
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    outcome = diffusers_local.diffusers_render(job)
    wall = time.perf_counter() - started
    stop.set()
    watcher.join()
    result = provider.poll(job)
    loaded = len(diffusers_local._PIPELINES) > loaded_before
    report = {"outcome": outcome, "state": result.state, "wall_s": round(wall, 2),
              "pipeline": "loaded" if loaded else "cached", "progress_messages": len(seen), "first": seen[:2],
              "last": seen[-2:]}
    if torch.cuda.is_available():
        report["peak_gpu_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    if len(steps_at) >= 2:
        (first, t0), (last, t1) = min(steps_at.items()), max(steps_at.items())
        report["s_per_step"] = round((t1 - t0) / (last - first), 3)
    if result.error:
        report["error"] = str(result.error)[:300]
    if outcome == "succeeded":
        dest = Path(tempfile.mkdtemp()) / "clip.mp4"
        provider.download(result, dest)
        report["video"] = decoded_frames(dest)
    else:
        report["output_left"] = (folder / "output.mp4").exists()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="tiny,full")
    parser.add_argument("--kinds", default="text,image")
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--work", default="")
    args = parser.parse_args()

    import torch
    from PIL import Image

    from django.conf import settings  # noqa: F401 (configured below)

    from generation.providers.diffusers_random import parameter_count, save_random_pipeline

    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(f"torch {torch.__version__}, device {torch.cuda.get_device_name() if device == 'cuda' else 'cpu'}", flush=True)
    work = Path(args.work or tempfile.mkdtemp(prefix="gpu-bench-"))
    first = work / "first.png"
    Image.new("RGB", (720, 1280), (200, 40, 40)).save(first)
    for kind in args.kinds.split(","):
        for size in args.sizes.split(","):
            started = time.perf_counter()
            model = save_random_pipeline(work / f"{kind}-{size}", size=size, kind=kind, device=device, half=(size == "full"))
            print(f"\n== {kind} to video, {size}: {parameter_count(model) / 1e9:.3f} G weights, built and saved in "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
            steps = 2 if size == "tiny" else args.steps
            # the tiny VAEs barely downsample: their attention at 480p would need terabytes
            frame_size = "32x48" if size == "tiny" else ""
            configure(work, model, steps=steps, max_frames=16, frame_size=frame_size)
            bench_pipeline(image=str(first) if kind == "image" else None, steps=steps)
            configure(work, model, steps=max(steps, 50), max_frames=16, frame_size=frame_size)
            bench_cancel(image=str(first) if kind == "image" else None, steps=max(steps, 50))


def set_slicing(pipe, on: bool) -> None:
    """DIFFUSERS_VAE_SLICING for the loaded pipeline: a VAE that decodes frame by frame, or a
    temporal one decoding chunks of frames (read when each request starts)."""
    from django.conf import settings

    from generation.providers.diffusers_local import set_vae_slicing

    settings.DIFFUSERS_VAE_SLICING = on
    set_vae_slicing(pipe, on)


def bench_pipeline(*, image: str | None, steps: int) -> None:
    from django.conf import settings

    from generation.providers import diffusers_local
    from generation.providers.base import VideoRequest

    diffusers_local._PIPELINES.clear()
    provider = diffusers_local.DiffusersProvider()
    tall = VideoRequest(prompt="a can of sparkling water", image_path=image, duration=2, aspect_ratio="9:16",
                        resolution="480p", seed=7)
    wide = VideoRequest(prompt="a can", image_path=image, duration=2, aspect_ratio="16:9", resolution="720p")
    print(f"9:16 480p, 2 s: {json.dumps(run_request(provider, tall))}", flush=True)
    print(f"9:16 480p, again: {json.dumps(run_request(provider, tall))}", flush=True)
    pipe = next(iter(diffusers_local._PIPELINES.values()))
    for slicing in (False, True, False, True):  # side by side: the VAE decoding all frames at once, or not
        set_slicing(pipe, slicing)
        print(f"16:9 720p, VAE slicing {'on' if slicing else 'off'}: {json.dumps(run_request(provider, wide))}", flush=True)
    settings.DIFFUSERS_DTYPE = "bfloat16"
    print(f"9:16 480p, bfloat16: {json.dumps(run_request(provider, tall))}", flush=True)
    settings.DIFFUSERS_DTYPE = ""


def bench_cancel(*, image: str | None, steps: int) -> None:
    from generation.providers import diffusers_local
    from generation.providers.base import VideoRequest

    provider = diffusers_local.DiffusersProvider()
    request = VideoRequest(prompt="a can", image_path=image, duration=2, aspect_ratio="9:16", resolution="480p")
    report = run_request(provider, request, cancel_after_step=3)
    print(f"cancel once step 3 of {steps} shows: {json.dumps(report)}", flush=True)

if __name__ == "__main__":
    main()
