"""A cut's poster and scrub strip, taken from the frames its render encodes.

The library makes these for any stored video by seeking into the file once per picture. A
render's keyframes can be seconds apart, so each of those seeks decoded up to a whole GOP: about
a thousand frames for a 20-second cut's strip, more than the cut itself. The render has every
frame in hand, so its ffmpeg also writes the dozen frames the previews need (one JPEG output
beside the cut) and they are put together here. Storing the cut then decodes nothing for them.

When the previews are taken (:func:`poster_time`, :func:`strip_times`) is shared with the
library's ``media_assets.previews``, so a render's previews show the frames the library would.
"""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

POSTER_MAX_SIDE = 1920  # a poster larger than this is made smaller
POSTER_AT = 0.10  # of the duration: past a fade-in or black leader, still in the opening shot
STRIP_FRAMES = 10
STRIP_TILE_HEIGHT = 90
POSTER_NAME = "poster.jpg"
STRIP_NAME = "scrub.jpg"
STRIP_QUALITY = 85


def poster_time(duration: float) -> float:
    return max(duration * POSTER_AT, 0.0)


def strip_times(duration: float, frames: int = STRIP_FRAMES) -> list[float]:
    """The centre of each of ``frames`` equal slices; the last kept clear of the end of stream."""
    return [min(duration * (i + 0.5) / frames, max(duration - 0.1, 0.0)) for i in range(frames)]


def _first_frame_from(seconds: float, fps: int, frames: int) -> int:
    """The frame an accurate seek to ``seconds`` lands on (the first at or after it)."""
    return min(max(math.ceil(seconds * fps - 1e-6), 0), frames - 1)


@dataclass(frozen=True)
class StillsPlan:
    """Which of the cut's frames (numbered from 0) become its poster and its strip's tiles."""

    poster: int
    strip: tuple[int, ...]

    @property
    def frames(self) -> tuple[int, ...]:
        # Frame 0 is always written, first: ffmpeg reports no progress at all until every output
        # has had a frame, and the bar would stay still until the poster's (10% in).
        return tuple(sorted({0, self.poster, *self.strip}))


def plan(*, frames: int, fps: int) -> StillsPlan:
    """The stills of a cut of ``frames`` frames at ``fps``."""
    if frames < 1:
        raise ValueError("a cut has at least one frame")
    duration = frames / fps
    return StillsPlan(poster=_first_frame_from(poster_time(duration), fps, frames),
                      strip=tuple(_first_frame_from(t, fps, frames) for t in strip_times(duration)))


def select_filter(stills: StillsPlan) -> str:
    """The filter keeping only the planned frames (for a branch of the render's finished picture)."""
    picks = "+".join(f"eq(n\\,{n})" for n in stills.frames)
    return f"select='{picks}'"


def output_args(folder: Path, label: str) -> list[str]:
    """ffmpeg output options writing the branch ``label`` as numbered JPEGs into ``folder``; the
    poster is used as written, so at the quality of the library's posters."""
    return ["-map", f"[{label}]", "-fps_mode", "passthrough", "-c:v", "mjpeg", "-q:v", "3",
            "-f", "image2", str(folder / "%03d.jpg")]


class StillsError(Exception):
    """The render's stills are not all there (the library then makes the previews itself)."""


def assemble(stills: StillsPlan, folder: Path, out_dir: Path) -> dict[str, Path]:
    """Put the frames ffmpeg wrote into ``folder`` together: ``poster.jpg`` and ``scrub.jpg``
    (the tiles side by side, each ``STRIP_TILE_HEIGHT`` px high) in ``out_dir``.
    Returns them by preview name."""
    written = sorted(folder.glob("*.jpg"))
    if len(written) != len(stills.frames):
        raise StillsError(f"expected {len(stills.frames)} stills, ffmpeg wrote {len(written)}")
    by_frame = dict(zip(stills.frames, written))
    out_dir.mkdir(parents=True, exist_ok=True)
    poster = out_dir / POSTER_NAME
    shutil.copyfile(by_frame[stills.poster], poster)
    tiles = []
    for n in stills.strip:
        with Image.open(by_frame[n]) as frame:
            width = max(2, round(frame.width * STRIP_TILE_HEIGHT / frame.height / 2) * 2)
            frame.draft("RGB", (width, STRIP_TILE_HEIGHT))  # JPEG: decoded at a fraction of its size
            tiles.append(frame.convert("RGB").resize((width, STRIP_TILE_HEIGHT), Image.Resampling.LANCZOS))
    strip = Image.new("RGB", (sum(t.width for t in tiles), STRIP_TILE_HEIGHT))
    x = 0
    for tile in tiles:
        strip.paste(tile, (x, 0))
        x += tile.width
    strip_path = out_dir / STRIP_NAME
    strip.save(strip_path, "JPEG", quality=STRIP_QUALITY)
    return {"poster": poster, "scrub_strip": strip_path}
