"""Captions drawn when they change, then laid over every frame.

ffmpeg's ``ass`` filter draws the whole script (letters, outlines, shadows, boxes) onto every
frame, though a caption changes a few times a second at most: a karaoke short of 30 s has about 70
different pictures in 900 frames. Here the script is drawn only at the frames where what it shows
changes, onto two plain canvases: black, and a light one (white's luma, chroma at its top). A pixel
the drawing covers with coverage a differs between the two by (1 - a) times the canvases'
difference, so the pair gives each pixel's coverage and its own colour, and one ``overlay`` lays
that on each frame of the composition, in the boxes of the frame the script can draw in
(:class:`~.captions_ass.Region`). The frames are the ``ass`` filter's to within 3 levels of luma;
counted in instructions (callgrind), drawing the issue's short's captions takes less than half of
the ``ass`` filter's work.

Which frames change is read from the script itself: its events start and end between frames
(:func:`~.captions_ass.on_frames`), and a frame shows the events that started before it and end
after it. An event that moves or fades (``\\fad``, ``\\t``, ``\\move``, karaoke ``\\k``) is
drawn anew on each of its frames while it does.

All of it is in the render's one filter graph: two ``color`` sources (one frame drawn, then
shared), ``select`` of the changing frames, ``ass``, and per slice of the cut a crop, ``lut2``
for the colours and the coverage, and an ``overlay`` enabled only for that slice's frames.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import colour_emoji
from .captions_ass import Region, ass_seconds
from .colour_emoji import Overlay

# The two canvases, in TV range: black (16, 128, 128), and a light one whose luma is white's and
# whose chroma is at its top (235, 240, 240). A drawing of coverage a over them differs by
# (1 - a) times the canvases' difference, in every plane; with that, each pixel's colour is
# worked out from the one over black (x) and the one over the light canvas (y) as
# base + (x - base) / a, base being the black canvas's value.
BLACK_Y, LIGHT_Y, NEUTRAL_C, LIGHT_C = 16, 235, 128, 240
_SPAN_Y, _SPAN_C = LIGHT_Y - BLACK_Y, LIGHT_C - NEUTRAL_C
_STRAIGHT_Y = f"if(gte(y-x,{_SPAN_Y}),{BLACK_Y},clip({BLACK_Y}+(x-{BLACK_Y})*{_SPAN_Y}/({_SPAN_Y}-(y-x)),16,235))"
_STRAIGHT_C = (f"if(gte(y-x,{_SPAN_C}),{NEUTRAL_C},"
               f"clip({NEUTRAL_C}+(x-{NEUTRAL_C})*{_SPAN_C}/({_SPAN_C}-(y-x)),16,240))")
_ALPHA = f"clip(255-(y-x)*255/{_SPAN_Y},0,255)"

# The changing frames are listed in the filter graph, which is one argument of ffmpeg's command
# line (Linux takes at most 128 KiB per argument): past this length (about 4,000 changes, over half
# an hour of karaoke) the script is drawn on every frame by the ass filter, as it once always was.
MAX_EXPRESSION = 48_000

_DIALOGUE = re.compile(r"^Dialogue:\s*[^,]*,([^,]+),([^,]+),(?:[^,]*,){6}(.*)$")
_FADE = re.compile(r"\\fad\(\s*(\d+)\s*,\s*(\d+)\s*\)")
_ANIMATED = re.compile(r"\\(?:t\(|move\(|fade\(|k[fo]?\d|K\d)")


@dataclass(frozen=True)
class Event:
    """One Dialogue line: shown from ``start`` to ``end`` (ms); ``moving`` spans (ms) in which its
    picture changes from frame to frame."""

    start: int
    end: int
    moving: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Slice:
    """From frame ``first`` to frame ``last`` (inclusive) the script draws only inside ``box``
    (x0, y0, x1, y1)."""

    first: int
    last: int
    box: tuple[int, int, int, int]


@dataclass(frozen=True)
class CaptionLayer:
    """What the render draws of a script over a cut of ``frames`` frames: the script, the frames at
    which its picture changes (frame 0 first), the slices of the cut it draws in, and the colour
    emoji laid over it (:mod:`.colour_emoji`)."""

    script: Path
    frames: int
    changes: tuple[int, ...]
    slices: tuple[Slice, ...]
    emoji: tuple[Overlay, ...] = ()


def _ms(timestamp: str) -> int:
    return round(ass_seconds(timestamp) * 1000)


def parse_events(script: str) -> list[Event]:
    events = []
    for line in script.splitlines():
        match = _DIALOGUE.match(line)
        if not match:
            continue
        start, end, text = _ms(match.group(1)), _ms(match.group(2)), match.group(3)
        if end <= start:
            continue
        moving: list[tuple[int, int]] = []
        if _ANIMATED.search(text):
            moving.append((start, end))
        for fade_in, fade_out in _FADE.findall(text):
            moving += [(start, start + int(fade_in)), (end - int(fade_out), end)]
        events.append(Event(start, end, tuple((a, b) for a, b in moving if b > a)))
    return events


def _first_frame_at(ms: float, fps: int) -> int:
    """The first frame whose time is at or after ``ms``."""
    return math.ceil(ms * fps / 1000 - 1e-6)


def change_frames(events: Sequence[Event], *, fps: int, frames: int) -> tuple[int, ...]:
    """Frames (of ``frames``) at which the script's picture may differ from the frame before:
    frame 0, each event's first frame and the frame after its last, and every frame of a span
    in which an event moves."""
    changes = {0}
    for event in events:
        changes.add(_first_frame_at(event.start, fps))
        changes.add(_first_frame_at(event.end, fps))
        for start, end in event.moving:
            changes.update(range(_first_frame_at(start, fps), _first_frame_at(end, fps) + 1))
    return tuple(sorted(n for n in changes if 0 <= n < frames))


def _union(boxes: Sequence[tuple[int, int, int, int]]) -> tuple[int, int, int, int]:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def slices(regions: Sequence[Region], *, fps: int, frames: int) -> tuple[Slice, ...]:
    """The cut divided where a region comes into use or goes out of it; each slice draws in the
    box around the regions in use then. A frame is in no slice when nothing can be drawn on it."""
    spans = [(_first_frame_at(r.start * 1000, fps), min(frames, _first_frame_at(r.end * 1000, fps)), r.box)
             for r in regions]
    spans = [(a, b, box) for a, b, box in spans if b > a]
    cuts = sorted({0, frames, *(a for a, _, _ in spans), *(b for _, b, _ in spans)})
    result: list[Slice] = []
    for first, after in zip(cuts, cuts[1:]):
        boxes = [box for a, b, box in spans if a <= first and after <= b]
        if not boxes:
            continue
        box = _union(boxes)
        if result and result[-1].box == box and result[-1].last == first - 1:
            result[-1] = Slice(result[-1].first, after - 1, box)
        else:
            result.append(Slice(first, after - 1, box))
    return tuple(result)


def plan(script_path: Path, script: str, regions: Sequence[Region], *, fps: int, frames: int,
         emoji: Sequence[Overlay] = ()) -> CaptionLayer:
    """The layer for a script written at ``script_path`` (with no slices when it draws nothing)."""
    return CaptionLayer(script_path, frames, change_frames(parse_events(script), fps=fps, frames=frames),
                        slices(regions, fps=fps, frames=frames), tuple(emoji))


def _frames_expression(frames: Sequence[int]) -> str:
    """``select``'s expression for these frame numbers, runs of them as ``between``.

    The terms are summed as a balanced tree: ffmpeg's expression parser refuses a flat sum of more
    than 100 terms (a minute of karaoke), and nests a balanced one only log2(terms) deep."""
    terms, run = [], [frames[0], frames[0]]
    for n in frames[1:]:
        if n == run[1] + 1:
            run[1] = n
            continue
        terms.append(run)
        run = [n, n]
    terms.append(run)

    def total(items: Sequence[str]) -> str:
        if len(items) == 1:
            return items[0]
        half = len(items) // 2
        return f"({total(items[:half])}+{total(items[half:])})"

    return total([f"eq(n,{a})" if a == b else f"between(n,{a},{b})" for a, b in terms])


def filters(layer: CaptionLayer, *, main: str, out: str, size: tuple[int, int], fps: int,
            ass_options: str, tags: str, escape: Callable[[str], str]) -> list[str]:
    """Filter graph chains that draw ``layer`` over the stream labelled ``main`` into ``out``.

    ``ass_options``: the ``ass`` filter's options (script and fonts); ``tags``: the filter that
    gives frames the composition's colour tags (libass picks its colours' matrix by them);
    ``escape`` quotes a path for a filter option (the colour emoji's pictures)."""
    width, height = size
    count = len(layer.slices)
    if not count:
        return [f"[{main}]null[{out}]"]
    changes = _frames_expression(layer.changes)
    if len(changes) > MAX_EXPRESSION:  # a very long karaoke: the frames drawn as they pass instead
        if not layer.emoji:
            return [f"[{main}]ass={ass_options}[{out}]"]
        return [f"[{main}]ass={ass_options}[{out}t]",
                *colour_emoji.filters(layer.emoji, src=f"{out}t", out=out, tag="m", fps=fps, escape=escape)]
    canvas = f"s={width}x{height}:r={fps}:d={(layer.frames + 1) / fps:.6f},format=yuv420p,{tags},select='{changes}'"
    draw = f"ass={ass_options}"
    # The colour emoji are laid on both canvases as the script is on them: the pair then gives their
    # colours and coverage as it gives the script's.
    parts = [f"color=c=black:{canvas},{draw}[lbd]",
             *colour_emoji.filters(layer.emoji, src="lbd", out="lbe", tag="b", fps=fps, escape=escape),
             f"[lbe]split={2 * count}" + "".join(f"[lb{i}]" for i in range(2 * count)),
             f"color=c=white:{canvas},lutyuv=u={LIGHT_C}:v={LIGHT_C},{draw}[lwd]",
             *colour_emoji.filters(layer.emoji, src="lwd", out="lwe", tag="w", fps=fps, escape=escape),
             f"[lwe]split={2 * count}" + "".join(f"[lw{i}]" for i in range(2 * count))]
    # Each changed picture takes effect a quarter frame before its frame, so that the overlay takes
    # it for that frame however the two streams' timestamps are rounded.
    early = f"setpts='max(0,PTS-1/(4*{fps}*TB))'"
    current = main
    for i, piece in enumerate(layer.slices):
        x0, y0, x1, y1 = piece.box
        crop = f"crop={x1 - x0}:{y1 - y0}:{x0}:{y0}"
        k = f"l{i}"
        parts += [
            f"[lb{2 * i}]{crop}[{k}b1]", f"[lb{2 * i + 1}]{crop}[{k}b2]",
            f"[lw{2 * i}]{crop}[{k}w1]", f"[lw{2 * i + 1}]{crop}[{k}w2]",
            f"[{k}b1][{k}w1]lut2=c0='{_STRAIGHT_Y}':c1='{_STRAIGHT_C}':c2='{_STRAIGHT_C}'[{k}c]",
            f"[{k}b2][{k}w2]lut2=c0='{_ALPHA}':c1=0:c2=0,extractplanes=y[{k}a]",
            f"[{k}c][{k}a]alphamerge,settb=AVTB,{early}[{k}]",
            f"[{current}][{k}]overlay=x={x0}:y={y0}:format=yuv420:eof_action=repeat"
            f":enable='between(n,{piece.first},{piece.last})'[{k}o]",
        ]
        current = f"{k}o"
    parts.append(f"[{current}]null[{out}]")
    return parts
