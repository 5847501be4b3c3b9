"""Safe ffprobe/ffmpeg invocation for untrusted media files.

ffmpeg will happily follow references inside a file: an HLS playlist or an
ffconcat list renamed ``.mp4`` makes it open other local files or URLs.  Three
independent guards keep probing confined to the one file on disk:

1. ``sniff_container`` checks the first bytes against the magic numbers of the
   binary containers we accept, *before* any ffmpeg process is started, so text
   playlists (``#EXTM3U``, ``ffconcat``, SDP, HTML, SVG...) never reach ffmpeg.
2. Every ffmpeg/ffprobe call gets ``-protocol_whitelist file`` and
   ``-format_whitelist`` with the allowed demuxers only (no hls, concat, image2,
   tee, lavfi...), and the path is passed as ``file:<absolute path>`` so a name
   such as ``concat:a|b`` or ``-i`` is never read as a protocol or an option.
3. ``ffprobe_json`` refuses any result whose ``format_name`` is outside the
   allow-list (belt and braces for 2).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

# Demuxer names as ffmpeg reports them in ``format_name``; the whitelist match is
# per comma-separated token, so "mov" admits the "mov,mp4,m4a,3gp,3g2,mj2" demuxer.
ALLOWED_DEMUXERS: tuple[str, ...] = ("mov", "matroska", "mp3", "wav", "ogg", "flac", "aac")
ALLOWED_FORMAT_NAMES: frozenset[str] = frozenset(
    {
        "mov,mp4,m4a,3gp,3g2,mj2",
        "matroska,webm",
        "mp3",
        "wav",
        "ogg",
        "flac",
        "aac",
    }
)
FORMAT_WHITELIST = ",".join(ALLOWED_DEMUXERS)
SNIFF_BYTES = 64

FFPROBE = "ffprobe"
FFMPEG = "ffmpeg"


class ProbeError(Exception):
    """ffprobe could not read the file, or the file is not an allowed container."""

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message


@dataclass(frozen=True)
class ProbeResult:
    kind: str  # "video" or "audio"
    format_name: str
    duration: float | None
    bitrate: int | None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    audio_channels: int | None = None
    sample_rate: int | None = None
    rotation: int = 0
    major_brand: str = ""
    color_transfer: str | None = None  # the video's transfer tag: "arib-std-b67" (HLG) or "smpte2084" (PQ) is HDR
    sample_aspect_ratio: str | None = None  # "num:den" when the pixels are not square
    # The rest of what the render needs to know of a video (tags in ffprobe's names; None: untagged).
    pix_fmt: str | None = None
    color_space: str | None = None
    color_range: str | None = None
    color_primaries: str | None = None

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None

    @property
    def display_size(self) -> tuple[int | None, int | None]:
        """Width and height as shown to the viewer: rotation applied, pixels made square."""
        width, height = (self.height, self.width) if self.rotation % 180 else (self.width, self.height)
        sar = pixel_aspect(self.sample_aspect_ratio, turned=self.rotation % 180 != 0)
        if width and height and sar != 1:
            return square_pixel_size(width, height, sar)
        return width, height


def pixel_aspect(value: Any, *, turned: bool = False) -> float:
    """ffprobe's ``sample_aspect_ratio`` ("num:den") as a number, 1 when unknown; ``turned``: of the
    video shown rotated by 90 or 270 degrees, whose pixel aspect ffmpeg inverts with the picture."""
    try:
        num, den = (int(x) for x in str(value).replace(":", "/").split("/"))
    except ValueError:
        return 1.0
    if num <= 0 or den <= 0:
        return 1.0  # "0:1": unknown, taken as square
    return den / num if turned else num / den


def square_pixel_size(width: int, height: int, sar: float) -> tuple[int, int]:
    """The size of a ``width`` x ``height`` picture of pixel aspect ``sar`` once its pixels are square,
    as the render's ``SQUARE_PIXELS`` filter makes it (and ffmpeg evaluates it): wide pixels widen
    the picture, tall ones heighten it, so no stored sample is dropped; even sides."""
    if sar >= 1:
        return max(2, math.trunc(width * sar / 2) * 2), height
    return width, max(2, math.trunc(height / sar / 2) * 2)


def sniff_container(head: bytes) -> str | None:
    """Name the container family from the first bytes, or None when unknown.

    Positive identification only: anything not recognised (text playlists,
    markup, scripts) is refused before a decoder sees it.
    """
    if len(head) >= 12 and head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"):
        return "mov"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "matroska"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"ID3"):
        return "mp3"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xF6) == 0xF0:
        return "aac"  # ADTS sync word, layer bits 00
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        return "mp3"  # MPEG audio frame sync
    return None


def read_head(path: str | os.PathLike[str], n: int = SNIFF_BYTES) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(n)


def ffmpeg_input_args(path: str | os.PathLike[str]) -> list[str]:
    """Input options + ``-i`` for one untrusted local file, confined to it."""
    return [
        "-protocol_whitelist",
        "file",
        "-format_whitelist",
        FORMAT_WHITELIST,
        "-i",
        "file:" + os.path.abspath(os.fspath(path)),
    ]


def run_tool(args: list[str], *, timeout: float, what: str) -> subprocess.CompletedProcess[bytes]:
    """Run ffmpeg/ffprobe with an argument list and a timeout; no shell."""
    try:
        return subprocess.run(
            args,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ProbeError("timeout", f"{what} took longer than {timeout:g} s") from exc
    except FileNotFoundError as exc:
        raise ProbeError("tool_missing", f"{args[0]} is not installed") from exc


def fraction(value: Any) -> float | None:
    """ffprobe's "num/den" (or "num:den") as a positive number; None when absent, unknown or 0."""
    if not value or value in ("0/0", "N/A"):
        return None
    try:
        f = float(Fraction(str(value).replace(":", "/")))
    except (ValueError, ZeroDivisionError):
        return None
    return f if f > 0 else None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if f == f and f >= 0 else None  # drop NaN / negatives


def stream_rotation(stream: dict[str, Any]) -> int:
    """Degrees (0, 90, 180, 270) a player turns this video stream by, from ffprobe's JSON
    (display matrix side data, else the old ``rotate`` tag)."""
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            return int(round(float(side["rotation"]))) % 360
    tag = (stream.get("tags") or {}).get("rotate")
    return int(tag) % 360 if tag and str(tag).lstrip("-").isdigit() else 0


def require_av_container(path: str | os.PathLike[str]) -> None:
    """Refuse, before any decoder sees it, a file whose first bytes are not a known audio/video container."""
    head = read_head(path)
    if not head:
        raise ProbeError("empty", "The file is empty.")
    family = sniff_container(head)
    if family is None or family in ("png", "jpeg", "webp"):
        raise ProbeError(
            "unknown_format",
            "The file is not a supported audio or video container "
            "(playlists, references and text files are not accepted).",
        )


def ffprobe_json(path: str | os.PathLike[str], *, timeout: float = 20) -> dict[str, Any]:
    """Return ffprobe's ``-show_format -show_streams`` JSON for an allowed container.

    Raises ProbeError when the first bytes are not a known binary container, when
    ffprobe fails (corrupt, truncated) or when the demuxer is not allowed.
    """
    require_av_container(path)
    proc = run_tool(
        [
            FFPROBE,
            "-v",
            "error",
            "-hide_banner",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
            *ffmpeg_input_args(path),
        ],
        timeout=timeout,
        what="ffprobe",
    )
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        # Only the last line, trimmed: the message may be shown to users.
        tail = detail[-1][-200:] if detail else "no detail"
        raise ProbeError("unreadable", f"The media file could not be read (corrupt or truncated): {tail}")
    try:
        data = json.loads(proc.stdout or b"{}")
    except json.JSONDecodeError as exc:
        raise ProbeError("unreadable", "ffprobe returned invalid output.") from exc
    check_probe_json(data)
    return data


def check_probe_json(data: dict[str, Any]) -> None:
    """Refuse a probe whose container is not on the allow-list (ffprobe's or the inspector's)."""
    fmt = (data.get("format") or {}).get("format_name", "")
    if fmt not in ALLOWED_FORMAT_NAMES:
        raise ProbeError("unknown_format", f"Container format {fmt or 'unknown'!r} is not accepted.")


def parse_probe(data: dict[str, Any]) -> ProbeResult:
    """Turn ffprobe JSON into a ProbeResult (first video and first audio stream)."""
    fmt = data.get("format") or {}
    streams = data.get("streams") or []
    video = next(
        (
            s
            for s in streams
            if s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")
        ),
        None,
    )
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    if video is None and audio is None:
        raise ProbeError("no_streams", "The file has no audio or video stream.")
    duration = _float(fmt.get("duration"))
    if duration is None:
        durations = [_float(s.get("duration")) for s in (video, audio) if s]
        duration = max((d for d in durations if d is not None), default=None)
    fps = None
    if video is not None:
        fps = fraction(video.get("avg_frame_rate")) or fraction(video.get("r_frame_rate"))
    return ProbeResult(
        kind="video" if video is not None else "audio",
        format_name=fmt.get("format_name", ""),
        duration=duration,
        bitrate=_int(fmt.get("bit_rate")),
        width=_int(video.get("width")) if video else None,
        height=_int(video.get("height")) if video else None,
        fps=round(fps, 3) if fps else None,
        video_codec=video.get("codec_name") if video else None,
        audio_codec=audio.get("codec_name") if audio else None,
        audio_channels=_int(audio.get("channels")) if audio else None,
        sample_rate=_int(audio.get("sample_rate")) if audio else None,
        rotation=stream_rotation(video) if video else 0,
        major_brand=str((fmt.get("tags") or {}).get("major_brand", "")).strip(),
        sample_aspect_ratio=_non_square(video.get("sample_aspect_ratio")) if video else None,
        **{key: _tag(video.get(key)) if video else None
           for key in ("pix_fmt", "color_space", "color_range", "color_transfer", "color_primaries")},
    )


def _tag(value: Any) -> str | None:
    return str(value) if value and value != "unknown" else None


def render_facts(info: ProbeResult) -> dict[str, Any] | None:
    """What the render needs to know of a video source (the fields of its ``SourceInfo``), from the
    probe made when the file was stored: the render then need not probe it again. Its size is the
    one shown (turned, square pixels), as the render's own probe gives it. None for audio."""
    if info.kind != "video" or not info.width or not info.height:
        return None
    width, height = info.display_size
    return {"width": width, "height": height, "sar": pixel_aspect(info.sample_aspect_ratio),
            "has_audio": info.has_audio, "pix_fmt": info.pix_fmt, "color_space": info.color_space,
            "color_range": info.color_range, "transfer": info.color_transfer, "primaries": info.color_primaries}


def _non_square(sample_aspect_ratio: str | None) -> str | None:
    return sample_aspect_ratio if pixel_aspect(sample_aspect_ratio) != 1 else None


def probe_media(path: str | os.PathLike[str], *, timeout: float = 20) -> ProbeResult:
    """Probe an untrusted audio/video file; see ffprobe_json for the guards."""
    return parse_probe(ffprobe_json(path, timeout=timeout))

