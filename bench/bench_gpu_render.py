"""The render's encoder choice on a machine with a GPU: NVENC where it really encodes, else x264.

``RENDER_ENCODER=auto`` (and ``nvenc``) use h264_nvenc only when this ffmpeg lists it AND a test
encode works; GPUs without an NVENC engine (the data-centre H100 and H200 have none), or drivers
without libnvidia-encode, must fall back to x264 and still render. This renders a 9:16 cut of two
clips (one 4K) with a crossfade and captions through ``media_assets.render`` with each encoder
setting, and prints what the test encode said, the encoder each render used, its wall time and
what the output holds. Where NVENC works, the x264 and NVENC wall times side by side are the
figures to compare.

Run: ``python bench/bench_gpu_render.py [--ffmpeg PATH]``; needs no database and no ffprobe.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from media_assets.render import PRESETS, render  # noqa: E402
from media_assets.render.runner import default_ffmpeg, nvenc_problem, resolve_encoder  # noqa: E402
from media_assets.render.spec import (  # noqa: E402
    Captions,
    Clip,
    Composition,
    Cue,
    Encoding,
    SourceInfo,
    Transition,
    Word,
)


def make_source(ffmpeg: str, path: Path, size: str, seconds: float) -> None:
    subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=s={size}:r=30:d={seconds}",
                    "-f", "lavfi", "-i", f"sine=f=330:d={seconds}", "-c:v", "libx264", "-preset", "ultrafast",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)], check=True)


def output_facts(ffmpeg: str, path: Path) -> str:
    """The output's video stream line and duration as ffmpeg reports them (no ffprobe needed)."""
    head = subprocess.run([ffmpeg, "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    video = next((ln.split("Video:")[1].strip() for ln in head.splitlines() if "Video:" in ln), "?")
    duration = re.search(r"Duration: ([\d:.]+)", head)
    return f"{video[:90]} | {duration.group(1) if duration else '?'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ffmpeg", default="")
    args = parser.parse_args()
    ffmpeg = args.ffmpeg or default_ffmpeg()
    print(subprocess.run([ffmpeg, "-version"], capture_output=True, text=True).stdout.splitlines()[0])
    problem = nvenc_problem(ffmpeg)
    print(f"h264_nvenc: {'encodes' if problem is None else 'cannot encode: ' + problem}")

    work = Path(tempfile.mkdtemp(prefix="gpu-render-"))
    wide, uhd = work / "wide.mp4", work / "uhd.mp4"
    make_source(ffmpeg, wide, "1920x1080", 4)
    make_source(ffmpeg, uhd, "3840x2160", 3)
    info = {"has_audio": True, "pix_fmt": "yuv420p"}
    words = tuple(Word(text, 0.4 + 0.5 * i, 0.85 + 0.5 * i) for i, text in enumerate("made for every platform".split()))
    composition = Composition(
        clips=(Clip(wide, duration=3.5, source=SourceInfo(1920, 1080, **info)),
               Clip(uhd, duration=3.0, focus=(0.3, 0.5), source=SourceInfo(3840, 2160, **info))),
        transitions=(Transition("crossfade", 0.5),),
        captions=Captions(cues=(Cue(words),)),
    )
    for setting in ("auto", "nvenc", "x264"):
        encoding = Encoding(encoder=setting)
        out = work / f"cut-{setting}.mp4"
        started = time.perf_counter()
        result = render(composition, PRESETS["tiktok"], out, encoding=encoding, ffmpeg=ffmpeg)
        wall = time.perf_counter() - started
        print(f"RENDER_ENCODER={setting}: encoder {resolve_encoder(encoding, ffmpeg=ffmpeg)}, {wall:.2f} s wall, "
              f"{result.duration:.2f} s long; {output_facts(ffmpeg, out)}")


if __name__ == "__main__":
    main()
