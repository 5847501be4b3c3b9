"""Run the render: probe sources, write the ASS script, measure loudness, run ffmpeg.

What every cut of a composition shares (the probed sources and the loudness gain) is
worked out once by :func:`prepare` and handed to each :func:`render`.

Loudness is measured without a second lossy encode: the audio mix alone (no video
decoded, nothing written) is measured with ``ebur128``, the gain to -14 LUFS is
computed, the corrected mix (gain + peak limiter, applied to the raw mix the first
pass kept, so the sources are decoded and mixed once) is measured again to absorb
what the limiter took (until it lands), and the final gain goes into the one real
render, whose video is encoded exactly once.

The output is written to a hidden temporary file next to ``out_path`` and renamed
into place only on success; a failure or a cancel deletes it.
"""

from __future__ import annotations

import collections
import functools
import logging
import math
import os
import queue
import re
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..probe import ProbeError, probe_media, render_facts
from . import caption_layer, captions_ass, colour_emoji
from .graph import (
    LIMITER_CEILING_DB,
    AudioGain,
    build_audio_measure_command,
    build_master_measure_command,
    build_command,
    clip_audio_flags,
    escape_filter_value,
    has_audio_mix,
    watermark_box,
)
from .spec import TARGET_LUFS, Composition, Encoding, Preset, SourceInfo
from .stills import POSTER_MAX_SIDE, StillsError, StillsPlan
from .stills import assemble as assemble_stills
from .stills import plan as stills_plan

ProgressCallback = Callable[[float, str], None]
CancelCheck = Callable[[], bool]
log = logging.getLogger(__name__)

PROBE_TIMEOUT = 30
MEASURE_SHARE = 5.0  # percent of the progress bar given to the loudness passes
LOUDNESS_TOLERANCE = 0.2  # LU: how close to the target the measured mix must land
MAX_LIMITED_PASSES = 4  # measurements of the limited mix, at most


class RenderError(RuntimeError):
    """ffmpeg failed; ``stderr_tail`` holds the end of its log."""

    def __init__(self, message: str, *, stderr_tail: str = "") -> None:
        super().__init__(f"{message}\n{stderr_tail}".strip())
        self.stderr_tail = stderr_tail


class RenderCanceled(RenderError):
    """The caller asked to stop; no output file was left behind."""


@dataclass(frozen=True)
class RenderResult:
    path: Path
    duration: float
    width: int
    height: int
    encoder: str = "x264"
    loudness_gain_db: float | None = None
    # With ``stills_dir``: the cut's previews made from its own frames, by preview name
    # ("poster", "scrub_strip"); empty when they could not be (the library then makes them).
    previews: dict[str, Path] = field(default_factory=dict)


@dataclass(frozen=True)
class Prepared:
    """The parts of a render that do not depend on the preset, worked out once per composition."""

    sources: tuple[SourceInfo | None, ...]
    gain: AudioGain | None
    logo_size: tuple[int, int] | None = None  # the watermark image's (width, height), when it has one


@dataclass(frozen=True)
class Loudness:
    integrated: float
    true_peak: float


def _run(cmd: list[str], *, timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError as exc:
        raise RenderError(f"{cmd[0]} not found") from exc
    except subprocess.TimeoutExpired as exc:
        raise RenderError(f"{Path(cmd[0]).name} timed out after {timeout:.0f} s") from exc


@functools.lru_cache(maxsize=1)
def default_ffmpeg() -> str:
    """The ffmpeg that renders: the build shipped by the imageio-ffmpeg package, else ffmpeg on PATH
    (``get_ffmpeg_exe`` itself falls back to the system's when the wheel has no binary).

    That build (FFmpeg 9) runs each decoder, the filter graph and the encoder in threads of
    their own, where Debian's 5.1 runs the whole filter graph between decoding and encoding
    on one thread; on the render benchmark that is about 10 % of wall time.
    """
    try:
        from imageio_ffmpeg import get_ffmpeg_exe

        return get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        return "ffmpeg"


def probe_source(path: str | Path) -> SourceInfo | None:
    """What the render needs to know of a clip's source (size, pixel format, colour tags, sound),
    probed as an upload probes it (:func:`~media_assets.probe.probe_media`, then
    :func:`~media_assets.probe.render_facts`); None if it cannot be read or has no video.

    The size is the one the render works with: ffmpeg turns a video by its rotation (as phones
    record portrait), so a 1920x1080 stream shown rotated by 90 degrees is 1080x1920 here, and
    non-square pixels are stretched to square ones (720x480 at 32:27 is 852x480; turned by 90
    degrees, 480x852)."""
    try:
        facts = render_facts(probe_media(path, timeout=PROBE_TIMEOUT))
    except ProbeError:
        return None  # the render itself will fail with ffmpeg's own message
    return SourceInfo(**facts) if facts else None


def probe_sources(composition: Composition) -> tuple[SourceInfo | None, ...]:
    """What is known of every clip's source: for a video the clip's own ``source`` (from the probe
    made when the file was stored), else probed now, in parallel; for an image its size and whether
    it has transparency (read from its header)."""
    known = {i: clip.source for i, clip in enumerate(composition.clips) if clip.kind == "video" and clip.source}
    unknown = {i: clip.path for i, clip in enumerate(composition.clips) if clip.kind == "video" and not clip.source}
    if unknown:
        with ThreadPoolExecutor(max_workers=min(8, len(unknown))) as pool:
            known.update(zip(unknown, pool.map(probe_source, unknown.values())))
    known.update({i: image_source(clip.path) for i, clip in enumerate(composition.clips) if clip.kind == "image"})
    return tuple(known.get(i) for i in range(len(composition.clips)))


def image_source(path: str | Path) -> SourceInfo | None:
    """A still's size and, as ``pix_fmt``, whether any of it is transparent ("rgba") or not
    ("rgb24": also an alpha channel that is opaque everywhere); None when Pillow cannot read it
    (ffmpeg then reads it as it is)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            width, height = image.size
            if "transparency" in image.info:  # a palette or grey image with a transparent colour
                alpha = True
            elif image.mode in ("RGBA", "LA", "PA"):
                alpha = image.getchannel("A").getextrema()[0] < 255
            else:
                alpha = False
    except (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError):
        return None
    return SourceInfo(width=width, height=height, pix_fmt="rgba" if alpha else "rgb24", color_range="pc")


@functools.lru_cache(maxsize=4)
def nvenc_problem(ffmpeg: str = "ffmpeg") -> str | None:
    """Why h264_nvenc cannot encode here, in ffmpeg's words; None when it can. It must be listed
    by this ffmpeg AND a tiny test encode must work: a GPU with no NVENC engine (the H100 has none)
    or a driver older than the build's NVENC API fails only the test encode."""
    try:
        listed = _run([ffmpeg, "-hide_banner", "-encoders"], timeout=PROBE_TIMEOUT)
        if "h264_nvenc" not in listed.stdout:
            return "this ffmpeg has no h264_nvenc encoder"
        test = _run([ffmpeg, "-hide_banner", "-nostdin", "-f", "lavfi", "-i", "color=c=black:s=256x256:r=30:d=0.2",
                     "-c:v", "h264_nvenc", "-f", "null", "-"], timeout=PROBE_TIMEOUT)
    except RenderError as exc:
        return str(exc)
    if test.returncode == 0:
        return None
    said = [line.split("] ", 1)[-1].strip() for line in test.stderr.splitlines() if line.startswith("[h264_nvenc")]
    return " ".join(said[:2]) or f"its test encode failed (exit {test.returncode})"


def nvenc_available(ffmpeg: str = "ffmpeg") -> bool:
    """h264_nvenc is listed by this ffmpeg AND a tiny test encode succeeds (a GPU is present)."""
    return nvenc_problem(ffmpeg) is None


@functools.lru_cache(maxsize=4)
def has_zscale(ffmpeg: str = "ffmpeg") -> bool:
    """This ffmpeg was built with zimg (the ``zscale`` filter); both builds the project uses are."""
    try:
        listed = _run([ffmpeg, "-hide_banner", "-filters"], timeout=PROBE_TIMEOUT)
    except RenderError:
        return False
    return any(line.split()[1:2] == ["zscale"] for line in listed.stdout.splitlines())


def resolve_encoder(encoding: Encoding, *, ffmpeg: str = "ffmpeg") -> str:
    """"nvenc" where ``encoding`` allows it and it works, else "x264"; asked for by name
    (RENDER_ENCODER=nvenc) and not working, the render goes on with x264 and the log says why."""
    if encoding.encoder in ("auto", "nvenc"):
        problem = nvenc_problem(ffmpeg)
        if problem is None:
            return "nvenc"
        if encoding.encoder == "nvenc":
            log.warning("RENDER_ENCODER is nvenc, but h264_nvenc cannot encode here (%s): rendering with x264", problem)
    return "x264"


_I_RE = re.compile(r"Integrated loudness:\s*\n\s*I:\s*(-?[\d.]+|-inf)\s*LUFS")
_TP_RE = re.compile(r"True peak:\s*\n\s*Peak:\s*(-?[\d.]+|-inf)\s*dBFS")


def parse_ebur128(stderr: str) -> Loudness:
    """Read the ebur128 summary (the last one printed) from ffmpeg's log."""
    i_match, tp_match = _I_RE.findall(stderr), _TP_RE.findall(stderr)
    if not i_match:
        raise RenderError("no loudness summary in ffmpeg output", stderr_tail=stderr[-2000:])
    integrated = float(i_match[-1]) if i_match[-1] != "-inf" else -math.inf
    peak = float(tp_match[-1]) if tp_match and tp_match[-1] != "-inf" else -math.inf
    return Loudness(integrated=integrated, true_peak=peak)


def _loudness_of(cmd: list[str], *, timeout: float) -> Loudness:
    proc = _run(cmd, timeout=timeout)
    if proc.returncode != 0:
        raise RenderError("audio loudness pass failed", stderr_tail=proc.stderr[-3000:])
    return parse_ebur128(proc.stderr)


def measure_loudness(composition: Composition, *, sources: list[SourceInfo | None] | None = None,
                     gain: AudioGain | None = None, ffmpeg: str = "ffmpeg", timeout: float = 600,
                     mix_out: str | Path | None = None) -> Loudness:
    """The loudness of the composition's mix (with ``gain``, if given), made from its sources;
    ``mix_out`` keeps the mix (before any gain) for :func:`measure_master`."""
    return _loudness_of(build_audio_measure_command(composition=composition, sources=sources, gain=gain,
                                                    ffmpeg=ffmpeg, mix_out=mix_out), timeout=timeout)


def measure_master(mix_path: str | Path, gain: AudioGain, *, ffmpeg: str = "ffmpeg", timeout: float = 600) -> Loudness:
    """The loudness of a mix kept by :func:`measure_loudness` with ``gain`` and its limiter applied."""
    return _loudness_of(build_master_measure_command(mix_path, gain, ffmpeg=ffmpeg), timeout=timeout)


def loudness_gain(composition: Composition, *, sources: list[SourceInfo | None] | None = None,
                  ffmpeg: str = "ffmpeg", timeout: float = 600) -> AudioGain | None:
    """Gain bringing the mix to -14 LUFS (within LOUDNESS_TOLERANCE); None when the mix is silent.

    The first pass mixes the sources and keeps the mix; any later pass measures that kept mix
    with a gain and the limiter, which is all that changes between passes."""
    with tempfile.TemporaryDirectory(prefix="loudness-") as workdir:
        mix = Path(workdir) / "mix.f32"
        first = measure_loudness(composition, sources=sources, ffmpeg=ffmpeg, timeout=timeout, mix_out=mix)
        if not math.isfinite(first.integrated):
            return None
        gain = AudioGain(gain_db=TARGET_LUFS - first.integrated)
        if first.true_peak + gain.gain_db <= LIMITER_CEILING_DB:
            return gain  # the limiter will not touch it: the gain alone lands on target
        # The limiter takes loudness away when it works, and the more the harder it is pushed, so
        # the limited mix is measured and the gain corrected along the measured slope (a secant
        # step) until it lands: once for most mixes, two or three times for one with high peaks.
        tried = (0.0, first.integrated)
        for _ in range(MAX_LIMITED_PASSES):
            limited = measure_master(mix, gain, ffmpeg=ffmpeg, timeout=timeout)
            miss = TARGET_LUFS - limited.integrated
            if not math.isfinite(limited.integrated) or abs(miss) <= LOUDNESS_TOLERANCE:
                break
            slope = (limited.integrated - tried[1]) / (gain.gain_db - tried[0]) if gain.gain_db != tried[0] else 1.0
            tried = (gain.gain_db, limited.integrated)
            gain = AudioGain(gain_db=gain.gain_db + miss / min(max(slope, 0.2), 1.0))
        return gain


def _audio_needs_probe(composition: Composition) -> bool:
    """Whether any clip's own sound could join the mix (were every source to have a sound track):
    only then does the mix depend on the probes."""
    with_sound = [SourceInfo(has_audio=True)] * len(composition.clips)
    return any(clip_audio_flags(composition, with_sound))


def prepare(composition: Composition, *, ffmpeg: str | None = None,
            timeout: float = 600) -> Prepared:
    """Probe the sources and measure the mix's loudness: the same for every preset of ``composition``.

    When no clip's own sound can be in the mix, the loudness is measured while the sources
    are probed."""
    composition.validate()
    ffmpeg = ffmpeg or default_ffmpeg()
    if _audio_needs_probe(composition):
        sources = probe_sources(composition)
        flags = clip_audio_flags(composition, sources)
        gain = loudness_gain(composition, sources=list(sources), ffmpeg=ffmpeg, timeout=timeout) \
            if has_audio_mix(composition, flags) else None
        return Prepared(sources=sources, gain=gain, logo_size=_logo_size(composition))
    # The mix (if any) is the voiceover and the music alone: measured while the sources are probed.
    with ThreadPoolExecutor(max_workers=1) as pool:
        measuring = pool.submit(loudness_gain, composition, ffmpeg=ffmpeg, timeout=timeout) \
            if has_audio_mix(composition, ()) else None
        sources = probe_sources(composition)
        return Prepared(sources=sources, gain=measuring.result() if measuring else None,
                        logo_size=_logo_size(composition))


# How often the render checks for cancel and its deadline while ffmpeg is quiet.
POLL_SECONDS = 0.25


def _reader(stream, sink, *, mark_end: bool = False) -> None:
    try:
        for line in iter(stream.readline, ""):
            sink(line)
        stream.close()
    finally:
        if mark_end:
            sink(None)  # the stream has ended: whoever waits on ``sink`` need not wait for more


def run_ffmpeg(cmd: list[str], *, total: float, progress: ProgressCallback | None = None,
               should_cancel: CancelCheck | None = None, timeout: float, base: float = 0.0,
               span: float = 100.0) -> dict[str, str]:
    """Run an ffmpeg command that writes ``-progress pipe:1``; maps out_time onto base..base+span.

    Returns ffmpeg's last progress report (``frame``, ``out_time_us``... of the finished output)."""
    tail: collections.deque[str] = collections.deque(maxlen=60)
    lines: queue.Queue[str | None] = queue.Queue()
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, bufsize=1)
    except FileNotFoundError as exc:
        raise RenderError(f"{cmd[0]} not found") from exc
    out_thread = threading.Thread(target=_reader, args=(proc.stdout, lines.put), kwargs={"mark_end": True}, daemon=True)
    err_thread = threading.Thread(target=_reader, args=(proc.stderr, tail.append), daemon=True)
    out_thread.start()
    err_thread.start()
    deadline = time.monotonic() + timeout
    last_percent = -1.0
    last: dict[str, str] = {}

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    try:
        # Until ffmpeg's stdout is closed and read (its final report can come after it has exited).
        # The reader marks the end, so the loop ends with it instead of at the next poll.
        while True:
            if should_cancel is not None and should_cancel():
                stop()
                raise RenderCanceled("render canceled")
            if time.monotonic() > deadline:
                stop()
                raise RenderError(f"render timed out after {timeout:.0f} s", stderr_tail="".join(tail))
            try:
                line = lines.get(timeout=POLL_SECONDS)
            except queue.Empty:
                continue
            if line is None:
                break
            key, _, value = line.strip().partition("=")
            last[key] = value
            if key == "out_time_us" and value.lstrip("-").isdigit() and progress is not None and total > 0:
                done = min(max(int(value) / 1e6 / total, 0.0), 1.0)
                percent = base + span * done
                if percent - last_percent >= 0.5:
                    last_percent = percent
                    progress(round(percent, 1), "rendering")
        proc.wait()
    finally:
        if proc.poll() is None:
            stop()
    out_thread.join(timeout=5)
    err_thread.join(timeout=5)
    if proc.returncode != 0:
        raise RenderError(f"ffmpeg exited with status {proc.returncode}", stderr_tail="".join(tail))
    return last


def _logo_size(composition: Composition) -> tuple[int, int] | None:
    """The watermark image's size (None without one, or if it cannot be read: ffmpeg then says why)."""
    if composition.watermark is None:
        return None
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(composition.watermark.path) as logo:
            return logo.size
    except (OSError, UnidentifiedImageError):
        return None


def render_command(composition: Composition, preset: Preset, out_path: str | Path, *, encoding: Encoding,
                   prepared: Prepared, workdir: str | Path, ffmpeg: str, fonts_dir: str | Path | None = None,
                   encoder: str | None = None, stills: tuple[StillsPlan, Path] | None = None,
                   emoji_font: str | Path | None = None) -> list[str]:
    """The ffmpeg command :func:`render` runs for one cut; the captions script it reads is written
    into ``workdir``, which must outlive the command. ``encoder``: the resolved one (x264 or nvenc),
    else resolved here; ``stills``: frames also written as JPEGs into a folder (:mod:`.stills`);
    ``emoji_font``: a colour emoji font that draws the captions' emoji (:mod:`.colour_emoji`; without
    one they are outlines)."""
    fonts_dir = Path(fonts_dir) if fonts_dir is not None else captions_ass.FONTS_DIR
    layer = None
    if composition.captions is not None or composition.end_card is not None:
        end_start = composition.main_duration - (composition.end_card.transition.overlap
                                                 if composition.end_card else 0.0)
        logo = (watermark_box(preset, composition.watermark, prepared.logo_size)
                if composition.watermark is not None and prepared.logo_size else None)
        script = captions_ass.build_script(preset=preset, captions=composition.captions,
                                           end_card=composition.end_card, end_card_start=end_start,
                                           end_card_end=composition.duration, logo=logo)
        text, emoji = script.text, ()
        if emoji_font is not None:
            try:
                text, emoji = colour_emoji.place(script.text, font=Path(emoji_font), size=(preset.width, preset.height),
                                                 fps=preset.fps, ffmpeg=ffmpeg, fonts_dir=fonts_dir,
                                                 workdir=Path(workdir), escape=escape_filter_value)
            except (OSError, RuntimeError, subprocess.TimeoutExpired) as exc:  # the outlines are still drawn
                log.warning("colour emoji not drawn: %s", exc)
        ass_path = Path(workdir) / "captions.ass"
        ass_path.write_text(text, encoding="utf-8")
        layer = caption_layer.plan(ass_path, text, script.regions, fps=preset.fps,
                                   frames=math.ceil(composition.duration * preset.fps), emoji=emoji)
    return build_command(composition=composition, preset=preset, out_path=out_path, encoding=encoding,
                         captions=layer, fonts_dir=fonts_dir, gain=prepared.gain, sources=prepared.sources,
                         encoder=encoder or resolve_encoder(encoding, ffmpeg=ffmpeg), zimg=has_zscale(ffmpeg),
                         ffmpeg=ffmpeg, stills=stills)


def render(composition: Composition, preset: Preset, out_path: str | Path, *, encoding: Encoding = Encoding(),
           progress: ProgressCallback | None = None, should_cancel: CancelCheck | None = None,
           ffmpeg: str | None = None, fonts_dir: str | Path | None = None,
           timeout: float | None = None, base: float = 0.0, span: float = 100.0,
           prepared: Prepared | None = None, stills_dir: str | Path | None = None,
           emoji_font: str | Path | None = None) -> RenderResult:
    """Render ``composition`` for ``preset`` into ``out_path`` (MP4, H.264 + AAC).

    ``progress(percent, message)`` is called as the render advances (``base``..``base+span``);
    ``should_cancel()`` is polled several times a second, and True stops ffmpeg, removes the
    partial file and raises :class:`RenderCanceled`. Failures raise :class:`RenderError`.
    ``prepared`` is :func:`prepare`'s result when several cuts of one composition are made
    (else it is worked out here); ``ffmpeg`` defaults to :func:`default_ffmpeg`. With ``stills_dir``
    the cut's poster and scrub strip are made from the frames being encoded and written there
    (``RenderResult.previews``). ``emoji_font``: a colour emoji font for the captions' emoji
    (:func:`.colour_emoji.find_font`); without one they are drawn as outlines.
    """
    composition.validate()
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    total = composition.duration
    timeout = timeout if timeout is not None else max(300.0, total * 30)

    def report(percent: float, message: str) -> None:
        if progress is not None:
            progress(round(base + span * percent / 100, 1), message)

    ffmpeg = ffmpeg or default_ffmpeg()
    if should_cancel is not None and should_cancel():
        raise RenderCanceled("render canceled")
    if prepared is None:
        report(0, "measuring loudness")
        prepared = prepare(composition, ffmpeg=ffmpeg, timeout=timeout)
    gain = prepared.gain
    report(MEASURE_SHARE, "rendering")

    encoder = resolve_encoder(encoding, ffmpeg=ffmpeg)
    temp_out = out_path.with_name(f".{out_path.stem}.{uuid.uuid4().hex[:8]}.part.mp4")
    cut_frames = math.ceil(total * preset.fps)  # as the output's -t: whole frames
    previews: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(prefix="render-") as workdir:
        stills = None
        if stills_dir is not None and max(preset.width, preset.height) <= POSTER_MAX_SIDE:  # posters as written
            stills = (stills_plan(frames=cut_frames, fps=preset.fps), Path(workdir) / "stills")
            stills[1].mkdir()
        cmd = render_command(composition, preset, temp_out, encoding=encoding, prepared=prepared,
                             workdir=workdir, ffmpeg=ffmpeg, fonts_dir=fonts_dir, encoder=encoder, stills=stills,
                             emoji_font=emoji_font)
        try:
            done = run_ffmpeg(cmd, total=total, progress=progress, should_cancel=should_cancel, timeout=timeout,
                              base=base + span * MEASURE_SHARE / 100, span=span * (100 - MEASURE_SHARE) / 100)
            os.replace(temp_out, out_path)
        finally:
            temp_out.unlink(missing_ok=True)
        if stills is not None:
            try:
                previews = assemble_stills(stills[0], stills[1], Path(stills_dir))
            except (StillsError, OSError) as exc:  # the cut is fine: its previews are made as any video's
                log.warning("render stills not used: %s", exc)

    # ffmpeg's own final report gives the length; the file is probed (and decode-checked) when it
    # is stored as an asset, so it is not probed here as well.
    out_time = done.get("out_time_us", "")
    frames = done.get("frame", "")
    duration = (int(out_time) / 1e6 if out_time.isdigit()
                else int(frames) / preset.fps if frames.isdigit() else 0.0)
    report(100, "done")
    return RenderResult(path=out_path, duration=duration, width=preset.width, height=preset.height, encoder=encoder,
                        loudness_gain_db=gain.gain_db if gain else None, previews=previews)
