"""Content validation of uploaded and downloaded media.

The declared name and content type are never trusted: the kind, MIME type and
extension come from the bytes (magic numbers, then ffprobe or Pillow).  Every
refusal raises ``MediaRejected(reason_code, message)``; the message is meant
for the user, the code for logs, metrics and tests.

Images go through Pillow restricted to PNG/JPEG/WEBP; the pixel count is
checked from the header *before* decoding, so a tiny file that would expand to
gigabytes (decompression bomb) is refused without allocating.  Accepted images
are re-encoded (EXIF orientation applied, metadata dropped) into a new file,
which is what should be stored.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageOps

from media_assets.inspector import inspect_media
from media_assets.probe import (
    FFMPEG,
    ProbeError,
    ProbeResult,
    ffmpeg_input_args,
    read_head,
    run_tool,
    sniff_container,
)

GIB = 1024**3
PIL_FORMATS = ("PNG", "JPEG", "WEBP")


@dataclass(frozen=True)
class MediaLimits:
    """Caps applied to every file; settings map onto these fields."""

    max_bytes: int = 2 * GIB
    max_duration: float = 600.0
    max_width: int = 4096
    max_height: int = 4096
    max_fps: float = 120.0
    max_pixels: int = 40_000_000
    max_image_side: int = 16384
    probe_timeout: float = 20.0
    decode_timeout: float = 60.0


class MediaRejected(Exception):
    """The file is not acceptable; ``message`` is safe to show to the user."""

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(f"{reason_code}: {message}")
        self.reason_code = reason_code
        self.message = message


@dataclass(frozen=True)
class ValidatedMedia:
    """What the validator learned; ``path`` is the file to store.

    For images ``path`` is the re-encoded copy when ``cleaned_image_path`` was
    given, else the original; ``sha256`` and ``size`` describe ``path``.
    """

    kind: str  # "video" | "audio" | "image"
    mime: str
    ext: str  # without the dot
    path: Path
    sha256: str
    size: int
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    fps: float | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    audio_channels: int | None = None
    sample_rate: int | None = None
    bitrate: int | None = None
    rotation: int = 0
    format_name: str = ""
    loudness_lufs: float | None = None
    declared_name: str = ""
    probe: ProbeResult | None = field(default=None, repr=False)


def sha256_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# The names of the files validate_media_file reads (by their content; the name alone proves nothing).
MEDIA_SUFFIXES = frozenset({
    ".mp4", ".m4v", ".mov", ".webm", ".mkv", ".mp3", ".wav", ".ogg", ".oga", ".opus", ".flac", ".aac", ".m4a",
    ".png", ".jpg", ".jpeg", ".webp",
})


def validate_media_file(
    path: str | os.PathLike[str],
    *,
    limits: MediaLimits,
    declared_name: str = "",
    cleaned_image_path: str | os.PathLike[str] | None = None,
    measure_audio_loudness: bool = True,
) -> ValidatedMedia:
    """Validate one local file by content and return its metadata.

    Raises MediaRejected for empty, oversized, unknown, truncated or corrupt
    files and anything over ``limits``.  For images, passing
    ``cleaned_image_path`` writes the metadata-free re-encode there.
    """
    src = Path(os.fspath(path))
    try:
        size = src.stat().st_size
    except OSError as exc:
        raise MediaRejected("missing", "The file could not be read.") from exc
    if size == 0:
        raise MediaRejected("empty", "The file is empty.")
    if size > limits.max_bytes:
        raise MediaRejected(
            "too_big", f"The file is {_human(size)}; the limit is {_human(limits.max_bytes)}."
        )
    family = sniff_container(read_head(src))
    if family in ("png", "jpeg", "webp"):
        return _validate_image(src, limits=limits, declared_name=declared_name, cleaned=cleaned_image_path)
    if family is None:
        supported = ("Upload MP4, MOV, WebM/MKV, MP3, WAV, OGG, FLAC, AAC, PNG, JPEG or WebP "
                     "(playlists, SVG and HTML are refused).")
        if Path(declared_name).suffix.lower() in MEDIA_SUFFIXES:  # named as media, but its bytes are not
            raise MediaRejected(
                "unknown_format",
                f"The file is named {Path(declared_name).suffix.lower()} but its content is not a video, sound or "
                f"image the studio can read: it may be damaged or renamed. {supported}",
            )
        raise MediaRejected("unknown_format", f"This file type is not supported. {supported}")
    return _validate_av(src, size=size, limits=limits, declared_name=declared_name, loudness=measure_audio_loudness)


def _validate_av(
    src: Path, *, size: int, limits: MediaLimits, declared_name: str, loudness: bool
) -> ValidatedMedia:
    try:
        # One request to the inspector process: the probe, and a decode of the first second and
        # of the tail (which catches files cut short after a front moov).
        info, decode_error = inspect_media(src, timeout=limits.probe_timeout + limits.decode_timeout,
                                           max_size=(limits.max_width, limits.max_height))
    except ProbeError as exc:
        raise MediaRejected(exc.reason_code, exc.message) from exc
    if info.duration is None:
        raise MediaRejected("unknown_duration", "The media duration could not be determined.")
    if info.duration > limits.max_duration:
        raise MediaRejected(
            "too_long",
            f"The media lasts {info.duration:.1f} s; the limit is {limits.max_duration:g} s.",
        )
    if info.kind == "video":
        w, h = info.width or 0, info.height or 0
        if w <= 0 or h <= 0:
            raise MediaRejected("unreadable", "The video has no valid frame size.")
        if w > limits.max_width or h > limits.max_height:
            raise MediaRejected(
                "resolution_too_high",
                f"The video is {w}x{h}; the limit is {limits.max_width}x{limits.max_height}.",
            )
        if info.fps is not None and info.fps > limits.max_fps:
            raise MediaRejected(
                "fps_too_high", f"The video runs at {info.fps:g} fps; the limit is {limits.max_fps:g} fps."
            )
    if decode_error:
        raise MediaRejected("corrupt", f"The media stream could not be decoded (corrupt or truncated): {decode_error}")
    mime, ext = _av_mime(info)
    lufs = measure_loudness(src, timeout=limits.decode_timeout) if (loudness and info.has_audio) else None
    width, height = info.display_size
    return ValidatedMedia(
        kind=info.kind,
        mime=mime,
        ext=ext,
        path=src,
        sha256=sha256_file(src),
        size=size,
        width=width,
        height=height,
        duration=info.duration,
        fps=info.fps,
        video_codec=info.video_codec,
        audio_codec=info.audio_codec,
        audio_channels=info.audio_channels,
        sample_rate=info.sample_rate,
        bitrate=info.bitrate,
        rotation=info.rotation,
        format_name=info.format_name,
        loudness_lufs=lufs,
        declared_name=declared_name,
        probe=info,
    )


def _av_mime(info: ProbeResult) -> tuple[str, str]:
    fmt = info.format_name
    if fmt.startswith("mov,"):
        if info.major_brand == "qt":
            return "video/quicktime", "mov"
        if info.kind == "audio":
            return "audio/mp4", "m4a"
        return "video/mp4", "mp4"
    if fmt == "matroska,webm":
        webm_video = info.video_codec in (None, "vp8", "vp9", "av1")
        webm_audio = info.audio_codec in (None, "opus", "vorbis")
        if webm_video and webm_audio:
            return ("video/webm", "webm") if info.kind == "video" else ("audio/webm", "weba")
        return ("video/x-matroska", "mkv") if info.kind == "video" else ("audio/x-matroska", "mka")
    if fmt == "ogg":
        return ("video/ogg", "ogv") if info.kind == "video" else ("audio/ogg", "ogg")
    simple = {
        "mp3": ("audio/mpeg", "mp3"),
        "wav": ("audio/wav", "wav"),
        "flac": ("audio/flac", "flac"),
        "aac": ("audio/aac", "aac"),
    }
    if fmt in simple and info.kind == "audio":
        return simple[fmt]
    raise MediaRejected("unknown_format", f"Container format {fmt!r} is not accepted for {info.kind}.")


def _validate_image(
    src: Path, *, limits: MediaLimits, declared_name: str, cleaned: str | os.PathLike[str] | None
) -> ValidatedMedia:
    try:
        with Image.open(src, formats=PIL_FORMATS) as im:
            fmt = im.format or ""
            width, height = im.size
            _check_pixels(width, height, limits)
            im.verify()  # structure/CRC check without decoding pixels
        with Image.open(src, formats=PIL_FORMATS) as im:
            im.load()  # full decode: truncated data fails here
    except MediaRejected:
        raise
    except Image.DecompressionBombError as exc:
        raise _bomb(limits) from exc
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError... on bad data
        raise MediaRejected(
            "corrupt_image", "The image could not be decoded (corrupt, truncated or not PNG/JPEG/WebP)."
        ) from exc
    mime, ext = {"PNG": ("image/png", "png"), "JPEG": ("image/jpeg", "jpg"), "WEBP": ("image/webp", "webp")}[fmt]
    out = src
    if cleaned is not None:
        out = Path(os.fspath(cleaned))
        reencode_image(src, out, limits=limits)
        with Image.open(out) as im:
            width, height = im.size  # orientation may have swapped them
    return ValidatedMedia(
        kind="image",
        mime=mime,
        ext=ext,
        path=out,
        sha256=sha256_file(out),
        size=out.stat().st_size,
        width=width,
        height=height,
        format_name=fmt.lower(),
        declared_name=declared_name,
    )


def _bomb(limits: MediaLimits) -> MediaRejected:
    # Pillow refuses far-oversized headers itself at open(); same reason code as ours.
    return MediaRejected(
        "too_many_pixels",
        f"The image has far too many pixels to decode safely; the limit is {limits.max_pixels:,} pixels.",
    )


def _check_pixels(width: int, height: int, limits: MediaLimits) -> None:
    if width <= 0 or height <= 0:
        raise MediaRejected("corrupt_image", "The image has no valid size.")
    if width * height > limits.max_pixels or max(width, height) > limits.max_image_side:
        raise MediaRejected(
            "too_many_pixels",
            f"The image is {width}x{height} ({width * height:,} pixels); the limit is "
            f"{limits.max_pixels:,} pixels and {limits.max_image_side} px per side.",
        )


def reencode_image(
    src: str | os.PathLike[str], dst: str | os.PathLike[str], *, limits: MediaLimits | None = None
) -> Path:
    """Re-encode an image in its own format with orientation applied and metadata dropped.

    EXIF (GPS, camera serials), XMP and text chunks are not carried over; the
    ICC profile is kept because dropping it shifts colours visibly.
    """
    limits = limits or MediaLimits()
    dst_path = Path(os.fspath(dst))
    try:
        im = Image.open(src, formats=PIL_FORMATS)
    except Image.DecompressionBombError as exc:
        raise _bomb(limits) from exc
    with im:
        _check_pixels(im.width, im.height, limits)
        fmt = im.format
        icc = im.info.get("icc_profile")
        im.seek(0)  # animated WebP/APNG: the first frame only
        frame = ImageOps.exif_transpose(im)
        frame.load()
        kwargs: dict[str, object] = {}
        if icc:
            kwargs["icc_profile"] = icc
        if fmt == "JPEG":
            if frame.mode not in ("RGB", "L"):
                frame = frame.convert("RGB")
            frame.save(dst_path, "JPEG", quality=92, optimize=True, **kwargs)
        elif fmt == "WEBP":
            if frame.mode not in ("RGB", "RGBA"):
                frame = frame.convert("RGBA")
            frame.save(dst_path, "WEBP", quality=90, **kwargs)
        else:
            if frame.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
                frame = frame.convert("RGBA")
            frame.save(dst_path, "PNG", optimize=True, **kwargs)
    return dst_path


_LUFS_RE = re.compile(r"Integrated loudness:\s*\n\s*I:\s*(-?[\d.]+|-inf)\s*LUFS")


def measure_loudness(path: str | os.PathLike[str], *, timeout: float = 60) -> float | None:
    """Integrated loudness (EBU R128) in LUFS, or None when silent or without audio."""
    proc = run_tool(
        [
            FFMPEG,
            "-hide_banner",
            "-nostdin",
            "-v",
            "info",
            *ffmpeg_input_args(path),
            "-vn",
            "-map",
            "0:a:0?",
            "-af",
            "ebur128=framelog=verbose",  # per-frame lines at verbose level, hidden at -v info
            "-f",
            "null",
            "-",
        ],
        timeout=timeout,
        what="ffmpeg loudness",
    )
    if proc.returncode != 0:
        return None
    match = _LUFS_RE.search(proc.stderr.decode("utf-8", "replace"))
    if not match or match.group(1) == "-inf":
        return None
    value = float(match.group(1))
    return None if value <= -70.0 else value  # -70 LUFS is the absolute gate: silence


def _human(n: int) -> str:
    value = float(n)
    for unit in ("bytes", "KiB", "MiB"):
        if value < 1024:
            return f"{n} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


__all__ = [
    "MediaLimits",
    "MediaRejected",
    "ValidatedMedia",
    "measure_loudness",
    "reencode_image",
    "sha256_file",
    "validate_media_file",
]
