"""Plain description of a composition, independent of Django.

The Composition model converts itself into these dataclasses; the render engine
(graph, captions_ass, runner) reads only these.

Decisions recorded here:
- Clip audio: ``Clip.has_audio=None`` means "auto": the clip's own sound is used only
  when the composition has no voiceover and the source has an audio stream (the
  runner probes it). ``True`` forces it in (mixed under the voiceover and ducked with
  the music), ``False`` mutes it. AI clips rarely carry useful sound, and speech over
  clip sound is unintelligible, hence mute-by-default under a voiceover.
- Durations: the composition lasts the sum of its clip lengths minus each
  transition's overlap, plus the end card length minus its transition's overlap.
- Loudness: -14 LUFS integrated, true peak below -1 dBTP (see runner for the
  two-pass measurement).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

ClipKind = Literal["video", "image"]
Fit = Literal["cover", "contain_blur"]
Motion = Literal["push_in", "drift", "none"]
TransitionKind = Literal["cut", "crossfade", "dip_to_black", "wipe", "slide", "zoom"]
Corner = Literal["top_left", "top_right", "bottom_left", "bottom_right"]

TARGET_LUFS = -14.0
TARGET_TRUE_PEAK = -1.0


class SpecError(ValueError):
    """A composition that cannot be rendered as described; ``clip`` is the index of the clip at
    fault and ``end_card`` says the end card is, where the fault is theirs (the editor marks them)."""

    def __init__(self, message: str, *, clip: int | None = None, end_card: bool = False) -> None:
        super().__init__(message)
        self.clip = clip
        self.end_card = end_card


@dataclass(frozen=True)
class SafeArea:
    """Margins in output pixels that platform UI may cover."""

    top: int = 0
    bottom: int = 0
    left: int = 0
    right: int = 0


@dataclass(frozen=True)
class Preset:
    key: str
    width: int
    height: int
    fps: int = 30
    safe: SafeArea = field(default_factory=SafeArea)
    label: str = ""

    def __post_init__(self) -> None:
        if self.width % 2 or self.height % 2:
            raise SpecError("preset width and height must be even (yuv420p)")

    @property
    def vertical(self) -> bool:
        return self.height > self.width


@dataclass(frozen=True)
class Clip:
    """One shot on the timeline.

    Videos play ``in_point``..``out_point`` of the source (``out_point=None``: needs
    ``duration``). Images last ``duration`` seconds with a gentle camera ``motion``.
    ``focus`` (0..1, 0..1) is the point kept in frame when ``cover`` crops;
    ``fit_by_preset`` / ``focus_by_preset`` override them for one preset key. ``source``: what
    is already known of a video's file (the runner probes it when None).
    """

    path: str | Path
    kind: ClipKind = "video"
    in_point: float = 0.0
    out_point: float | None = None
    duration: float | None = None
    fit: Fit = "cover"
    focus: tuple[float, float] = (0.5, 0.5)
    motion: Motion = "push_in"
    has_audio: bool | None = None
    fit_by_preset: dict[str, Fit] = field(default_factory=dict)
    focus_by_preset: dict[str, tuple[float, float]] = field(default_factory=dict)
    source: SourceInfo | None = None

    @property
    def length(self) -> float:
        if self.kind == "image":
            if not self.duration or self.duration <= 0:
                raise SpecError(f"image clip {self.path} needs a positive duration")
            return float(self.duration)
        if self.out_point is not None:
            length = self.out_point - self.in_point
        elif self.duration is not None:
            length = self.duration
        else:
            raise SpecError(f"video clip {self.path} needs out_point or duration")
        if length <= 0:
            raise SpecError(f"clip {self.path} has no length")
        return float(length)

    def fit_for(self, preset_key: str) -> Fit:
        return self.fit_by_preset.get(preset_key, self.fit)

    def focus_for(self, preset_key: str) -> tuple[float, float]:
        fx, fy = self.focus_by_preset.get(preset_key, self.focus)
        return (min(max(float(fx), 0.0), 1.0), min(max(float(fy), 0.0), 1.0))


@dataclass(frozen=True)
class SourceInfo:
    """What is known of a clip's source: probed by the runner (ffprobe), or handed in on the
    :class:`Clip` from the probe made when the file was stored. The graph adapts to it."""

    width: int = 0
    height: int = 0
    has_audio: bool = False
    color_space: str | None = None  # ffprobe's color_space, None when untagged
    pix_fmt: str | None = None
    color_range: str | None = None  # "tv" or "pc", None when untagged
    transfer: str | None = None  # ffprobe's color_transfer: "arib-std-b67" (HLG) and "smpte2084" (PQ) are HDR
    primaries: str | None = None  # ffprobe's color_primaries
    sar: float = 1.0  # the stored pixel aspect; with it not 1, the size is the one the render makes square


@dataclass(frozen=True)
class Transition:
    """Transition into the next clip; ``duration`` is the overlap (0 for cuts)."""

    kind: TransitionKind = "cut"
    duration: float = 0.5
    direction: Literal["left", "right"] = "left"

    @property
    def overlap(self) -> float:
        return 0.0 if self.kind == "cut" else float(self.duration)


@dataclass(frozen=True)
class Word:
    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Cue:
    words: tuple[Word, ...]

    @property
    def start(self) -> float:
        return self.words[0].start

    @property
    def end(self) -> float:
        return self.words[-1].end


@dataclass(frozen=True)
class CaptionStyle:
    """Look of the captions. Colours are ``#RRGGBB`` (the universe's palette).

    ``size`` is the font size as a fraction of the output height; ``border`` draws an
    outline ("stroke") or an opaque box behind the text ("box").
    """

    mode: Literal["karaoke", "phrase"] = "karaoke"
    font_family: str = "DejaVu Sans"
    font_file: str | None = None
    size: float = 0.045
    bold: bool = True
    primary: str = "#FFFFFF"
    highlight: str = "#FFD400"
    outline: str = "#000000"
    border: Literal["stroke", "box"] = "stroke"
    box_colour: str = "#000000"
    box_opacity: float = 0.6
    max_lines: int = 2
    position: Literal["bottom", "middle", "top"] = "bottom"


@dataclass(frozen=True)
class Captions:
    cues: tuple[Cue, ...]
    style: CaptionStyle = field(default_factory=CaptionStyle)


@dataclass(frozen=True)
class Voiceover:
    path: str | Path
    start: float = 0.0
    gain_db: float = 0.0


@dataclass(frozen=True)
class Music:
    """Background bed: looped to the composition length, faded out, ducked under voice."""

    path: str | Path
    level_db: float = -8.0
    loop: bool = True
    fade_out: float = 2.0
    duck: bool = True


WATERMARK_SCALE = 0.15  # the logo's width, as a share of the frame's width


@dataclass(frozen=True)
class Watermark:
    path: str | Path
    position: Corner = "top_right"
    opacity: float = 0.8
    scale: float = WATERMARK_SCALE


@dataclass(frozen=True)
class EndCard:
    text: str
    background: str = "#111111"
    text_colour: str = "#FFFFFF"
    font_family: str = "DejaVu Sans"
    duration: float = 2.5
    transition: Transition = field(default_factory=lambda: Transition("crossfade", 0.5))


@dataclass(frozen=True)
class Encoding:
    """Output encoding; ``encoder="auto"`` uses h264_nvenc only when it really works."""

    encoder: Literal["auto", "x264", "nvenc"] = "auto"
    crf: int = 20
    preset: str = "veryfast"
    audio_bitrate: str = "160k"
    threads: int = 0


@dataclass(frozen=True)
class Composition:
    """A timeline: ``transitions[i]`` joins ``clips[i]`` and ``clips[i + 1]``."""

    clips: tuple[Clip, ...]
    transitions: tuple[Transition, ...] = ()
    captions: Captions | None = None
    voiceover: Voiceover | None = None
    music: Music | None = None
    watermark: Watermark | None = None
    end_card: EndCard | None = None

    def transition_after(self, index: int) -> Transition:
        if index < len(self.transitions):
            return self.transitions[index]
        return Transition("cut", 0.0)

    def validate(self) -> None:
        if not self.clips:
            raise SpecError("a composition needs at least one clip")
        if len(self.transitions) > len(self.clips) - 1:
            raise SpecError("more transitions than joins between clips")
        last = len(self.clips) - 1
        into_card = self.end_card.transition.overlap if self.end_card is not None else 0.0
        for i, clip in enumerate(self.clips):
            # The last clip's way out is the transition into the end card, when there is one: it
            # overlaps the clip as any other transition does.
            before = self.transition_after(i - 1).overlap if i > 0 else 0.0
            after = self.transition_after(i).overlap if i < last else into_card
            if before + after > clip.length + 1e-6:
                out = "into the end card" if i == last else "out"
                raise SpecError(f"Clip {i + 1} lasts {clip.length:.2f} s, less than its transitions "
                                f"({before:.2f} s in + {after:.2f} s {out}): shorten a transition, use a cut "
                                "or keep more of the clip.", clip=i)
        if self.end_card is not None and into_card > self.end_card.duration + 1e-6:
            raise SpecError(f"The transition into the end card ({into_card:.2f} s) is longer than the end card "
                            f"({self.end_card.duration:.2f} s).", end_card=True)

    @property
    def main_duration(self) -> float:
        """Length of the clip timeline, before the end card."""
        total = sum(c.length for c in self.clips)
        total -= sum(self.transition_after(i).overlap for i in range(len(self.clips) - 1))
        return total

    @property
    def duration(self) -> float:
        total = self.main_duration
        if self.end_card is not None:
            total += self.end_card.duration - self.end_card.transition.overlap
        return total

    def clip_starts(self) -> list[float]:
        """Timeline start of each clip."""
        starts, t = [], 0.0
        for i, clip in enumerate(self.clips):
            starts.append(t)
            t += clip.length - self.transition_after(i).overlap
        return starts
