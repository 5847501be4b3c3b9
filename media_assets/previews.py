"""Posters, thumbnails, scrub strips and waveforms for validated media.

Every ffmpeg call uses the confined input options of ``probe.ffmpeg_input_args``
(file protocol only, allowed demuxers only), an argument list and a timeout.
Inputs are expected to have passed ``validate_media_file`` already; previews
still refuse what they cannot read with ``PreviewError``.
"""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image, ImageOps

from media_assets.probe import (
    FFMPEG,
    FFPROBE,
    ProbeError,
    ffmpeg_input_args,
    probe_media,
    read_head,
    run_tool,
    sniff_container,
)
from media_assets.render.graph import HDR_TRANSFERS, SQUARE_PIXELS, tone_map_to_sdr
from media_assets.render.stills import POSTER_MAX_SIDE, STRIP_FRAMES, STRIP_TILE_HEIGHT, poster_time, strip_times

PreviewPath = str | os.PathLike[str]
DEFAULT_TIMEOUT = 60.0
WAVE_COLOUR = "0x4F7DF3"  # the studio's accent blue


class PreviewError(Exception):
    """A preview could not be produced."""


def _sdr(transfer: str | None) -> str:
    """An HDR video's frames tone-mapped to SDR as the render does (after they are made small)."""
    return f",{tone_map_to_sdr(transfer)}" if transfer in HDR_TRANSFERS else ""


def _fit(max_side: int, transfer: str | None = None) -> str:
    # Square pixels first (anamorphic sources), then fit inside max_side without upscaling; HDR to SDR.
    return (
        f"{SQUARE_PIXELS},"
        f"scale='min({max_side},iw)':'min({max_side},ih)':force_original_aspect_ratio=decrease{_sdr(transfer)}"
    )


def _run(args: list[str], out: Path, *, timeout: float, what: str) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        proc = run_tool(
            [FFMPEG, "-hide_banner", "-nostdin", "-v", "error", "-y", *args, str(out)],
            timeout=timeout,
            what=what,
        )
    except ProbeError as exc:
        raise PreviewError(exc.message) from exc
    if proc.returncode != 0 or not out.exists() or out.stat().st_size == 0:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        out.unlink(missing_ok=True)
        raise PreviewError(f"{what} failed: {tail[0][-200:]}")
    return out


def _duration(video: PreviewPath) -> float:
    try:
        info = probe_media(video)
    except ProbeError as exc:
        raise PreviewError(exc.message) from exc
    if info.kind != "video":
        raise PreviewError("The file has no video stream.")
    return info.duration or 0.0


def make_poster(
    video: PreviewPath,
    out_jpg: PreviewPath,
    *,
    at: float | None = None,
    duration: float | None = None,
    max_side: int = POSTER_MAX_SIDE,
    timeout: float = DEFAULT_TIMEOUT,
    transfer: str | None = None,
) -> Path:
    """Write one JPEG frame of ``video`` (default: at 10% of its duration, probed unless given);
    ``transfer``: the video's transfer tag (HDR ones are tone-mapped).

    10% skips fade-ins and black leaders on ads while staying in the opening
    shot; for a short clip that is well under a second.
    """
    if at is None:
        at = poster_time(duration if duration else _duration(video))
    return _run(
        ["-ss", f"{max(at, 0):.3f}", *ffmpeg_input_args(video), "-map", "0:v:0", "-frames:v", "1",
         "-vf", _fit(max_side, transfer), "-q:v", "3", "-f", "image2", "-c:v", "mjpeg"],
        Path(os.fspath(out_jpg)),
        timeout=timeout,
        what="Poster",
    )


def make_thumbnail(
    src: PreviewPath, out_jpg: PreviewPath, *, max_side: int = 320, timeout: float = DEFAULT_TIMEOUT
) -> Path:
    """Write a JPEG no larger than ``max_side`` on its longer side, from an image or a video."""
    out = Path(os.fspath(out_jpg))
    family = sniff_container(read_head(src))
    if family in ("png", "jpeg", "webp"):
        try:
            with Image.open(src, formats=("PNG", "JPEG", "WEBP")) as im:
                im.draft("RGB", (max_side, max_side))  # JPEG: decode at reduced scale
                frame = ImageOps.exif_transpose(im)
                frame.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
                if frame.mode in ("RGBA", "LA", "P"):
                    rgba = frame.convert("RGBA")
                    frame = Image.new("RGB", rgba.size, (255, 255, 255))
                    frame.paste(rgba, mask=rgba.getchannel("A"))
                out.parent.mkdir(parents=True, exist_ok=True)
                frame.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise PreviewError(f"Thumbnail failed: {exc}") from exc
        return out
    return make_poster(src, out, max_side=max_side, timeout=timeout)


def keyframe_interval(video: PreviewPath, duration: float, *, timeout: float = DEFAULT_TIMEOUT) -> float | None:
    """The mean seconds between the keyframes of the first video stream, counted from its packets'
    flags (demuxing only, nothing is decoded); None when none is marked or they cannot be read."""
    try:
        proc = run_tool([FFPROBE, "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=flags",
                         "-of", "csv=p=0", *ffmpeg_input_args(video)], timeout=timeout, what="Keyframe count")
    except ProbeError:
        return None
    keys = sum(1 for line in proc.stdout.splitlines() if line.startswith(b"K"))
    return duration / keys if proc.returncode == 0 and keys else None


def make_scrub_strip(
    video: PreviewPath,
    out_jpg: PreviewPath,
    *,
    frames: int = STRIP_FRAMES,
    tile_height: int = STRIP_TILE_HEIGHT,
    duration: float | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    transfer: str | None = None,
) -> Path:
    """Write ``frames`` evenly spread frames side by side in one JPEG, ``tile_height`` px high
    (``transfer`` as for :func:`make_poster`).

    One ffmpeg process. Where keyframes are frequent it seeks to each frame, so only about half a
    GOP per frame is decoded instead of the whole clip. Where they are sparse (a screen recording,
    a clip with one keyframe) each seek would decode from far back, so the clip is decoded once
    instead, up to the last frame wanted: one seek costs about half the keyframe interval, and
    ``frames`` of them cost more than the clip once the interval is above ``2 * duration / frames``.
    """
    if frames < 1 or tile_height < 2:
        raise PreviewError("A scrub strip needs at least one frame and a height of 2 px.")
    duration = duration or _duration(video)
    times = strip_times(duration, frames)
    tile = f"{SQUARE_PIXELS},scale=-2:{tile_height},setsar=1{_sdr(transfer)}"
    interval = keyframe_interval(video, duration, timeout=timeout) if frames > 1 else None
    if interval is not None and interval * frames / 2 > duration:
        args = ffmpeg_input_args(video)
        # Each branch keeps the first frame at or after its time (frames are shared, not copied).
        chains = [f"[0:v:0]split={frames}" + "".join(f"[s{i}]" for i in range(frames))]
        chains += [f"[s{i}]trim=start={t:.3f},trim=end_frame=1,{tile}[t{i}]" for i, t in enumerate(times)]
    else:
        args = []
        for t in times:
            args += ["-ss", f"{t:.3f}", *ffmpeg_input_args(video)]
        chains = [f"[{i}:v:0]trim=end_frame=1,{tile}[t{i}]" for i in range(frames)]
    joined = "".join(f"[t{i}]" for i in range(frames))
    graph = ";".join(chains) + (f";{joined}hstack=inputs={frames}[out]" if frames > 1 else "")
    last = "[out]" if frames > 1 else "[t0]"
    return _run(
        [*args, "-filter_complex", graph, "-map", last, "-frames:v", "1",
         "-q:v", "4", "-f", "image2", "-c:v", "mjpeg"],
        Path(os.fspath(out_jpg)),
        timeout=timeout,
        what="Scrub strip",
    )


def make_waveform(
    src: PreviewPath,
    out_png: PreviewPath,
    *,
    width: int = 800,
    height: int = 120,
    colour: str = WAVE_COLOUR,
    timeout: float = DEFAULT_TIMEOUT,
) -> Path:
    """Write a PNG waveform (transparent background) of the first audio stream."""
    return _run(
        [*ffmpeg_input_args(src), "-filter_complex",
         f"[0:a:0]aformat=channel_layouts=mono,"
         f"showwavespic=s={width}x{height}:colors={colour}:scale=sqrt:draw=full[w]",
         "-map", "[w]", "-frames:v", "1", "-f", "image2", "-c:v", "png"],
        Path(os.fspath(out_png)),
        timeout=timeout,
        what="Waveform",
    )
