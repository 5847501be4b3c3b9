"""Scrub strips: a seek per tile against one decode of the clip, on dense and sparse keyframes.

``make_scrub_strip`` seeks to each of its ten frames where keyframes are frequent (each seek
decodes about half a GOP) and decodes the clip once where they are sparse (a seek would decode
from far back). This times both ways on a 40 s 1280x720 clip with a keyframe every second and
on the same clip with a single keyframe, interleaved, and prints each median and the ratio of
the way taken to the other.

Run: ``.venv/bin/python bench/bench_previews.py [--rounds 3]``; clips are made once in bench/out/.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from media_assets import previews  # noqa: E402

OUT = ROOT / "bench" / "out"
SECONDS = 40.0


def clip(name: str, keyint: int) -> Path:
    path = OUT / name
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=s=1280x720:r=30:d={SECONDS}",
                        "-c:v", "libx264", "-preset", "veryfast", "-g", str(keyint), "-x264-params", "scenecut=0",
                        "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


def timed(path: Path, *, force: str | None) -> float:
    """Wall seconds of one strip; ``force`` "seek" or "once" overrides the keyframe count."""
    real = previews.keyframe_interval
    if force is not None:
        previews.keyframe_interval = lambda *args, **kwargs: 0.0 if force == "seek" else SECONDS
    try:
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            previews.make_scrub_strip(path, Path(folder) / "strip.jpg", duration=SECONDS)
            return time.perf_counter() - started
    finally:
        previews.keyframe_interval = real


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for name, keyint, other in (("strip-dense.mp4", 30, "once"), ("strip-sparse.mp4", 100000, "seek")):
        path = clip(name, keyint)
        interval = previews.keyframe_interval(path, SECONDS)
        taken, forced = [], []
        for _ in range(args.rounds):
            taken.append(timed(path, force=None))
            forced.append(timed(path, force=other))
        chosen = "once" if other == "seek" else "seek"
        print(f"{name} (a keyframe every {interval:.1f} s): {chosen} {statistics.median(taken):.2f} s, "
              f"{other} {statistics.median(forced):.2f} s; ratio {statistics.median(taken) / statistics.median(forced):.2f}")


if __name__ == "__main__":
    main()
