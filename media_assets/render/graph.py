"""Composition -> one ffmpeg command line (pure: no I/O, no subprocess).

One process, one ``-filter_complex``, one lossy encode. Each source is an input of
its own, opened once with input seeking (``-ss``/``-t``) so only the used span is
decoded. Per clip: fps and the frame-exact trim first (surplus frames are dropped before any
pixel work), then the crop around the focus point (cheap: no copy), then a single scale to the output
size which also converts to yuv420p BT.709 TV range (zimg's ``zscale`` when the
ffmpeg has it: the same picture as swscale's for less CPU). Clips are joined by ``xfade``
(or ``concat`` for cuts); the watermark is overlaid on the clip timeline, the end
card is appended with its transition, and the ASS captions are drawn last (each change of them
once, laid over the frames: :mod:`.caption_layer`).

All filters are streaming ones: memory does not depend on the composition length.

Audio: voiceover, music (looped with ``-stream_loop``, faded out, ducked by a
``sidechaincompress`` keyed by the voiceover) and any clip audio are summed, then
brought to the target loudness by a measured gain and a peak limiter. The runner
measures the mix with :func:`build_audio_measure_command` (audio only, no video,
nothing written) and passes the gain back here, so the video is encoded once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .spec import (
    TARGET_TRUE_PEAK,
    Clip,
    Composition,
    Encoding,
    Preset,
    SourceInfo,
    SpecError,
    Transition,
    Watermark,
)
from . import caption_layer
from .caption_layer import CaptionLayer
from .stills import StillsPlan, select_filter
from .stills import output_args as stills_output_args

SAMPLE_RATE = 48000
# Sample-peak ceiling of the limiter: below the -1 dBTP target to leave room for
# inter-sample peaks and the AAC encoder's overshoot.
LIMITER_CEILING_DB = TARGET_TRUE_PEAK - 1.0
IMAGE_OVERSCAN = 1.5  # images are scaled once to this multiple so zoompan moves stay smooth
PUSH_IN_ZOOM = 0.10
DRIFT_ZOOM = 1.08

# HDR sources (phones record HLG by default) are tone-mapped to SDR BT.709 as BT.2408 advises: the
# HDR reference white (203 nits) becomes SDR white, and highlights up to the usual 1,000-nit peak are
# compressed above a knee (mobius: linear below 0.7 of white, so skin and mid-tones keep their values).
HDR_TRANSFERS = ("arib-std-b67", "smpte2084")  # HLG and PQ, in ffprobe's and zimg's names
HDR_REFERENCE_WHITE_NITS = 203
HDR_PEAK_NITS = 1000
HDR_KNEE = 0.7

# Non-square pixels (some camera, DVD and broadcast footage) are made square before any fit, which
# all work in pixels: wide pixels widen the picture and tall ones heighten it, so no stored sample is
# dropped. A rotated video's pixel aspect turns with it (ffmpeg inverts it). probe.square_pixel_size
# gives the size this makes, which the render's probe reports. The previews use it too.
SQUARE_PIXELS = "scale='if(gte(sar,1),trunc(iw*sar/2)*2,iw)':'if(gte(sar,1),ih,trunc(ih/sar/2)*2)',setsar=1"

# Frames tagged as what the encoder writes (newer ffmpeg takes the stream's colour fields from them).
BT709_FRAMES = "setparams=range=tv:color_primaries=bt709:color_trc=bt709:colorspace=bt709"

# The transitions blended by ``xfade`` (dip to black is two ``fade`` halves instead).
XFADE_NAMES = {
    ("crossfade", "left"): "fade",
    ("crossfade", "right"): "fade",
    ("zoom", "left"): "fade",  # over the outgoing clip's push-in
    ("zoom", "right"): "fade",
    ("wipe", "left"): "wipeleft",
    ("wipe", "right"): "wiperight",
    ("slide", "left"): "slideleft",
    ("slide", "right"): "slideright",
}


@dataclass(frozen=True)
class AudioGain:
    """Gain (dB) that brings the measured mix to the target loudness."""

    gain_db: float
    limit: bool = True


def escape_filter_value(value: str) -> str:
    """Escape a string for use as a filter option value inside -filter_complex.

    Two parsers read it: the option parser (``:`` ``'`` ``\\``) and the graph parser
    (``[ ] , ;`` ``'`` ``\\``), so it is escaped for both, innermost first.
    """
    inner = re.sub(r"([\\':])", r"\\\1", value)
    return re.sub(r"([\\'\[\],;])", r"\\\1", inner)


def _num(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".") or "0"


def _hex(colour: str) -> str:
    value = colour.strip().lstrip("#")
    if not re.fullmatch(r"[0-9a-fA-F]{6}", value):
        raise SpecError(f"colour must be #RRGGBB, got {colour!r}")
    return "0x" + value.upper()


def _frame_at(seconds: float, fps: int) -> int:
    return math.floor(seconds * fps + 0.5 + 1e-9)


@dataclass(frozen=True)
class FramePlan:
    """Whole frames of each clip, of each join's overlap and of the end card.

    Rounded on the timeline, not clip by clip: the cut lasts exactly ``round(duration * fps)``
    frames and no clip starts more than half a frame away from its audio, however many
    clips of fractional length precede it.
    """

    clips: tuple[int, ...]
    overlaps: tuple[int, ...]  # overlaps[i]: frames shared by clips i and i + 1
    card: int = 0
    card_overlap: int = 0

    @property
    def main(self) -> int:
        return sum(self.clips) - sum(self.overlaps)


def frame_plan(composition: Composition, fps: int) -> FramePlan:
    starts = composition.clip_starts()
    ends = [start + clip.length for start, clip in zip(starts, composition.clips)]
    clips = tuple(max(1, _frame_at(end, fps) - _frame_at(start, fps)) for start, end in zip(starts, ends))
    overlaps = tuple(max(0, _frame_at(ends[i], fps) - _frame_at(starts[i + 1], fps)) for i in range(len(clips) - 1))
    card = composition.end_card
    if card is None:
        return FramePlan(clips, overlaps)
    card_start = ends[-1] - card.transition.overlap
    return FramePlan(clips, overlaps, card=max(1, _frame_at(composition.duration, fps) - _frame_at(card_start, fps)),
                     card_overlap=max(0, _frame_at(ends[-1], fps) - _frame_at(card_start, fps)))


def xfade_name(transition: Transition) -> str:
    try:
        return XFADE_NAMES[(transition.kind, transition.direction)]
    except KeyError as exc:
        raise SpecError(f"unknown transition {transition.kind!r}") from exc


def _join(tail: str, head: str, out: str, transition: Transition, frames: int, fps: int,
          size: tuple[int, int]) -> list[str]:
    """The ``frames`` overlapping frames of two clips joined by ``transition``, in yuv420p.

    - Dip to black: the first half of the overlap fades the outgoing clip to black, the
      second half fades the incoming one in (the ``fade`` filter works on yuv420p directly).
    - Zoom: the outgoing clip pushes in (up to twice its size) while the incoming one
      cross-fades over it.
    - Crossfade, wipe, slide: ``xfade``. It works in yuv444p only, but these treat every
      plane alike, so the yuv420p planes are blended one by one as grey pictures: no 444
      round trip, and half the samples.
    """
    if transition.kind == "dip_to_black":
        half = frames // 2
        fade_in = f"fade=t=in:nb_frames={frames - half}"
        if half == 0:
            return [f"[{tail}]nullsink", f"[{head}]{fade_in}[{out}]"]
        return [f"[{tail}]trim=end_frame={half},fade=t=out:nb_frames={half}[{out}o]",
                f"[{head}]trim=start_frame={half},setpts=PTS-STARTPTS,{fade_in}[{out}i]",
                f"[{out}o][{out}i]concat=n=2:v=1:a=0[{out}]"]
    seconds = _num(frames / fps)
    xfade = f"xfade=transition={xfade_name(transition)}:duration={seconds}:offset=0"
    if transition.kind == "zoom":
        width, height = size
        grow = f"(1+n/{frames})"
        # Frames are already in the output format: same matrix and range in and out.
        tail_chain = (f"scale=w='trunc({width}*{grow}/2)*2':h='trunc({height}*{grow}/2)*2':eval=frame:flags=bilinear,"
                      f"crop={width}:{height},setsar=1,format=yuv420p")
    else:
        tail_chain = "format=yuv420p"
    parts = [f"[{tail}]{tail_chain},extractplanes=y+u+v[{out}ty][{out}tu][{out}tv]",
             f"[{head}]format=yuv420p,extractplanes=y+u+v[{out}hy][{out}hu][{out}hv]"]
    parts += [f"[{out}t{p}][{out}h{p}]{xfade}[{out}{p}]" for p in "yuv"]
    parts.append(f"[{out}y][{out}u][{out}v]mergeplanes=0x001020:yuv420p,{BT709_FRAMES},setsar=1[{out}]")
    return parts


MIX_FORMAT = "f32le"  # a kept mix: raw 32-bit float, 48 kHz stereo, exactly the samples the render mixes
_MIX_AFORMAT = f"aformat=sample_fmts=fltp:sample_rates={SAMPLE_RATE}:channel_layouts=stereo"


class _Inputs:
    def __init__(self) -> None:
        self.args: list[str] = []
        self.count = 0

    def add(self, path: str | Path, *options: str) -> int:
        self.args += [*options, "-protocol_whitelist", "file", "-i", str(path)]
        self.count += 1
        return self.count - 1


_MATRICES = {"bt709": "bt709", "bt470bg": "bt470", "smpte170m": "smpte170m", "bt2020nc": "bt2020",
             "bt2020c": "bt2020", "fcc": "fcc", "smpte240m": "smpte240m"}


def input_matrix(info: SourceInfo | None) -> str:
    """YCbCr matrix of a source: its tag, else the usual convention (HD is BT.709, SD BT.601).

    swscale alone would treat every untagged source as BT.601; besides being wrong for
    untagged HD, that forces a matrix conversion that costs more than the scaling itself.
    """
    if info is None:
        return "auto"
    if info.color_space in _MATRICES:
        return _MATRICES[info.color_space]
    if info.width >= 1280 or info.height >= 720:
        return "bt709"
    return "bt601"


# input_matrix's answers in zimg's names. "auto" (nothing known) has none: zimg refuses a matrix
# conversion from an unspecified one, where swscale assumes BT.601.
_ZIMG_MATRICES = {"bt709": "bt709", "bt470": "bt470bg", "smpte170m": "smpte170m", "bt601": "smpte170m",
                  "bt2020": "bt2020nc", "fcc": "fcc", "smpte240m": "smpte240m"}


def hdr_transfer(info: SourceInfo | None) -> str | None:
    """The source's HDR transfer (HLG or PQ), None for SDR or unknown."""
    return info.transfer if info is not None and info.transfer in HDR_TRANSFERS else None


def tone_map_to_sdr(transfer: str, *, matrix: str = "bt2020nc", primaries: str = "bt2020",
                    size: tuple[int, int] | None = None, flags: str = "bicubic") -> str:
    """Filters taking an HDR picture (``transfer``: HLG or PQ) to SDR BT.709 yuv420p with zimg.

    With ``size``, zimg first resizes the picture to it, so the tone map in linear light works
    at that size (cheaper than at the source's). The library's previews use it too."""
    resize = f"w={size[0]}:h={size[1]}:filter={flags}:" if size else ""
    return (f"zscale={resize}matrixin={matrix}:transferin={transfer}:primariesin={primaries}"
            f":transfer=linear:npl={HDR_REFERENCE_WHITE_NITS},format=gbrpf32le,zscale=primaries=bt709,"
            f"tonemap=mobius:param={_num(HDR_KNEE)}:desat=0:peak={_num(HDR_PEAK_NITS / HDR_REFERENCE_WHITE_NITS)},"
            "zscale=transfer=bt709:matrix=bt709:range=limited,format=yuv420p")


def _hdr_to_sdr(size: tuple[int, int], source: SourceInfo, *, flags: str = "bicubic") -> str:
    """:func:`tone_map_to_sdr` for a probed HDR source. Untagged matrix or primaries are taken as
    BT.2020's, as HDR video is (not as untagged SDR HD is)."""
    matrix = _ZIMG_MATRICES.get(_MATRICES.get(source.color_space or ""), "bt2020nc")
    primaries = source.primaries if source.primaries in ("bt709", "bt2020", "smpte432") else "bt2020"
    return tone_map_to_sdr(source.transfer, matrix=matrix, primaries=primaries, size=size, flags=flags)


def _fit_video(preset: Preset, source: SourceInfo | None, *, zimg: bool,
               size: tuple[int, int] | None = None, flags: str = "bicubic") -> str:
    """Each frame of a video to ``size`` (default: the cut's) in the output format, resampled
    with ``flags`` (bicubic, or bilinear for the blurred fill).

    zimg (``zscale``) gives swscale's picture (72 dB PSNR between the two on the benchmark's
    4K clip) for less CPU: that clip's fit takes about two thirds of swscale's time, and the
    contained clip's small fill about half. Without zimg, or without a known matrix (zimg will
    not guess one), swscale. HDR sources are tone-mapped with zimg (without it they keep
    swscale's flat, dim picture).
    """
    width, height = size or (preset.width, preset.height)
    if zimg and source is not None and hdr_transfer(source):
        return _hdr_to_sdr((width, height), source, flags=flags) + ",setsar=1"
    in_matrix = input_matrix(source)
    if zimg and in_matrix in _ZIMG_MATRICES:
        return (f"zscale=w={width}:h={height}:filter={flags}:matrixin={_ZIMG_MATRICES[in_matrix]}"
                ":matrix=bt709:range=limited,format=yuv420p,setsar=1")
    return _to_output_format(preset, in_matrix=in_matrix, size=size, flags=flags)


def _to_output_format(preset: Preset, *, extra: str = "", in_matrix: str = "auto", flags: str = "bicubic",
                      size: tuple[int, int] | None = None) -> str:
    width, height = size or (preset.width, preset.height)
    return (
        f"scale={width}:{height}:flags={flags}{extra}:in_color_matrix={in_matrix}"
        ":out_color_matrix=bt709:out_range=tv,format=yuv420p,setsar=1"
    )


def _cover_crop(preset: Preset, focus: tuple[float, float]) -> str:
    fx, fy = focus
    a = f"{preset.width}/{preset.height}"
    # Largest window of the output aspect that fits the source, centred on the focus
    # point and clamped inside the frame.
    return (
        f"crop=w='trunc(min(iw,ih*{a})/2)*2':h='trunc(min(ih,iw/({a}))/2)*2'"
        f":x='max(0,min(iw-ow,iw*{_num(fx)}-ow/2))':y='max(0,min(ih-oh,ih*{_num(fy)}-oh/2))'"
    )


def watermark_width(preset: Preset, watermark: Watermark) -> int:
    return max(2, int(round(preset.width * watermark.scale / 2) * 2))


def watermark_box(preset: Preset, watermark: Watermark, logo_size: tuple[int, int]) -> tuple[int, int, int, int]:
    """Pixel box (x0, y0, x1, y1) the logo of ``logo_size`` (width, height) covers in this preset's frame."""
    width = watermark_width(preset, watermark)
    height = max(2, int(round(width * logo_size[1] / max(1, logo_size[0]) / 2) * 2))  # as scale=W:-2 makes it
    x0 = preset.safe.left if watermark.position.endswith("left") else preset.width - preset.safe.right - width
    y0 = preset.safe.top if watermark.position.startswith("top") else preset.height - preset.safe.bottom - height
    return x0, y0, x0 + width, y0 + height


def is_output_ready(source: SourceInfo | None, preset: Preset) -> bool:
    """The source already has the cut's size, pixel format, matrix and range: nothing to convert."""
    return (source is not None and (source.width, source.height) == (preset.width, preset.height)
            and source.pix_fmt == "yuv420p" and source.color_range in (None, "tv")
            and input_matrix(source) == "bt709" and hdr_transfer(source) is None)


def contain_size(preset: Preset, source: SourceInfo | None) -> tuple[int, int] | None:
    """Even size of the source fitted whole inside the frame; None when the source size is unknown."""
    if source is None or source.width <= 0 or source.height <= 0:
        return None
    scale = min(preset.width / source.width, preset.height / source.height)
    return (min(preset.width, max(2, round(source.width * scale / 2) * 2)),
            min(preset.height, max(2, round(source.height * scale / 2) * 2)))


def _contain_blur(preset: Preset, src: str, out: str, tag: str, source: SourceInfo | None = None,
                  zimg: bool = False) -> list[str]:
    """The whole source over a blurred, darkened cover of itself.

    The fill is built at 1/8 size (cheap to blur). With the source size known, the picture
    and the two fill bands beside it are stacked: no alpha blend, and only the bands are
    scaled up. Otherwise the fill is scaled to the frame and the picture laid over it.
    """
    w, h = preset.width, preset.height
    sw, sh = max(2, w // 8 // 2 * 2), max(2, h // 8 // 2 * 2)
    small = _fit_video(preset, source, zimg=zimg, size=(sw, sh), flags="bilinear")
    fill = f"{_cover_crop(preset, (0.5, 0.5))},{small},boxblur=4:2,lutyuv=y='val*0.55'"
    size = contain_size(preset, source)
    if size == (w, h):
        return [f"[{src}]{_fit_video(preset, source, zimg=zimg)}[{out}]"]
    if size is None:
        contain = ":force_original_aspect_ratio=decrease:force_divisible_by=2"
        return [
            f"[{src}]split=2[{tag}bg][{tag}fg]",
            # scale keeps the small fill's shape by making pixels non-square: they are made square again.
            f"[{tag}bg]{fill},scale={w}:{h}:flags=fast_bilinear,setsar=1[{tag}bgo]",
            f"[{tag}fg]{_to_output_format(preset, in_matrix=input_matrix(source), extra=contain)}[{tag}fgo]",
            f"[{tag}bgo][{tag}fgo]overlay=x=(W-w)/2:y=(H-h)/2:format=yuv420[{out}]",
        ]
    fw, fh = size
    vertical = fw == w  # bands above and below the picture (else left and right of it)
    gap = h - fh if vertical else w - fw
    first = gap // 4 * 2  # even, as yuv420p needs
    sides = [(f"{tag}b0", first, True), (f"{tag}b1", gap - first, False)]
    bands = [(name, length, at_start) for name, length, at_start in sides if length > 0]
    parts = [f"[{src}]split=2[{tag}bg][{tag}fg]", f"[{tag}bg]{fill},split={len(bands)}" + "".join(f"[{n}s]" for n, _, _ in bands)]
    for name, length, at_start in bands:
        # The band's share of the small fill, scaled up to the band's size.
        if vertical:
            rows = min(sh, max(2, math.ceil(length * sh / h / 2) * 2))
            crop, out_size = f"crop={sw}:{rows}:0:{0 if at_start else sh - rows}", f"{w}:{length}"
        else:
            cols = min(sw, max(2, math.ceil(length * sw / w / 2) * 2))
            crop, out_size = f"crop={cols}:{sh}:{0 if at_start else sw - cols}:0", f"{length}:{h}"
        parts.append(f"[{name}s]{crop},scale={out_size}:flags=fast_bilinear,setsar=1[{name}]")
    parts.append(f"[{tag}fg]{_fit_video(preset, source, zimg=zimg, size=size)}[{tag}pic]")
    stacked = [f"[{n}]" for n, _, at_start in bands if at_start] + [f"[{tag}pic]"] + [f"[{n}]" for n, _, at_start in bands if not at_start]
    parts.append(f"{''.join(stacked)}{'vstack' if vertical else 'hstack'}=inputs={len(stacked)}[{out}]")
    return parts


def _clip_video(clip: Clip, index: int, input_index: int, preset: Preset, out: str,
                source: SourceInfo | None, frames: int, zimg: bool = False) -> list[str]:
    fps = preset.fps
    fit, focus = clip.fit_for(preset.key), clip.focus_for(preset.key)
    tag = f"c{index}"
    # Frame-exact length: the joins below cut clips by frame number, not by float time.
    cut = f"trim=end_frame={frames},setpts=PTS-STARTPTS,settb=AVTB"
    tail = f"fps={fps},{cut}"
    parts: list[str] = []
    if clip.kind == "image":
        still = f"{input_index}:v"
        if source is not None and source.pix_fmt == "rgba":
            # A transparent still (a product cut-out, a logo) is laid on white, as the studio shows
            # it everywhere else (its previews are flattened onto white); ffmpeg would otherwise
            # show whatever colour is stored under the transparency.
            parts += [f"[{still}]format=rgba,split=2[{tag}w][{tag}a]",
                      f"[{tag}w]drawbox=c=white@1:replace=1:t=fill[{tag}white]",
                      f"[{tag}white][{tag}a]overlay=format=rgb[{tag}flat]"]
            still = f"{tag}flat"
        if clip.motion != "none":
            ow = int(round(preset.width * IMAGE_OVERSCAN / 2) * 2)
            oh = int(round(preset.height * IMAGE_OVERSCAN / 2) * 2)
            fx, fy = focus
            if clip.motion == "push_in":
                z = f"'1+{_num(PUSH_IN_ZOOM)}*on/{frames}'"
                x = f"'(iw-iw/zoom)*{_num(fx)}'"
            else:
                z = f"'{_num(DRIFT_ZOOM)}'"
                x = f"'(iw-iw/zoom)*on/{frames}'"
            y = f"'(ih-ih/zoom)*{_num(fy)}'"
            if fit == "cover":
                parts.append(f"[{still}]{_cover_crop(preset, focus)},{_to_output_format(preset, size=(ow, oh))}[{tag}big]")
            else:  # the whole picture over its blurred fill, laid out larger, moves as one frame
                parts += _contain_blur(replace(preset, width=ow, height=oh), still, f"{tag}big", tag)
            parts.append(
                # zoompan already makes exactly `frames` frames at the output rate; an fps filter
                # after it would drop the last one (it has no duration at the end of the stream).
                f"[{tag}big]zoompan=z={z}:x={x}:y={y}:d={frames}:s={preset.width}x{preset.height}:fps={fps},"
                f"setsar=1,{cut}[{out}]"
            )
            return parts
        # Still image without motion: fit once, then repeat the same frame (no pixel work).
        hold = f"tpad=stop_mode=clone:stop_duration={_num(clip.length + 1)},{tail}"
        if fit == "cover":
            parts.append(f"[{still}]{_cover_crop(preset, focus)},{_to_output_format(preset)},{hold}[{out}]")
        else:
            parts += _contain_blur(preset, still, f"{tag}fit", tag)
            parts.append(f"[{tag}fit]{hold}[{out}]")
        return parts

    # Videos: timed first (the output rate, padded with the last frame in case the source is a
    # little short, trimmed to the exact frame count), then fitted, so only the frames kept are
    # fitted. The fit is also the chain's last filter that makes new frames: fps and tpad keep a
    # reference to each frame they pass on, and a frame still referenced is copied whole by the
    # first filter that draws on it (the captions' overlay, a fade).
    pad = f"tpad=stop_mode=clone:stop_duration={_num(2.0 / fps)}"
    square = f",{SQUARE_PIXELS}" if source is not None and source.sar != 1 else ""
    timed = f"[{input_index}:v]fps={fps}{square},{pad},{cut}"
    if is_output_ready(source, preset):
        parts.append(f"{timed},setsar=1,{BT709_FRAMES}[{out}]")
    elif fit == "cover":
        parts.append(f"{timed},{_cover_crop(preset, focus)},{_fit_video(preset, source, zimg=zimg)}[{out}]")
    else:
        parts.append(f"{timed}[{tag}in]")
        parts += _contain_blur(preset, f"{tag}in", out, tag, source, zimg)
    return parts


def _clip_input(inputs: _Inputs, clip: Clip) -> int:
    if clip.kind == "image":
        return inputs.add(clip.path)
    return inputs.add(clip.path, "-ss", _num(clip.in_point), "-t", _num(clip.length + 0.1))


def clip_audio_flags(composition: Composition, sources: Sequence[SourceInfo | None] | None) -> list[bool]:
    """Which clips contribute their own sound (see spec: mute under a voiceover by default)."""
    flags = []
    for i, clip in enumerate(composition.clips):
        info = sources[i] if sources is not None and i < len(sources) else None
        probed = info is not None and info.has_audio
        if clip.kind == "image":
            flags.append(False)
        elif clip.has_audio is None:
            flags.append(probed and composition.voiceover is None)
        else:
            # Forced on still needs a stream to exist, when we know.
            flags.append(bool(clip.has_audio) and (info is None or probed))
    return flags


def _audio_graph(composition: Composition, inputs: _Inputs, clip_inputs: dict[int, int],
                 clip_audio: Sequence[bool], gain: AudioGain | None, *, measure: bool) -> tuple[list[str], str]:
    total = composition.duration
    fmt = _MIX_AFORMAT
    parts: list[str] = []
    mix: list[str] = []
    starts = composition.clip_starts()

    voice_key = None
    if composition.voiceover is not None:
        vo = composition.voiceover
        idx = inputs.add(vo.path)
        delay = max(0, round(vo.start * 1000))
        parts.append(
            f"[{idx}:a]aresample={SAMPLE_RATE},{fmt},volume={_num(vo.gain_db)}dB,"
            f"adelay=delays={delay}:all=1,apad=whole_dur={_num(total)},atrim=duration={_num(total)}[vo]"
        )
        if composition.music is not None and composition.music.duck:
            parts.append("[vo]asplit=2[vomix][vokey]")
            mix.append("[vomix]")
            voice_key = "[vokey]"
        else:
            mix.append("[vo]")

    if composition.music is not None:
        mu = composition.music
        idx = inputs.add(mu.path, *(["-stream_loop", "-1"] if mu.loop else []))
        fade = min(mu.fade_out, total / 2)
        chain = (
            f"[{idx}:a]aresample={SAMPLE_RATE},{fmt},volume={_num(mu.level_db)}dB,"
            f"apad=whole_dur={_num(total)},atrim=duration={_num(total)},asetpts=PTS-STARTPTS"
        )
        if fade > 0:
            chain += f",afade=t=out:st={_num(total - fade)}:d={_num(fade)}"
        if voice_key:
            parts.append(chain + "[mus]")
            # Ducking: the voice keys a compressor on the music; ~-12 dB while speaking.
            parts.append(
                f"[mus]{voice_key}sidechaincompress=threshold=0.01:ratio=12:attack=20:release=400:knee=2[musd]"
            )
            mix.append("[musd]")
        else:
            parts.append(chain + "[mus]")
            mix.append("[mus]")

    for i, clip in enumerate(composition.clips):
        if not clip_audio[i]:
            continue
        idx = clip_inputs[i]
        length = clip.length
        fade_in = composition.transition_after(i - 1).overlap if i > 0 else 0.0
        fade_out = composition.transition_after(i).overlap if i < len(composition.clips) - 1 else 0.0
        if i == len(composition.clips) - 1 and composition.end_card is not None:
            fade_out = composition.end_card.transition.overlap
        fade_in, fade_out = max(fade_in, 0.01), max(fade_out, 0.01)
        parts.append(
            f"[{idx}:a]aresample={SAMPLE_RATE},{fmt},atrim=duration={_num(length)},asetpts=PTS-STARTPTS,"
            f"afade=t=in:d={_num(fade_in)},afade=t=out:st={_num(length - fade_out)}:d={_num(fade_out)},"
            f"adelay=delays={round(starts[i] * 1000)}:all=1[ca{i}]"
        )
        mix.append(f"[ca{i}]")

    if not mix:
        parts.append(f"anullsrc=r={SAMPLE_RATE}:cl=stereo,atrim=duration={_num(total)}[aout]")
        return parts, "[aout]"

    if len(mix) == 1:
        parts.append(f"{mix[0]}anull[amix]")
    else:
        parts.append(f"{''.join(mix)}amix=inputs={len(mix)}:duration=longest:normalize=0[amix]")
    chain = f"[amix]apad=whole_dur={_num(total)},atrim=duration={_num(total)}"
    if gain is not None:
        chain += f",{master_filters(gain)}"
    if measure:
        # True peak (4x oversampling) only matters before the limiter is in the chain.
        peak = "peak=true:" if gain is None else ""
        chain += f",ebur128={peak}framelog=verbose,{fmt}"
    else:
        chain += f",{fmt}"
    parts.append(chain + "[aout]")
    return parts, "[aout]"


def master_filters(gain: AudioGain) -> str:
    """What is done to the whole mix: the loudness gain and, where it needs one, the peak limiter."""
    chain = f"volume={_num(gain.gain_db)}dB"
    if gain.limit:
        ceiling = 10 ** (LIMITER_CEILING_DB / 20)
        chain += f",alimiter=limit={ceiling:.4f}:attack=5:release=80:level=false:latency=true"
    return chain


def has_audio_mix(composition: Composition, clip_audio: Sequence[bool]) -> bool:
    return composition.voiceover is not None or composition.music is not None or any(clip_audio)


def build_audio_measure_command(*, composition: Composition, sources: Sequence[SourceInfo | None] | None = None,
                                gain: AudioGain | None = None, ffmpeg: str = "ffmpeg",
                                mix_out: str | Path | None = None) -> list[str]:
    """Audio-only pass that prints the mix's loudness (ebur128 summary on stderr).

    Decodes only audio and encodes nothing. With ``mix_out`` (and no ``gain``) the measured mix
    is kept there as raw 32-bit float PCM (:data:`MIX_FORMAT`), for :func:`build_master_measure_command`;
    else nothing is written (``-f null``).
    """
    composition.validate()
    if mix_out is not None and gain is not None:
        raise SpecError("the mix kept for later passes is the one before the gain")
    flags = clip_audio_flags(composition, sources)
    inputs = _Inputs()
    clip_inputs = {i: _clip_input(inputs, clip) for i, clip in enumerate(composition.clips) if flags[i]}
    parts, label = _audio_graph(composition, inputs, clip_inputs, flags, gain, measure=True)
    output = ["-c:a", "pcm_f32le", "-f", MIX_FORMAT, "-y", str(mix_out)] if mix_out is not None else ["-f", "null", "-"]
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-nostats", *inputs.args,
        "-filter_complex", ";".join(parts), "-map", label, "-vn", *output,
    ]


def build_master_measure_command(mix_path: str | Path, gain: AudioGain, *, ffmpeg: str = "ffmpeg") -> list[str]:
    """The loudness of a mix kept by :func:`build_audio_measure_command` once ``gain`` (and its
    limiter) is applied, as the render applies them: the sources are not decoded and mixed again."""
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-f", MIX_FORMAT, "-sample_rate", str(SAMPLE_RATE),
        "-ch_layout", "stereo", "-protocol_whitelist", "file", "-i", str(mix_path),
        "-af", f"{_MIX_AFORMAT},{master_filters(gain)},ebur128=framelog=verbose", "-f", "null", "-",
    ]


def video_codec_args(*, encoder: str, encoding: Encoding) -> list[str]:
    """Encoder arguments; ``encoder`` is the resolved one: "x264" or "nvenc"."""
    if encoder == "nvenc":
        return [
            "-c:v", "h264_nvenc", "-preset", "p5", "-tune", "hq", "-rc", "vbr",
            "-cq", str(encoding.crf), "-b:v", "0", "-profile:v", "high",
        ]
    args = ["-c:v", "libx264", "-profile:v", "high", "-preset", encoding.preset, "-crf", str(encoding.crf)]
    if encoding.threads:
        args += ["-threads", str(encoding.threads)]
    return args


def build_command(*, composition: Composition, preset: Preset, out_path: str | Path, encoding: Encoding,
                  captions: CaptionLayer | None = None, fonts_dir: str | Path | None = None,
                  gain: AudioGain | None = None, sources: Sequence[SourceInfo | None] | None = None,
                  encoder: str = "x264", zimg: bool = False, ffmpeg: str = "ffmpeg",
                  progress: bool = True, stills: tuple[StillsPlan, Path] | None = None) -> list[str]:
    """The full ffmpeg argument list rendering ``composition`` for ``preset`` into ``out_path``.

    ``captions``: the captions and end-card script (:func:`captions_ass.build_script`) as
    :func:`caption_layer.plan` lays it out;
    ``gain`` the loudness correction measured by the audio pass; ``sources`` what was
    probed about each clip's source (audio stream, size, colour matrix); ``encoder`` is
    "x264" or "nvenc"; ``zimg``: this ffmpeg has the ``zscale`` filter (videos are fitted with it);
    ``stills``: the frames to write as JPEGs, and the folder, for the cut's poster and scrub strip
    (:mod:`.stills`).
    """
    composition.validate()
    if composition.captions is not None and any(cue.words for cue in composition.captions.cues) and captions is None:
        raise SpecError("captions need their script's layer (caption_layer.plan)")
    fps, width, height = preset.fps, preset.width, preset.height
    flags = clip_audio_flags(composition, sources)
    inputs = _Inputs()
    parts: list[str] = []

    plan = frame_plan(composition, fps)
    clip_inputs: dict[int, int] = {}
    for i, clip in enumerate(composition.clips):
        clip_inputs[i] = _clip_input(inputs, clip)
        source = sources[i] if sources is not None and i < len(sources) else None
        parts += _clip_video(clip, i, clip_inputs[i], preset, f"v{i}", source, plan.clips[i], zimg)

    # Joins. xfade works in yuv444p only, so feeding it whole clips would convert every
    # frame 420 -> 444 -> 420. Instead each clip is split (by frame number) into head /
    # body / tail; only the overlapping tail+head pairs go through their transition
    # (_join) and everything is concatenated in yuv420p. split+trim drop frames as they pass, so no branch
    # queues more than a frame or two.
    card = composition.end_card
    streams: list[tuple[str, int, int, Transition | None]] = []  # label, frames, head frames, transition in
    for i in range(len(composition.clips)):
        head = plan.overlaps[i - 1] if i > 0 else 0
        streams.append((f"v{i}", plan.clips[i], head, composition.transition_after(i - 1) if i > 0 else None))
    if card is not None:
        parts.append(
            f"color=c={_hex(card.background)}:s={width}x{height}:r={fps}:d={_num(card.duration + 1)},"
            f"format=yuv420p,setsar=1,settb=AVTB,trim=end_frame={plan.card}[vcard]"
        )
        streams.append(("vcard", plan.card, plan.card_overlap, card.transition))

    segments: list[str] = []
    previous_tail: str | None = None
    for n, (label, frames, head, transition) in enumerate(streams):
        tail = streams[n + 1][2] if n + 1 < len(streams) else 0
        pieces = []
        if head:
            pieces.append(("h", 0, head))
        if frames - head - tail > 0:
            pieces.append(("b", head, frames - tail))
        if tail:
            pieces.append(("t", frames - tail, frames))
        names = [f"{kind}{label}" for kind, _, _ in pieces]
        if len(pieces) > 1:
            parts.append(f"[{label}]split={len(pieces)}{''.join(f'[{x}pre]' for x in names)}")
            branch_inputs = [f"{x}pre" for x in names]
        else:
            branch_inputs = [label]
        for (kind, start, end), name, src in zip(pieces, names, branch_inputs):
            if len(pieces) > 1:
                parts.append(f"[{src}]trim=start_frame={start}:end_frame={end},setpts=PTS-STARTPTS[{name}]")
            else:
                parts.append(f"[{src}]null[{name}]")
        for (kind, _, _), name in zip(pieces, names):
            if kind == "h":
                if previous_tail is None or transition is None:  # pragma: no cover - built above
                    raise SpecError("transition without a preceding clip")
                joined = f"x{label}"
                parts += _join(previous_tail, name, joined, transition, head, fps, (width, height))
                segments.append(joined)
            elif kind == "b":
                segments.append(name)
            else:
                previous_tail = name
    if len(segments) == 1:
        current = segments[0]
    else:
        parts.append(f"{''.join(f'[{x}]' for x in segments)}concat=n={len(segments)}:v=1:a=0[joined]")
        current = "joined"

    if composition.watermark is not None:
        wm = composition.watermark
        idx = inputs.add(wm.path)
        logo_w = watermark_width(preset, wm)
        sx = preset.safe.left if wm.position.endswith("left") else f"W-w-{preset.safe.right}"
        sy = preset.safe.top if wm.position.startswith("top") else f"H-h-{preset.safe.bottom}"
        opacity = min(max(wm.opacity, 0.0), 1.0)
        parts.append(f"[{idx}:v]scale={logo_w}:-2,format=rgba,colorchannelmixer=aa={_num(opacity)}[wm]")
        # A single logo frame; overlay repeats it (eof_action=repeat). Off over the end card.
        enable = ""
        if card is not None:
            enable = f":enable='lt(t,{_num((plan.main - plan.card_overlap / 2) / fps)})'"
        parts.append(f"[{current}][wm]overlay=x={sx}:y={sy}:eof_action=repeat:format=yuv420{enable}[wmd]")
        current = "wmd"

    if captions is not None:
        opts = f"filename={escape_filter_value(str(captions.script))}"
        if fonts_dir is not None:
            opts += f":fontsdir={escape_filter_value(str(fonts_dir))}"
        parts += caption_layer.filters(captions, main=current, out="sub", size=(width, height), fps=fps,
                                       ass_options=opts, tags=BT709_FRAMES, escape=escape_filter_value)
        current = "sub"
    if stills is None:
        parts.append(f"[{current}]format=yuv420p,{BT709_FRAMES}[vout]")
    else:  # the finished pictures, a few of them also to the stills output
        parts.append(f"[{current}]format=yuv420p,{BT709_FRAMES},split=2[vout][vstill]")
        parts.append(f"[vstill]{select_filter(stills[0])}[stills]")

    audio_parts, audio_label = _audio_graph(composition, inputs, clip_inputs, flags, gain, measure=False)
    parts += audio_parts

    resolved = "nvenc" if encoder == "nvenc" else "x264"
    total = composition.duration
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-y", *inputs.args, "-filter_complex", ";".join(parts),
           "-map", "[vout]", "-map", audio_label,
           *video_codec_args(encoder=resolved, encoding=encoding),
           "-pix_fmt", "yuv420p", "-r", str(fps),
           "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv",
           "-c:a", "aac", "-b:a", encoding.audio_bitrate, "-ar", str(SAMPLE_RATE), "-ac", "2",
           "-t", _num(math.ceil(total * fps) / fps), "-movflags", "+faststart", "-f", "mp4"]
    if progress:
        cmd += ["-progress", "pipe:1", "-nostats"]
    cmd.append(str(out_path))
    if stills is not None:
        cmd += stills_output_args(stills[1], "stills")
    return cmd
