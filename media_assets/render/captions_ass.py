"""Captions and end-card text as an ASS script, burned in by ffmpeg's ``ass`` filter.

Layout is done here, not by libass: lines are wrapped to the preset's safe width by
measuring words with the real font files (Pillow), and a cue that needs more than
``max_lines`` lines is split into pages timed by its own words. ``WrapStyle: 2``
stops libass re-wrapping, so what we measured is what is drawn.

Fonts are chosen per run of text, not per caption: Hangul is set in the Korean font,
other CJK text in the Chinese/Japanese one, emoji the caption's family lacks in the
(monochrome) emoji font, everything else in the caption's family (``\\fn`` switches in
the script, and the same fonts when measuring). libass would only look for a missing
glyph among the system's fonts, which differ between machines.

Karaoke is one Dialogue event per word (from its start to the next word's start),
each holding the whole page with only the current word recoloured: the highlight
moves from word to word instead of accumulating as ``\\k`` would.

PlayResX/PlayResY equal the output size, so all sizes and margins are pixels.

Event times are moved onto the preset's frames: each starts and ends halfway between the frame
before it and the first frame that shows it. So the frames a caption is on do not depend on how a
frame's time is rounded to libass's milliseconds, and the render can tell from the script alone at
which frames the picture changes (:mod:`.caption_layer` draws it only then). With the script comes
where on the frame, and when, it can draw (:class:`Region`).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .spec import Captions, CaptionStyle, Cue, EndCard, Preset, Word

FONTS_DIR = Path(__file__).resolve().parents[2] / "static" / "fonts"

# family -> (regular file, bold file). Only fonts shipped in static/fonts.
FONT_FILES: dict[str, tuple[str, str]] = {
    "DejaVu Sans": ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    "Droid Sans Fallback": ("DroidSansFallbackFull.ttf", "DroidSansFallbackFull.ttf"),
    "NanumSquare": ("NanumSquareR.ttf", "NanumSquareB.ttf"),
    "Noto Emoji": ("NotoEmoji.ttf", "NotoEmoji.ttf"),
}
CJK_FAMILY = "Droid Sans Fallback"  # Chinese and Japanese (it has 3 of the 11,172 Hangul syllables)
HANGUL_FAMILY = "NanumSquare"  # Korean: every Hangul syllable and jamo
# Emoji as outlines in the text's colour: libass draws no colour emoji (.colour_emoji draws them over
# where a colour emoji font is at hand, finding them by this family's name in the script).
EMOJI_FAMILY = "Noto Emoji"

_CJK_RE = re.compile(
    "[\u1100-\u11ff\u2e80-\u9fff\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\uff00-\uffef"
    "\U00020000-\U0002fa1f]"
)
_HANGUL_RE = re.compile("[\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7ff]")
# Scripts written without spaces between words (Chinese, Japanese, their punctuation and full-width
# forms): a line may break, and the karaoke highlight move, between any two of their characters.
# Korean is written with spaces, so Hangul words are kept whole like Latin ones.
_SPACELESS_RE = re.compile("[\u2e80-\u312f\u3190-\u9fff\uf900-\ufaff\uff00-\uffef\U00020000-\U0002fa1f]")
# What continues the character before it: joiners and selectors of emoji sequences (👩‍💻, ❤️, 👍🏽, flags
# of subdivisions), so that a sequence is never split between two fonts.
_JOINERS_RE = re.compile("[\u200d\ufe0e\ufe0f\u20e3\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f]")
_UNITS_RE = re.compile(f"{_SPACELESS_RE.pattern}|(?:(?!{_SPACELESS_RE.pattern})\\S)+")


def is_spaceless(text: str) -> bool:
    return bool(_SPACELESS_RE.search(text))


def units(text: str) -> list[str]:
    """The smallest pieces of ``text`` a line may break between: words, and single characters of
    scripts written without spaces ("保温12時間" -> 保, 温, 12, 時, 間)."""
    return _UNITS_RE.findall(text)


def _needs_space(before: str, after: str) -> bool:
    """Whether two units that were written apart are shown with a space between them."""
    return bool(before) and not (is_spaceless(before[-1:]) or is_spaceless(after[:1]))


@functools.lru_cache(maxsize=16)
def _characters(path: str) -> frozenset[int]:
    """The code points a font file has glyphs for (empty when it cannot be read)."""
    from fontTools.ttLib import TTFont, TTLibError

    try:
        with TTFont(path, lazy=True, fontNumber=0) as font:
            return frozenset(font.getBestCmap() or ())
    except (OSError, TTLibError):
        return frozenset()


def _has(family: str, char: str, font_file: str | None = None) -> bool | None:
    """Whether ``family`` (or ``font_file``) draws ``char``; None when its file is not known."""
    path = font_path(family, bold=False, font_file=font_file)
    return ord(char) in _characters(str(path)) if path is not None else None


def script_family(char: str, family: str, font_file: str | None = None) -> str:
    """The shipped font that draws ``char``: Hangul's, other CJK's, the emoji font for an emoji
    ``family`` lacks, else ``family``."""
    if _HANGUL_RE.match(char):
        return HANGUL_FAMILY
    if _CJK_RE.match(char):
        return CJK_FAMILY
    if ord(char) > 0x7F and _has(family, char, font_file) is False and _has(EMOJI_FAMILY, char):
        return EMOJI_FAMILY
    return family


def font_runs(text: str, family: str, font_file: str | None = None) -> list[tuple[str, str]]:
    """``text`` as (family, run) pieces by :func:`script_family`. Spaces are ``family``'s (an emoji
    font's space is an em wide); a joiner or selector stays with the run before it."""
    runs: list[tuple[str, str]] = []
    for char in text:
        if char.isspace():
            font = family
        elif runs and _JOINERS_RE.match(char):
            font = runs[-1][0]
        else:
            font = script_family(char, family, font_file)
        if runs and runs[-1][0] == font:
            runs[-1] = (font, runs[-1][1] + char)
        else:
            runs.append((font, char))
    return runs


def ass_colour(hex_colour: str, alpha: float = 0.0) -> str:
    """``#RRGGBB`` -> ASS ``&HAABBGGRR`` (ASS alpha 0 is opaque)."""
    value = hex_colour.strip().lstrip("#")
    if not re.fullmatch(r"[0-9a-fA-F]{6}", value):
        raise ValueError(f"colour must be #RRGGBB, got {hex_colour!r}")
    r, g, b = value[0:2], value[2:4], value[4:6]
    a = max(0, min(255, round(alpha * 255)))
    return f"&H{a:02X}{b}{g}{r}".upper()


def _inline_colour(hex_colour: str) -> str:
    return ass_colour(hex_colour)[4:]  # BBGGRR for \1c&H...&


def _escape(text: str) -> str:
    # Braces open override blocks and backslashes start tags in ASS.
    return text.replace("\\", "/").replace("{", "(").replace("}", ")").replace("\n", " ")


# NanumSquare's bold file calls itself family "NanumSquare Bold", style Regular: asked for NanumSquare
# in bold, libass thickens the regular file; asked for that name, it draws the real bold.
_BOLD_NAMES = {"NanumSquare": "NanumSquare Bold"}


def ass_font(family: str, *, bold: bool) -> str:
    """The font name that makes libass draw ``family`` from its own file of that weight."""
    return _BOLD_NAMES.get(family, family) if bold else family


def _ass_text(text: str, family: str, *, bold: bool, font_file: str | None = None) -> str:
    """``text`` escaped for ASS, each run that ``family`` cannot draw between font switches."""
    base = ass_font(family, bold=bold)
    return "".join(_escape(run) if font == family
                   else f"{{\\fn{ass_font(font, bold=bold)}}}{_escape(run)}{{\\fn{base}}}"
                   for font, run in font_runs(text, family, font_file))


def on_frames(seconds: float, fps: int) -> float:
    """``seconds`` moved to halfway between the frame before it and the first frame at or after it
    (a frame shows what starts at its own time): which frames an event covers is the same, but its
    ends are half a frame from any frame's time, where libass's rounding cannot move them."""
    first = math.ceil(seconds * fps - 1e-6)
    return max(0.0, (first - 0.5) / fps)


def ass_seconds(timestamp: str) -> float:
    """An ASS ``H:MM:SS.cc`` time in seconds."""
    hours, minutes, seconds = timestamp.strip().split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def ass_timestamp(seconds: float) -> str:
    cs = max(0, round(seconds * 100))
    h, rem = divmod(cs, 360000)
    m, rem = divmod(rem, 6000)
    s, cs = divmod(rem, 100)
    return f"{h}:{m:02d}:{s:02d}.{cs:02d}"


def font_path(family: str, *, bold: bool, font_file: str | None = None) -> Path | None:
    if font_file:
        return Path(font_file)
    files = FONT_FILES.get(family)
    if files is None:
        return None
    return FONTS_DIR / files[1 if bold else 0]


@functools.lru_cache(maxsize=32)
def _measurer(path: str, size: int) -> Callable[[str], float]:
    try:
        from PIL import ImageFont

        font = ImageFont.truetype(path, size)
    except (ImportError, OSError):
        return lambda text: len(text) * size * 0.6
    ascent, descent = font.getmetrics()
    # libass sizes a font so ascent+descent equals the ASS font size; Pillow sizes the em.
    scale = size / float(ascent + descent) if ascent + descent else 1.0
    return lambda text: font.getlength(text) * scale


def text_measurer(family: str, size: int, *, bold: bool, font_file: str | None = None) -> Callable[[str], float]:
    """Width in pixels of a text as the script draws it: each run in its own font."""
    def width(text: str) -> float:
        total = 0.0
        for font, run in font_runs(text, family, font_file):
            path = font_path(font, bold=bold, font_file=font_file if font == family else None)
            total += _measurer(str(path), size)(run) if path else len(run) * size * 0.6
        return total
    return width


def _join(words: Sequence[str]) -> str:
    out = ""
    for word in words:
        out += (" " if _needs_space(out, word) else "") + word
    return out


def wrap_lines(words: Sequence[str], *, max_width: float, measure: Callable[[str], float],
               join: Callable[[Sequence[str]], str] = _join) -> list[list[int]]:
    """Greedy wrap of word indices into lines no wider than ``max_width`` pixels."""
    lines: list[list[int]] = []
    current: list[int] = []
    for i, word in enumerate(words):
        trial = current + [i]
        if current and measure(join([words[j] for j in trial])) > max_width:
            lines.append(current)
            current = [i]
        else:
            current = trial
    if current:
        lines.append(current)
    return lines


def _style_line(name: str, *, font: str, size: int, primary: str, secondary: str, outline: str,
                back: str, bold: bool, border_style: int, outline_px: float, shadow_px: float,
                alignment: int, margin_l: int, margin_r: int, margin_v: int) -> str:
    return (
        f"Style: {name},{font},{size},{primary},{secondary},{outline},{back},"
        f"{-1 if bold else 0},0,0,0,100,100,0,0,{border_style},{outline_px:g},{shadow_px:g},"
        f"{alignment},{margin_l},{margin_r},{margin_v},1"
    )


def caption_box(preset: Preset, style: CaptionStyle, logo: tuple[int, int, int, int] | None = None
                ) -> tuple[int, int, int, int]:
    """Pixel box (x0, y0, x1, y1) where captions may be drawn for this preset, clear of the
    watermark's box ``logo`` when it sits on the same edge."""
    size = font_size(preset, style)
    pad = round(size * 0.4)
    band = round(size * 1.35 * style.max_lines) + 2 * pad  # the caption's lines and their padding
    x0, x1 = preset.safe.left + pad, preset.width - preset.safe.right - pad
    if style.position == "bottom":
        y1 = preset.height - preset.safe.bottom
        if logo is not None and logo[3] > y1 - band:
            y1 = min(y1, logo[1])  # above the logo
        y0 = y1 - band
    elif style.position == "top":
        y0 = preset.safe.top
        if logo is not None and logo[1] < y0 + band:
            y0 = max(y0, logo[3])  # below the logo
        y1 = y0 + band
    else:
        half = round(size * 1.35 * style.max_lines / 2) + pad
        y0, y1 = preset.height // 2 - half, preset.height // 2 + half
    return x0, y0, x1, y1


def font_size(preset: Preset, style: CaptionStyle) -> int:
    return max(8, round(style.size * preset.height))


def _pages(cue: Cue, *, max_lines: int, max_width: float, measure: Callable[[str], float]
           ) -> list[tuple[list[Word], list[list[int]]]]:
    texts = [w.text.strip() for w in cue.words]
    lines = wrap_lines(texts, max_width=max_width, measure=measure)
    pages = []
    for p in range(0, len(lines), max(1, max_lines)):
        chunk = lines[p:p + max(1, max_lines)]
        first, last = chunk[0][0], chunk[-1][-1]
        words = list(cue.words[first:last + 1])
        pages.append((words, [[i - first for i in line] for line in chunk]))
    return pages


def _page_text(words: Sequence[Word], lines: Sequence[Sequence[int]], *, current: int | None,
               primary: str, highlight: str, family: str, bold: bool, font_file: str | None = None) -> str:
    rendered = []
    for line in lines:
        parts = []
        for i in line:
            text = _ass_text(words[i].text.strip(), family, bold=bold, font_file=font_file)
            if i == current:
                text = f"{{\\1c&H{_inline_colour(highlight)}&}}{text}{{\\1c&H{_inline_colour(primary)}&}}"
            parts.append(text)
        joined = ""
        for n, (i, part) in enumerate(zip(line, parts)):
            if n and _needs_space(words[i - 1].text.strip(), words[i].text.strip()):
                joined += " "
            joined += part
        rendered.append(joined)
    return "\\N".join(rendered)


@dataclass(frozen=True)
class Region:
    """A box (x0, y0, x1, y1, in pixels) that holds everything a script draws between ``start`` and
    ``end`` (seconds) for one of its styles, outlines, shadows and boxes included."""

    box: tuple[int, int, int, int]
    start: float
    end: float


@dataclass(frozen=True)
class Script:
    text: str
    regions: tuple[Region, ...]


def _reach(outline_px: float, shadow_px: float, size: int) -> int:
    """How far past its letters' box a style draws: outline, then shadow, and a tenth of the font
    size for glyphs that reach past their advance (a j's tail, an emoji)."""
    return math.ceil(outline_px + shadow_px + max(2.0, size / 10))


def _within(preset: Preset, x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
    """The box clamped to the frame, with even corners (yuv420p's chroma is in 2x2 blocks)."""
    return (max(0, math.floor(x0 / 2) * 2), max(0, math.floor(y0 / 2) * 2),
            min(preset.width, math.ceil(x1 / 2) * 2), min(preset.height, math.ceil(y1 / 2) * 2))


def build_ass(*, preset: Preset, captions: Captions | None, end_card: EndCard | None = None,
              end_card_start: float = 0.0, end_card_end: float = 0.0,
              logo: tuple[int, int, int, int] | None = None) -> str:
    """The ASS script for the captions (and the end card's call to action) of one preset;
    ``logo`` is the watermark's pixel box, which captions on its edge keep clear of."""
    return build_script(preset=preset, captions=captions, end_card=end_card, end_card_start=end_card_start,
                        end_card_end=end_card_end, logo=logo).text


def build_script(*, preset: Preset, captions: Captions | None, end_card: EndCard | None = None,
                 end_card_start: float = 0.0, end_card_end: float = 0.0,
                 logo: tuple[int, int, int, int] | None = None) -> Script:
    """:func:`build_ass`'s script with the regions it draws in."""
    style = captions.style if captions else CaptionStyle()
    size = font_size(preset, style)
    pad = round(size * 0.4)
    family = style.font_family
    measure = text_measurer(family, size, bold=style.bold, font_file=style.font_file)

    if style.border == "box":
        # One box behind the whole caption (libass's BorderStyle 4, padded by the outline width, in
        # the back colour): style 3 boxes every run of one colour or font, and where those boxes
        # overlap a see-through box shows darker seams.
        border_style, outline_px, shadow_px = 4, max(2.0, size * 0.18), 0.0
        outline_colour = ass_colour("#000000", 1.0)  # no outline around the letters
        back_colour = ass_colour(style.box_colour, 1.0 - style.box_opacity)
    else:
        border_style, outline_px, shadow_px = 1, max(1.5, size * 0.07), max(1.0, size * 0.03)
        outline_colour = ass_colour(style.outline)
        back_colour = ass_colour("#000000", 0.5)  # the shadow
    alignment = {"bottom": 2, "middle": 5, "top": 8}[style.position]
    box = caption_box(preset, style, logo)
    margin_v = {"bottom": preset.height - box[3] + pad, "middle": 0, "top": box[1] + pad}[style.position]
    margin_l, margin_r = preset.safe.left + pad, preset.safe.right + pad
    max_width = preset.width - margin_l - margin_r

    end_size = max(10, round(preset.height * (0.05 if preset.vertical else 0.07)))
    end_family = end_card.font_family if end_card else "DejaVu Sans"
    side = max(preset.safe.left, preset.safe.right) + end_size

    lines = [
        "[Script Info]",
        "ScriptType: v4.00+",
        f"PlayResX: {preset.width}",
        f"PlayResY: {preset.height}",
        "WrapStyle: 2",
        "ScaledBorderAndShadow: yes",
        "YCbCr Matrix: TV.709",
        "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, "
        "Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, "
        "Shadow, Alignment, MarginL, MarginR, MarginV, Encoding",
        _style_line("Caption", font=ass_font(family, bold=style.bold), size=size, primary=ass_colour(style.primary),
                    secondary=ass_colour(style.highlight), outline=outline_colour,
                    back=back_colour, bold=style.bold, border_style=border_style,
                    outline_px=outline_px, shadow_px=shadow_px, alignment=alignment,
                    margin_l=margin_l, margin_r=margin_r, margin_v=margin_v),
        _style_line("EndCard", font=ass_font(end_family, bold=True), size=end_size,
                    primary=ass_colour(end_card.text_colour if end_card else "#FFFFFF"),
                    secondary=ass_colour("#FFFFFF"), outline=ass_colour("#000000", 1.0),
                    back=ass_colour("#000000", 1.0), bold=True, border_style=1, outline_px=0,
                    shadow_px=0, alignment=5, margin_l=side, margin_r=side, margin_v=0),
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]

    drawn: dict[str, list[float]] = {}  # style -> [first start, last end] of its events

    def event(start: float, end: float, style_name: str, text: str) -> None:
        start, end = on_frames(start, preset.fps), on_frames(end, preset.fps)
        if end - start >= 0.005:
            # The end card on a layer of its own: libass would otherwise move it (or the caption)
            # out of the other's way while both show, and it would jump back when the caption ends.
            layer = 1 if style_name == "EndCard" else 0
            lines.append(f"Dialogue: {layer},{ass_timestamp(start)},{ass_timestamp(end)},{style_name},,0,0,0,,{text}")
            span = drawn.setdefault(style_name, [start, end])
            span[:] = [min(span[0], start), max(span[1], end)]

    widest = 0.0  # the widest caption line as measured: a word longer than the line is not broken
    for cue in captions.cues if captions else ():
        if not cue.words:
            continue
        for words, page_lines in _pages(cue, max_lines=style.max_lines, max_width=max_width, measure=measure):
            texts = [w.text.strip() for w in words]
            widest = max([widest, *(measure(_join([texts[i] for i in line])) for line in page_lines)])
            if style.mode == "phrase":
                event(words[0].start, words[-1].end, "Caption",
                      _page_text(words, page_lines, current=None, primary=style.primary, highlight=style.highlight,
                                 family=family, bold=style.bold, font_file=style.font_file))
                continue
            for k, word in enumerate(words):
                end = words[k + 1].start if k + 1 < len(words) else word.end
                event(word.start, max(end, word.end if k + 1 == len(words) else end), "Caption",
                      _page_text(words, page_lines, current=k, primary=style.primary, highlight=style.highlight,
                                 family=family, bold=style.bold, font_file=style.font_file))

    if end_card is not None and end_card.text.strip():
        # Lines break between units; each keeps the space written before it.
        pieces = [(" " if n and k == 0 else "") + unit
                  for n, chunk in enumerate(end_card.text.split()) for k, unit in enumerate(units(chunk))]

        def card_line(line_pieces: Sequence[str]) -> str:
            return "".join(line_pieces).strip()

        card_measure = text_measurer(end_family, end_size, bold=True)
        wrapped = wrap_lines(pieces, max_width=preset.width - 2 * side, join=card_line, measure=card_measure)
        card_lines = [card_line([pieces[i] for i in line]) for line in wrapped]
        text = "\\N".join(_ass_text(line, end_family, bold=True) for line in card_lines)
        event(end_card_start, end_card_end, "EndCard", "{\\fad(300,0)}" + text)

    # Where each style draws: lines are centred between the margins, as wide as the wrap width or the
    # widest line measured (with a little over for the measure's error).
    regions = []
    if "Caption" in drawn:
        reach = _reach(outline_px, shadow_px, size)
        centre, half_width = (margin_l + preset.width - margin_r) / 2, max(max_width, widest * 1.05) / 2 + reach
        regions.append(Region(_within(preset, centre - half_width, box[1] - reach, centre + half_width, box[3] + reach),
                              *drawn["Caption"]))
    if "EndCard" in drawn:
        # Centred on the frame: each line is about the font size high (libass sizes a font by its
        # ascent and descent); twice that leaves room for any font's accents and descenders.
        half = len(card_lines) * end_size + end_size
        half_width = max(preset.width - 2 * side, max(map(card_measure, card_lines)) * 1.05) / 2 + end_size
        regions.append(Region(_within(preset, preset.width / 2 - half_width, preset.height / 2 - half,
                                      preset.width / 2 + half_width, preset.height / 2 + half), *drawn["EndCard"]))
    return Script("\n".join(lines) + "\n", tuple(regions))
