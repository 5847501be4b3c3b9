"""Caption cues from timed words, and their SRT, WebVTT and ASS exports (pure, no Django).

`build_cues` groups words greedily into cues of at most `max_lines` lines of at most
`max_chars_per_line` characters (a single longer word gets a line of its own, never split),
breaking early at sentence ends, at pauses longer than `max_gap`, and before a cue would last
longer than `max_cue_duration`. Readability: every cue lasts at least `min_cue_duration`; a
short cue is extended into the silence after it, and where the next cue starts too soon that
cue's start is delayed (its words are still on screen with their speech) — never shortening it
below the minimum. Cues never overlap.

Times are seconds (float). Exports: `to_srt`, `to_vtt`, `to_ass` (play_res defaults to a
vertical 1080x1920 canvas; `karaoke=True` adds per-word \\kf highlighting).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from audio.alignment import TimedWord

_SENTENCE_END = (".", "!", "?", "…", "。", "！", "？")


@dataclass
class CueWord:
    text: str
    start: float
    end: float


@dataclass
class Cue:
    start: float
    end: float
    lines: list[str]
    words: list[CueWord] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "lines": list(self.lines),
                "words": [w.__dict__.copy() for w in self.words]}


def _wrap(words: Sequence[str], max_chars: int) -> list[str]:
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= max_chars:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def _balanced(words: Sequence[str], max_chars: int, max_lines: int) -> list[str]:
    # Two lines of similar length read better than a full line over a single word.
    lines = _wrap(words, max_chars)
    if len(lines) != 2 or max_lines < 2:
        return lines
    best = lines
    for cut in range(1, len(words)):
        top, bottom = " ".join(words[:cut]), " ".join(words[cut:])
        if len(top) <= max_chars and len(bottom) <= max_chars:
            if abs(len(top) - len(bottom)) < abs(len(best[0]) - len(best[1])):
                best = [top, bottom]
    return best


def build_cues(
    *,
    words: Sequence[TimedWord],
    max_chars_per_line: int = 32,
    max_lines: int = 2,
    min_cue_duration: float = 0.8,
    max_cue_duration: float = 5.0,
    max_gap: float = 1.0,
) -> list[Cue]:
    """Cues from timed words (AlignedWord, WordTiming or transcript Word), in order."""
    items = [CueWord(w.text.strip(), float(w.start), float(max(w.end, w.start))) for w in words if w.text.strip()]
    groups: list[list[CueWord]] = []
    current: list[CueWord] = []
    for word in items:
        if current:
            texts = [w.text for w in current] + [word.text]
            too_many_lines = len(_wrap(texts, max_chars_per_line)) > max_lines
            too_long = word.end - current[0].start > max_cue_duration
            pause = word.start - current[-1].end > max_gap
            sentence_done = current[-1].text.endswith(_SENTENCE_END)
            if too_many_lines or too_long or pause or sentence_done:
                groups.append(current)
                current = []
        current.append(word)
    if current:
        groups.append(current)

    cues = [
        Cue(start=g[0].start, end=max(g[-1].end, g[0].start), lines=_balanced([w.text for w in g], max_chars_per_line, max_lines), words=g)
        for g in groups
    ]
    for i, cue in enumerate(cues):
        if i > 0:
            # The previous cue was held on screen for its minimum: this one starts when it ends.
            cue.start = max(cue.start, cues[i - 1].end)
        cue.end = max(cue.end, cue.start + min_cue_duration)
    return cues


def cues_from_transcript(*, transcript, **options) -> list[Cue]:  # noqa: ANN001 - a base.Transcript
    """Cues when no script is known: the recogniser's own words and spelling."""
    return build_cues(words=transcript.words, **options)


def _clock(seconds: float, *, sep: str, hour_digits: int = 2, fraction_digits: int = 3) -> str:
    scale = 10**fraction_digits
    total = int(round(max(0.0, seconds) * scale))
    hours, rem = divmod(total, 3600 * scale)
    minutes, rem = divmod(rem, 60 * scale)
    secs, frac = divmod(rem, scale)
    return f"{hours:0{hour_digits}d}:{minutes:02d}:{secs:02d}{sep}{frac:0{fraction_digits}d}"


def to_srt(cues: Sequence[Cue]) -> str:
    blocks = []
    for n, cue in enumerate(cues, start=1):
        blocks.append(f"{n}\n{_clock(cue.start, sep=',')} --> {_clock(cue.end, sep=',')}\n{cue.text}\n")
    return "\n".join(blocks)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(cues: Sequence[Cue]) -> str:
    blocks = ["WEBVTT\n"]
    for cue in cues:
        blocks.append(f"{_clock(cue.start, sep='.')} --> {_clock(cue.end, sep='.')}\n{_vtt_escape(cue.text)}\n")
    return "\n".join(blocks)


def _ass_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("{", "(").replace("}", ")")


def _ass_colour(rgb: str, alpha: int = 0) -> str:
    rgb = rgb.lstrip("#")
    r, g, b = rgb[0:2], rgb[2:4], rgb[4:6]
    return f"&H{alpha:02X}{b}{g}{r}".upper()


def to_ass(
    cues: Sequence[Cue],
    *,
    play_res: tuple[int, int] = (1080, 1920),
    font: str = "DejaVu Sans",
    font_size: int | None = None,
    primary_colour: str = "#FFFFFF",
    highlight_colour: str = "#FFD400",
    outline_colour: str = "#000000",
    outline: float = 4.0,
    margin_v: int | None = None,
    alignment: int = 2,
    karaoke: bool = False,
) -> str:
    """Advanced SubStation Alpha script; alignment uses the numpad convention (2 = bottom centre)."""
    width, height = play_res
    size = font_size or max(24, round(height * 0.038))
    margin = margin_v if margin_v is not None else round(height * 0.12)
    # In karaoke mode the sung (spoken) part takes the primary colour, the rest the secondary.
    primary, secondary = (_ass_colour(highlight_colour), _ass_colour(primary_colour)) if karaoke else (
        _ass_colour(primary_colour), _ass_colour(highlight_colour))
    header = (
        "[Script Info]\nScriptType: v4.00+\nWrapStyle: 2\nScaledBorderAndShadow: yes\n"
        f"PlayResX: {width}\nPlayResY: {height}\n\n"
        "[V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, "
        "Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, "
        "Alignment, MarginL, MarginR, MarginV, Encoding\n"
        f"Style: Default,{font},{size},{primary},{secondary},{_ass_colour(outline_colour)},&H80000000,"
        f"-1,0,0,0,100,100,0,0,1,{outline:g},0,{alignment},{round(width * 0.06)},{round(width * 0.06)},{margin},1\n\n"
        "[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
    )
    events = []
    for cue in cues:
        if karaoke and cue.words:
            text = _karaoke_text(cue)
        else:
            text = "\\N".join(_ass_escape(line) for line in cue.lines)
        start = _clock(cue.start, sep=".", hour_digits=1, fraction_digits=2)
        end = _clock(cue.end, sep=".", hour_digits=1, fraction_digits=2)
        events.append(f"Dialogue: 0,{start},{end},Default,,0,0,0,,{text}")
    return header + "\n".join(events) + "\n"


def _karaoke_text(cue: Cue) -> str:
    parts: list[str] = []
    line_words = [line.split(" ") for line in cue.lines]
    cursor = cue.start
    index = 0
    for line_no, line in enumerate(line_words):
        for k, _ in enumerate(line):
            word = cue.words[index]
            index += 1
            lead = max(0.0, word.start - cursor)
            if lead >= 0.01:
                parts.append(f"{{\\k{round(lead * 100)}}}")
            parts.append(f"{{\\kf{max(1, round((word.end - max(word.start, cursor)) * 100))}}}{_ass_escape(word.text)}")
            cursor = max(cursor, word.end)
            if k < len(line) - 1:
                parts.append(" ")
        if line_no < len(line_words) - 1:
            parts.append("\\N")
    return "".join(parts)
