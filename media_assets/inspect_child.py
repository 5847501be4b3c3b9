"""The media inspector's child process: probes and decode-checks untrusted files with PyAV.

Run by media_assets.inspector (never imported by the web or worker processes): it reads one JSON
request per line on stdin and writes one JSON answer per line on stdout. It imports no Django and
gets no secrets in its environment; a crash or a hang here costs one answer, not the worker.

Why a long-lived child instead of ffprobe + ffmpeg per file: each of those starts by loading about
200 shared libraries (some 55 ms of CPU before reading a byte), which dominated the cost of storing
a generated clip. Here the libraries load once.

Request:  {"path": "/abs/file", "formats": "mov,matroska,...", "head": 1.0, "tail": 1.0, "max_size": [w, h] | null}
Answer:   {"ok": true, "format": {...}, "streams": [...], "decode_error": null | "message"}
          (format and streams in ffprobe's JSON shape, so media_assets.probe parses both alike)
          or {"ok": false, "error": "message"} when the file cannot be opened as an allowed container.
"""

from __future__ import annotations

import json
import resource
import sys
from typing import Any

import av
import av.logging

# Decoding a window never needs more than this many frames (a 1 s window of 60 fps video and
# 48 kHz audio is about 110): a file whose timestamps never advance cannot spin forever.
MAX_FRAMES_PER_WINDOW = 2000
# After a seek to the end, at most this much media is decoded (a container without an index
# may seek back to its start).
TAIL_MAX_SPAN = 30.0
MEMORY_LIMIT = 2 << 30


# FFmpeg's colour enums under ffprobe's names (unspecified values have none: ffprobe leaves them out).
# Transfer: HLG and PQ mark HDR video.
TRANSFER_NAMES = {1: "bt709", 4: "gamma22", 5: "gamma28", 6: "smpte170m", 7: "smpte240m", 8: "linear",
                  13: "iec61966-2-1", 14: "bt2020-10", 15: "bt2020-12", 16: "smpte2084", 18: "arib-std-b67"}
MATRIX_NAMES = {0: "gbr", 1: "bt709", 4: "fcc", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "ycgco",
                9: "bt2020nc", 10: "bt2020c", 11: "smpte2085", 12: "chroma-derived-nc", 13: "chroma-derived-c",
                14: "ictcp"}
PRIMARIES_NAMES = {1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "film", 9: "bt2020",
                   10: "smpte428", 11: "smpte431", 12: "smpte432", 22: "ebu3213"}
RANGE_NAMES = {1: "tv", 2: "pc"}


def _rate(value: Any) -> str:
    return f"{value.numerator}/{value.denominator}" if value else "0/0"


def _stream_json(stream: Any, rotation: int) -> dict[str, Any]:
    ctx = stream.codec_context
    out: dict[str, Any] = {"index": stream.index, "codec_type": stream.type, "codec_name": ctx.codec.canonical_name if ctx else None}
    if stream.duration is not None and stream.time_base:
        out["duration"] = str(float(stream.duration * stream.time_base))
    if stream.type == "video":
        out.update(width=ctx.width, height=ctx.height, avg_frame_rate=_rate(stream.average_rate),
                   r_frame_rate=_rate(stream.base_rate), pix_fmt=ctx.pix_fmt or "")
        attached = bool(int(stream.disposition) & int(av.stream.Disposition.attached_pic))
        out["disposition"] = {"attached_pic": 1 if attached else 0}
        colours = (("color_range", RANGE_NAMES, ctx.color_range), ("color_space", MATRIX_NAMES, ctx.colorspace),
                   ("color_transfer", TRANSFER_NAMES, ctx.color_trc), ("color_primaries", PRIMARIES_NAMES, ctx.color_primaries))
        for key, names, value in colours:
            if value is not None and int(value) in names:
                out[key] = names[int(value)]
        sar = ctx.sample_aspect_ratio
        if sar and sar != 1:  # non-square pixels (None: unknown, taken as square)
            out["sample_aspect_ratio"] = f"{sar.numerator}:{sar.denominator}"
        if rotation:
            out["side_data_list"] = [{"rotation": rotation}]
    elif stream.type == "audio":
        out.update(channels=ctx.layout.nb_channels if ctx.layout else 0, sample_rate=str(ctx.sample_rate or 0))
    return out


def _decode_window(container: Any, streams: list[Any], span: float, seen: dict[str, Any]) -> int:
    """Decode from the current position until ``span`` seconds past the first frame, or the end.
    Returns the number of frames; notes the first video frame's rotation in ``seen``."""
    frames = 0
    first = None
    for frame in container.decode(*streams):
        frames += 1
        if "rotation" not in seen and isinstance(frame, av.VideoFrame):
            # The display matrix (phone videos) reaches the decoded frames.
            seen["rotation"] = int(getattr(frame, "rotation", 0) or 0)
        if frame.time is not None:
            first = frame.time if first is None else first
            if frame.time - first > span:
                break
        if frames >= MAX_FRAMES_PER_WINDOW:
            break
    return frames


def _reason(exc: av.error.FFmpegError, path: str, *, at: str = "") -> str:
    # People read this in the upload's refusal: FFmpeg's sentence, where it failed and its last log
    # line, without the error number and the file name (a server path, or a function's name).
    reason = (exc.strerror or type(exc).__name__).strip() + (f" at the {at}" if at else "")
    log = exc.log
    if log and log[2].strip():
        reason = f"{reason} ({log[2].strip()})"
    return reason.replace("file:" + path, "the file").replace(path, "the file")


def inspect(request: dict[str, Any]) -> dict[str, Any]:
    path = request["path"]
    options = {"protocol_whitelist": "file", "format_whitelist": request.get("formats", "")}
    try:
        container = av.open("file:" + path, options=options)
    except av.error.FFmpegError as exc:
        return {"ok": False, "error": _reason(exc, path)}
    with container:
        decodable = [s for s in container.streams if s.type in ("video", "audio")]
        video = next((s for s in decodable if s.type == "video"), None)
        fmt: dict[str, Any] = {
            "format_name": container.format.name,
            "bit_rate": str(container.bit_rate or ""),
            "tags": {k: v for k, v in (container.metadata or {}).items() if k == "major_brand"},
        }
        if container.duration is not None:
            fmt["duration"] = str(container.duration / av.time_base)
        error = None
        seen: dict[str, Any] = {}
        head_frames = 0
        tail_frames = None
        max_size = request.get("max_size")
        if video is not None and max_size and (video.codec_context.width > max_size[0] or video.codec_context.height > max_size[1]):
            decodable = []  # too large to decode safely: probed only, and the caller refuses it
        window = "start"
        with av.logging.Capture() as logs:
            try:
                head_frames = _decode_window(container, decodable, float(request.get("head", 1.0)), seen)
                duration = float(fmt.get("duration") or 0)
                if decodable and duration > 2 * float(request.get("tail", 1.0)):
                    window = "end"
                    # Far past the end, backwards: the last keyframe, then decode to the end. A file cut
                    # short after a front moov (faststart) has no frames there.
                    container.seek(1 << 62, backward=True, any_frame=False, stream=video or decodable[0])
                    tail_frames = _decode_window(container, decodable, TAIL_MAX_SPAN, seen)
            except av.error.FFmpegError as exc:
                error = _reason(exc, path, at=window)
        serious = [message for level, _name, message in logs if level <= av.logging.ERROR]
        if error is None and serious:
            error = serious[-1].strip()
        if error is None and decodable and head_frames == 0:
            error = "no frame could be decoded from the start"
        if error is None and tail_frames == 0:
            error = "no frame could be decoded at the end (the file is cut short)"
        return {
            "ok": True,
            "format": fmt,
            "streams": [_stream_json(s, seen.get("rotation", 0) if s is video else 0) for s in container.streams],
            "decode_error": error[:300] if error else None,
        }


def main() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    av.logging.set_level(av.logging.ERROR)
    for line in sys.stdin:
        try:
            answer = inspect(json.loads(line))
        except Exception as exc:  # one bad file must not end the child: answer and go on
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
