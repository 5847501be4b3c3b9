"""Composition rendering: one ffmpeg process, one filter graph, one lossy encode.

Public API: the spec dataclasses, :func:`render`, :func:`render_all`, :data:`PRESETS`
and the pure :func:`build_command`. Importing needs no Django settings.
"""

from .graph import build_command
from .presets import PRESETS, get_preset, render_all
from .runner import RenderCanceled, RenderError, RenderResult, render
from .spec import (
    CaptionStyle,
    Captions,
    Clip,
    Composition,
    Cue,
    Encoding,
    EndCard,
    Music,
    Preset,
    SafeArea,
    SpecError,
    Transition,
    Voiceover,
    Watermark,
    Word,
)

__all__ = [
    "PRESETS", "CaptionStyle", "Captions", "Clip", "Composition", "Cue", "Encoding", "EndCard", "Music",
    "Preset", "RenderCanceled", "RenderError", "RenderResult", "SafeArea", "SpecError", "Transition",
    "Voiceover", "Watermark", "Word", "build_command", "get_preset", "render", "render_all",
]
