"""Colour emoji in burned-in captions and end cards.

libass draws glyphs as outlines in one colour, so the captions script sets emoji in a monochrome
emoji font (:data:`.captions_ass.EMOJI_FAMILY`). Where a colour emoji font is at hand (Noto Color
Emoji), the render draws them in colour instead:

1. **Where libass puts them.** For each event with emoji, and each run of emoji in it, a probe
   frame is drawn with everything transparent but that run, in white: its ink box is where the
   run lands, laid out by libass itself with the rest of the line (wrapping, centring, kerning,
   the fonts on either side).
2. **The picture.** Pillow draws the run in the colour font (skin tones, joined sequences and
   flags included, with raqm), trimmed to its ink and scaled to the height of the outline's ink,
   centred where the outline was.
3. **In the render.** The script's emoji are made transparent (fill, outline and shadow; the
   layout is unchanged), and each picture is laid over the captions while its events show, fading
   in with them where they fade (the end card).

An event whose emoji the probe cannot find (none drawn: a glyph the emoji font lacks) keeps its
outlines.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .captions_ass import EMOJI_FAMILY, ass_seconds, ass_timestamp

log = logging.getLogger(__name__)

# Debian's fonts-noto-color-emoji (installed by `make run` and `make test`, and in the Docker image).
SYSTEM_FONTS = (Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"),)
# Noto Color Emoji is a bitmap font with one strike, 109 pixels: FreeType draws it at that size only.
BITMAP_SIZE = 109
# The probe draws in white on black; a pixel at least this bright (of 16-235) is the run's ink.
INK_LUMA = 40
# At most this many pictures laid over one cut (each is two small sources and two overlays in the
# filter graph); emoji past them keep their outlines.
MAX_OVERLAYS = 100

# A run of emoji as captions_ass writes it: switched to the emoji font, then back to the text's font.
_RUN = re.compile(r"\{\\fn(?P<emoji>" + re.escape(EMOJI_FAMILY) + r")\}(?P<run>[^{]*)\{\\fn(?P<after>[^}]*)\}")
_DIALOGUE = re.compile(r"^(Dialogue:\s*[^,]*),([^,]+),([^,]+),([^,]*),((?:[^,]*,){5})(.*)$")
_STYLE = re.compile(r"^Style:\s*(.*)$")
_FADE = re.compile(r"\\fad\(\s*(\d+)\s*,\s*(\d+)\s*\)")
_COLOUR = re.compile(r"\\[1-4]?c&H[0-9A-Fa-f]+&")  # colours change no layout


def find_font(configured: str | None = "auto") -> Path | None:
    """The colour emoji font to use: ``configured`` ("auto": the system's, if installed; "" or
    "none": none, emoji stay outlines; else a path)."""
    if configured is None or configured.strip().lower() in ("", "none", "off"):
        return None
    if configured.strip().lower() == "auto":
        return next((path for path in SYSTEM_FONTS if path.is_file()), None)
    return Path(configured)


@dataclass(frozen=True)
class Overlay:
    """A picture of colour emoji laid at (x, y) over the frames from ``start`` to ``end`` (seconds),
    fading in over ``fade_in`` and out over ``fade_out`` seconds at those ends."""

    image: Path
    x: int
    y: int
    start: float
    end: float
    fade_in: float = 0.0
    fade_out: float = 0.0


@dataclass(frozen=True)
class _Style:
    primary_alpha: str
    outline_alpha: str
    back_alpha: str
    boxed: bool  # BorderStyle 3 or 4: the back colour is a box behind the text, kept as it is


@dataclass(frozen=True)
class _Event:
    line: int  # index in the script's lines
    start: float
    end: float
    style: str
    text: str
    head: str  # the line up to its text: "Dialogue: layer,start,end,style,name,margins,effect,"
    runs: tuple[str, ...]  # its runs of emoji, in order


def _alpha(colour: str) -> str:
    """The alpha byte of an ASS ``&HAABBGGRR`` colour, as two hex digits."""
    digits = colour.strip().lstrip("&Hh").rstrip("&").rjust(8, "0")
    return digits[:2].upper()


def _styles(lines: Sequence[str]) -> dict[str, _Style]:
    styles = {}
    for line in lines:
        match = _STYLE.match(line)
        if match:
            fields = [f.strip() for f in match.group(1).split(",")]
            # Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, ...,
            # BorderStyle (the 16th field)
            styles[fields[0]] = _Style(_alpha(fields[3]), _alpha(fields[5]), _alpha(fields[6]),
                                       boxed=fields[15] in ("3", "4"))
    return styles


def _events(lines: Sequence[str]) -> list[_Event]:
    events = []
    for n, line in enumerate(lines):
        match = _DIALOGUE.match(line)
        if match and _RUN.search(match.group(6)):
            events.append(_Event(n, ass_seconds(match.group(2)), ass_seconds(match.group(3)), match.group(4).strip(),
                                 match.group(6), line[: len(line) - len(match.group(6))],
                                 tuple(run for _, run, _ in _RUN.findall(match.group(6)))))
    return events


def hidden(text: str, style: _Style) -> str:
    """An event's text with its emoji runs drawn transparent (laid out as before)."""
    shadow = "" if style.boxed else "\\4a&HFF&"
    back = "" if style.boxed else f"\\4a&H{style.back_alpha}&"

    def swap(match: re.Match[str]) -> str:
        return (f"{{\\fn{match['emoji']}\\1a&HFF&\\3a&HFF&{shadow}}}{match['run']}"
                f"{{\\fn{match['after']}\\1a&H{style.primary_alpha}&\\3a&H{style.outline_alpha}&{back}}}")

    return _RUN.sub(swap, text)


def _probe_text(text: str, keep: int) -> str:
    """An event's text drawn transparent but its ``keep``-th emoji run, opaque white with no outline,
    shadow or box; no fades."""
    count = 0

    def swap(match: re.Match[str]) -> str:
        nonlocal count
        shown = count == keep
        count += 1
        if not shown:
            return match.group(0)
        return (f"{{\\fn{match['emoji']}\\1a&H00&\\1c&HFFFFFF&}}{match['run']}"
                f"{{\\fn{match['after']}\\alpha&HFF&}}")

    return "{\\alpha&HFF&}" + _RUN.sub(swap, _FADE.sub("", text))


def _probe_script(lines: Sequence[str], probes: Sequence[tuple[_Event, int]], fps: int) -> str:
    """The script's header with one event per probe, each on its own frame (k: from k-0.5 to
    k+0.5 frames), and no box behind any text."""
    header = []
    for line in lines:
        if line.startswith("[Events]"):
            break
        match = _STYLE.match(line)
        if match:
            fields = [f.strip() for f in match.group(1).split(",")]
            fields[15] = "1"  # no box
            line = "Style: " + ",".join(fields)
        header.append(line)
    out = [*header, "[Events]", "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text"]
    for k, (event, run) in enumerate(probes):
        fields = _DIALOGUE.match(lines[event.line])
        start, end = max(0.0, (k - 0.5) / fps), (k + 0.5) / fps
        out.append(f"{fields.group(1)},{ass_timestamp(start)},{ass_timestamp(end)},{fields.group(4)},{fields.group(5)}"
                   f"{_probe_text(event.text, run)}")
    return "\n".join(out) + "\n"


def _ink_boxes(script: Path, count: int, *, size: tuple[int, int], fps: int, ffmpeg: str, fonts_dir: Path,
               escape: Callable[[str], str], timeout: float) -> list[tuple[int, int, int, int] | None]:
    """The ink box (x0, y0, x1, y1, exclusive ends) of each of the probe script's ``count`` frames."""
    import numpy as np

    width, height = size
    graph = (f"color=c=black:s={width}x{height}:r={fps}:d={(count + 0.5) / fps:.6f},format=yuv420p,"
             f"ass=filename={escape(str(script))}:fontsdir={escape(str(fonts_dir))},extractplanes=y")
    proc = subprocess.Popen([ffmpeg, "-v", "error", "-nostdin", "-filter_complex", graph, "-frames:v", str(count),
                             "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    boxes: list[tuple[int, int, int, int] | None] = []
    try:
        for _ in range(count):  # a frame at a time: memory stays at one frame however many there are
            raw = proc.stdout.read(width * height)
            if len(raw) < width * height:
                break
            ink = np.frombuffer(raw, dtype=np.uint8).reshape(height, width) >= INK_LUMA
            rows, cols = np.nonzero(ink.any(axis=1))[0], np.nonzero(ink.any(axis=0))[0]
            boxes.append((int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1) if rows.size else None)
        _, stderr = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0 or len(boxes) < count:
        raise RuntimeError(f"the emoji probe drew {len(boxes)} of {count} frames: "
                           f"{stderr.decode(errors='replace')[-2000:]}")
    return boxes


@functools.lru_cache(maxsize=256)
def _drawn(run: str, font: str):
    """``run`` drawn in the colour font at its own size, trimmed to its ink (None: nothing drawn)."""
    from PIL import Image, ImageDraw, ImageFont

    face = ImageFont.truetype(font, BITMAP_SIZE)
    left, top, right, bottom = face.getbbox(run)
    picture = Image.new("RGBA", (max(1, right - left) + 4, max(1, bottom - top) + 4), (0, 0, 0, 0))
    ImageDraw.Draw(picture).text((2 - left, 2 - top), run, font=face, embedded_color=True)
    ink = picture.getbbox()
    return picture.crop(ink) if ink else None


def _picture(runs: Sequence[tuple[str, tuple[int, int, int, int]]], font: Path):
    """One picture of an event's emoji runs at their boxes; with its top-left corner."""
    from PIL import Image

    placed = []
    for run, (x0, y0, x1, y1) in runs:
        drawn = _drawn(run, str(font))
        if drawn is None:
            continue
        height = y1 - y0
        width = max(1, round(drawn.width * height / drawn.height))
        centre = (x0 + x1) / 2
        placed.append((drawn.resize((width, height), Image.LANCZOS), round(centre - width / 2), y0))
    if not placed:
        return None
    left = min(x for _, x, _ in placed)
    top = min(y for _, _, y in placed)
    right = max(x + p.width for p, x, _ in placed)
    bottom = max(y + p.height for p, _, y in placed)
    canvas = Image.new("RGBA", (right - left, bottom - top), (0, 0, 0, 0))
    for picture, x, y in placed:
        canvas.alpha_composite(picture, (x - left, y - top))
    return canvas, left, top


def place(script: str, *, font: Path, size: tuple[int, int], fps: int, ffmpeg: str, fonts_dir: Path,
          workdir: Path, escape: Callable[[str], str], timeout: float = 120) -> tuple[str, tuple[Overlay, ...]]:
    """``script`` with its emoji made transparent, and the colour pictures to lay over them.

    The script comes back unchanged, with no overlays, when it has no emoji. ``escape`` quotes a
    path for a filter graph's option value."""
    lines = script.split("\n")
    events = _events(lines)
    if not events:
        return script, ()
    # Events laid out alike (karaoke: a page once per word, only a colour changed) are probed once.
    layouts: dict[tuple[str, str], list[int]] = {}
    for n, event in enumerate(events):
        layouts.setdefault((event.style, _COLOUR.sub("", event.text).replace("{}", "")), []).append(n)
    probes = [(events[alike[0]], k) for alike in layouts.values()
              for k in range(len(events[alike[0]].runs))]
    probe_path = workdir / "emoji-probe.ass"
    probe_path.write_text(_probe_script(lines, probes, fps), encoding="utf-8")
    boxes = _ink_boxes(probe_path, len(probes), size=size, fps=fps, ffmpeg=ffmpeg, fonts_dir=fonts_dir,
                       escape=escape, timeout=timeout)
    runs: dict[int, list[tuple[str, tuple[int, int, int, int]] | None]] = {}
    for (event, k), box in zip(probes, boxes):
        runs.setdefault(event.line, []).append((event.runs[k], box) if box else None)
    styles = _styles(lines)
    found: dict[int, list[tuple[str, tuple[int, int, int, int]]]] = {}
    lost: set[int] = set()
    for alike in layouts.values():
        probed = runs[events[alike[0]].line]
        for n in alike:
            if all(probed):
                found[events[n].line] = probed
            else:  # a run the probe saw no ink of (a glyph no emoji font has): the event keeps its outlines
                lost.add(events[n].line)
    overlays: list[Overlay] = []
    pictures: dict[tuple, tuple[Path, int, int] | None] = {}
    for event in events:
        if event.line in lost or event.line not in found or event.style not in styles:
            continue
        key = tuple(found[event.line])
        if key not in pictures:
            drawn = _picture(found[event.line], font)
            if drawn is not None:
                picture, x, y = drawn
                path = workdir / f"emoji-{len(pictures)}.png"
                picture.save(path)
                drawn = (path, x, y)
            pictures[key] = drawn
        if pictures[key] is None:  # the colour font draws none of its runs
            lost.add(event.line)
            continue
        path, x, y = pictures[key]
        fade = _FADE.search(event.text)
        fade_in, fade_out = (int(fade.group(1)) / 1000, int(fade.group(2)) / 1000) if fade else (0.0, 0.0)
        previous = overlays[-1] if overlays else None
        if (previous and previous.image == path and math.isclose(previous.end, event.start, abs_tol=1e-3)
                and not previous.fade_out and not fade_in):
            # The same emoji in the same place in the next event (karaoke: the next word lit): one span.
            overlays[-1] = Overlay(path, x, y, previous.start, event.end, previous.fade_in, fade_out)
        elif len(overlays) < MAX_OVERLAYS:
            overlays.append(Overlay(path, x, y, event.start, event.end, fade_in, fade_out))
        else:
            lost.add(event.line)
            continue
        lines[event.line] = event.head + hidden(event.text, styles[event.style])
    if lost:
        log.info("colour emoji: %d event(s) keep their outlines", len(lost))
    return "\n".join(lines), tuple(overlays)


def filters(overlays: Sequence[Overlay], *, src: str, out: str, tag: str, fps: int,
            escape: Callable[[str], str]) -> list[str]:
    """Chains laying ``overlays`` over the stream ``src`` into ``out``; ``tag`` keeps labels apart
    when they are laid over more than one stream. Each picture is one frame that ``overlay``
    repeats, or, where it fades, that frame repeated over its events' frames and faded with them."""
    if not overlays:
        return [f"[{src}]null[{out}]"]
    parts, current = [], src
    for i, item in enumerate(overlays):
        picture = f"{tag}e{i}"
        source = f"movie=filename={escape(str(item.image))},format=rgba"
        if item.fade_in or item.fade_out:
            # A frame for each of its events' frames, and no more: a stream without end would keep a
            # render that also writes its stills from running for ever.
            frames = math.ceil((item.end - item.start) * fps) + 1
            source += f",loop=loop={frames}:size=1,setpts=N/({fps}*TB)+{item.start:.6f}/TB"
            if item.fade_in:
                source += f",fade=t=in:st={item.start:.6f}:d={item.fade_in:.6f}:alpha=1"
            if item.fade_out:
                source += f",fade=t=out:st={item.end - item.fade_out:.6f}:d={item.fade_out:.6f}:alpha=1"
        parts.append(f"{source}[{picture}]")
        done = f"{tag}o{i}" if i + 1 < len(overlays) else out
        parts.append(f"[{current}][{picture}]overlay=x={item.x}:y={item.y}:format=yuv420:eof_action=repeat"
                     f":enable='between(t,{item.start:.6f},{item.end:.6f})'[{done}]")
        current = done
    return parts
