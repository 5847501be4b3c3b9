"""The editor's writes: compositions, their conversion into the render spec, and render jobs.

Settings read here (all optional, ``getattr(settings, NAME, default)``):
RENDER_ENCODER ("auto" | "x264" | "nvenc"), RENDER_CRF, RENDER_PRESET, RENDER_THREADS (0: ffmpeg
decides), RENDER_TIMEOUT_FACTOR (seconds of ffmpeg time allowed per second of output, min 300 s),
CAPTION_MAX_CHARS_PER_LINE / CAPTION_MAX_LINES / CAPTION_MAX_CUE_SECONDS (cue grouping of a
voiceover's words, shared with the audio app).

Decisions recorded here:
- One render job per request renders every selected preset one after the other, with combined
  progress (each preset an equal share of the bar): a 2-core box gains nothing from parallel
  ffmpeg processes, and one bar is what the page shows. Each finished cut is stored as soon as it
  is done (its Render row links the asset); a cancel stops ffmpeg, the cut in progress leaves no
  file and no asset, and the rows not finished are marked canceled by the job's finalizer.
- Brand: the caption and end-card font is the universe's first font that the project ships
  (DejaVu Sans otherwise; CJK text switches to the CJK font by itself); the highlight is the
  palette's last colour, the caption box and end-card background its first.
- Captions from a subtitle file get word times spread over each cue by word length (a subtitle
  has no word timing); captions from an audio request use its aligned words.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from media_assets.compositions import Composition, CompositionClip, Render
from media_assets.models import MediaAsset
from media_assets.render import captions_ass
from media_assets.render import spec as rs
from media_assets.render.colour_emoji import find_font as find_emoji_font
from media_assets.render.presets import PRESETS, get_preset
from media_assets.render.runner import RenderCanceled, RenderError, prepare, render
from mediastudio.lib.exceptions import ApplicationError, Conflict

if TYPE_CHECKING:
    from audio.models import AudioRequest

logger = logging.getLogger(__name__)

CLIP_KINDS = (MediaAsset.Kind.VIDEO, MediaAsset.Kind.IMAGE)
DEFAULT_IMAGE_SECONDS = 3.0
TRANSITION_RANGE = (0.1, 3.0)
MUSIC_LEVEL_RANGE = (-40.0, 6.0)
VOICE_GAIN_RANGE = (-20.0, 12.0)
END_CARD_RANGE = (1.0, 10.0)
MAX_CLIPS = 60

CLIP_FIELDS = (
    "asset", "in_point", "out_point", "duration", "fit", "focus_x", "focus_y", "motion", "keep_audio",
    "layouts", "transition", "transition_duration", "transition_direction",
)
SCALAR_FIELDS = (
    "title", "presets", "caption_mode", "caption_border", "caption_position", "voiceover_gain_db",
    "music_level_db", "music_duck", "watermark", "watermark_position", "watermark_opacity",
    "end_card_text", "end_card_duration",
)
RELATED_FIELDS = ("campaign", "universe", "caption_request", "caption_asset", "voiceover", "music")


class RenderFailed(RuntimeError):
    """ffmpeg failed on a cut; the job records the message (a permanent failure, no retry)."""

    permanent = True


# ---------------------------------------------------------------------------- settings


def render_encoding() -> rs.Encoding:
    encoder = str(getattr(settings, "RENDER_ENCODER", "auto")).lower()
    if encoder not in ("auto", "x264", "nvenc"):
        encoder = "auto"
    return rs.Encoding(
        encoder=encoder,  # type: ignore[arg-type]
        crf=int(getattr(settings, "RENDER_CRF", 20)),
        preset=str(getattr(settings, "RENDER_PRESET", "veryfast")),
        threads=int(getattr(settings, "RENDER_THREADS", 0)),
    )


# ---------------------------------------------------------------------------- validation


def render_emoji_font() -> Path | None:
    """The colour emoji font the renders draw emoji with (RENDER_EMOJI_FONT); None: outlines."""
    return find_emoji_font(settings.RENDER_EMOJI_FONT)


def _choice(errors: dict[str, list[str]], key: str, value: Any, choices: Iterable[str]) -> None:
    if value not in set(choices):
        errors.setdefault(key, []).append(f"'{value}' is not one of: {', '.join(choices)}.")


def _in_range(errors: dict[str, list[str]], key: str, value: Any, low: float, high: float) -> None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        errors.setdefault(key, []).append("Enter a number.")
        return
    if not low <= number <= high:
        errors.setdefault(key, []).append(f"Must be between {low:g} and {high:g}.")


def _same_workspace(errors: dict[str, list[str]], key: str, obj: Any, workspace_id: int) -> bool:
    if obj is None:
        return True
    owner = getattr(obj, "workspace_id", None)
    if owner != workspace_id:
        errors.setdefault(key, []).append("That belongs to another workspace.")
        return False
    return True


def _validate_clip(errors: dict[str, list[str]], index: int, data: dict[str, Any], workspace_id: int) -> None:
    key = f"clips.{index}"
    asset = data.get("asset")
    if not isinstance(asset, MediaAsset):
        errors.setdefault(f"{key}.asset", []).append("Choose a video or image from the library.")
        return
    if not _same_workspace(errors, f"{key}.asset", asset, workspace_id):
        return
    if asset.kind not in CLIP_KINDS:
        errors.setdefault(f"{key}.asset", []).append(f"A clip must be a video or an image, not {asset.get_kind_display().lower()}.")
        return
    if asset.status == MediaAsset.Status.FAILED:
        errors.setdefault(f"{key}.asset", []).append("This file could not be read.")
    in_point = float(data.get("in_point") or 0.0)
    if in_point < 0:
        errors.setdefault(f"{key}.in_point", []).append("The in point cannot be negative.")
    if asset.kind == MediaAsset.Kind.VIDEO:
        out_point = data.get("out_point")
        end = float(out_point) if out_point is not None else asset.duration
        if out_point is not None and float(out_point) <= in_point:
            errors.setdefault(f"{key}.out_point", []).append("The out point must come after the in point.")
        elif end is None:
            errors.setdefault(f"{key}.out_point", []).append("Give an out point (the source's length is unknown).")
        elif asset.duration is not None and end > asset.duration + 0.05:
            errors.setdefault(f"{key}.out_point", []).append(f"The source lasts only {asset.duration:.2f} s.")
        elif end <= in_point:
            errors.setdefault(f"{key}.in_point", []).append("The in point is past the end of the source.")
    else:
        duration = data.get("duration")
        if duration is not None and not 0.2 <= float(duration) <= 60:
            errors.setdefault(f"{key}.duration", []).append("An image stays on screen 0.2 to 60 seconds.")
    _choice(errors, f"{key}.fit", data.get("fit", "cover"), CompositionClip.Fit.values)
    _choice(errors, f"{key}.motion", data.get("motion", "push_in"), CompositionClip.Motion.values)
    _choice(errors, f"{key}.transition", data.get("transition", "cut"), CompositionClip.TransitionKind.values)
    _choice(errors, f"{key}.transition_direction", data.get("transition_direction", "left"), CompositionClip.Direction.values)
    _in_range(errors, f"{key}.transition_duration", data.get("transition_duration", 0.5), *TRANSITION_RANGE)
    for axis in ("focus_x", "focus_y"):
        _in_range(errors, f"{key}.{axis}", data.get(axis, 0.5), 0.0, 1.0)
    layouts = data.get("layouts") or {}
    if not isinstance(layouts, dict):
        errors.setdefault(f"{key}.layouts", []).append("Layouts map a preset to {fit, focus}.")
        return
    for preset_key, layout in layouts.items():
        if preset_key not in PRESETS or not isinstance(layout, dict):
            errors.setdefault(f"{key}.layouts", []).append(f"Unknown preset '{preset_key}'.")
            continue
        extra = sorted(set(layout) - {"fit", "focus"})
        if extra:
            errors.setdefault(f"{key}.layouts.{preset_key}", []).append(
                f"A platform's framing has a fit and a focus only, not {', '.join(map(str, extra))}.")
        if "fit" in layout:
            _choice(errors, f"{key}.layouts.{preset_key}.fit", layout["fit"], CompositionClip.Fit.values)
        focus = layout.get("focus")
        # true/false are ints to Python, not a place in the picture
        if focus is not None and not (isinstance(focus, (list, tuple)) and len(focus) == 2
                                      and all(isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1
                                              for v in focus)):
            errors.setdefault(f"{key}.layouts.{preset_key}.focus", []).append("The focus is [x, y], each 0 to 1.")


_WITH_ARTICLE = {MediaAsset.Kind.SUBTITLE: "a subtitle", MediaAsset.Kind.AUDIO: "an audio"}


def _validate_fields(errors: dict[str, list[str]], fields: dict[str, Any], workspace_id: int) -> None:
    if "title" in fields and not str(fields["title"]).strip():
        errors.setdefault("title", []).append("Give the composition a title.")
    if "presets" in fields:
        presets = fields["presets"]
        if not isinstance(presets, (list, tuple)):
            errors.setdefault("presets", []).append("A list of preset keys.")
        else:
            unknown = [p for p in presets if p not in PRESETS]
            if unknown:
                errors.setdefault("presets", []).append(f"Unknown preset(s): {', '.join(map(str, unknown))}; choose from {', '.join(PRESETS)}.")
    for key, model_choices in (("caption_mode", Composition.CaptionMode.values), ("caption_border", Composition.CaptionBorder.values),
                               ("caption_position", Composition.CaptionPosition.values), ("watermark_position", Composition.Corner.values)):
        if key in fields:
            _choice(errors, key, fields[key], model_choices)
    for key, bounds in (("music_level_db", MUSIC_LEVEL_RANGE), ("voiceover_gain_db", VOICE_GAIN_RANGE),
                        ("end_card_duration", END_CARD_RANGE), ("watermark_opacity", (0.0, 1.0))):
        if key in fields:
            _in_range(errors, key, fields[key], *bounds)
    for key in RELATED_FIELDS:
        if key in fields:
            _same_workspace(errors, key, fields[key], workspace_id)
    expected = {"caption_asset": (MediaAsset.Kind.SUBTITLE,), "voiceover": (MediaAsset.Kind.AUDIO,), "music": (MediaAsset.Kind.AUDIO,)}
    for key, kinds in expected.items():
        obj = fields.get(key)
        if obj is not None and obj.kind not in kinds:
            errors.setdefault(key, []).append(f"Choose {_WITH_ARTICLE[kinds[0]]} file, not {obj.get_kind_display().lower()}.")
    request = fields.get("caption_request")
    if request is not None and request.kind not in ("voiceover", "transcription"):
        errors.setdefault("caption_request", []).append("Captions come from a voiceover or a transcription.")


def composition_input_errors(*, workspace_id: int, fields: dict[str, Any],
                             clips: list[dict[str, Any]] | None = None) -> dict[str, list[str]]:
    """What :func:`composition_update` refuses in ``fields`` and ``clips`` before it changes anything
    (ranges, choices, other workspaces' objects, kinds of file), as {field: [messages]}. The API
    adds these to a request's malformed fields, so that one answer names every problem."""
    errors: dict[str, list[str]] = {}
    _validate_fields(errors, fields, workspace_id)
    if clips is not None:
        if len(clips) > MAX_CLIPS:
            errors.setdefault("clips", []).append(f"At most {MAX_CLIPS} clips.")
        for index, clip in enumerate(clips):
            _validate_clip(errors, index, clip, workspace_id)
    return errors


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


# ---------------------------------------------------------------------------- CRUD


def composition_create(*, workspace: Any, title: str, user: Any = None, clips: list[dict[str, Any]] | None = None,
                       **fields: Any) -> Composition:
    """A new composition of ``workspace``; ``fields`` are any of the model's editable fields.
    Raises ValidationError ({field: [messages]}) on bad input (another workspace's object,
    a non-video/image clip, an out point before the in point...)."""
    fields.setdefault("presets", ["tiktok", "reels", "shorts"])
    campaign = fields.get("campaign")
    if "universe" not in fields and campaign is not None and campaign.workspace_id == workspace.pk:
        fields["universe"] = campaign.universe
    with transaction.atomic():
        composition = Composition(workspace=workspace, title="", created_by=user if getattr(user, "is_authenticated", False) else None)
        return composition_update(composition=composition, title=title, clips=clips or [], **fields)


def composition_update(*, composition: Composition, clips: list[dict[str, Any]] | None = None,
                       expected_updated_at: datetime | None = None, **fields: Any) -> Composition:
    """Change fields and (when ``clips`` is given) replace the timeline with ``clips`` in order.

    Each clip is a dict of CompositionClip fields with ``asset`` a MediaAsset. The whole result
    must be renderable (transitions no longer than their clips), else ValidationError.
    ``expected_updated_at`` is the ``updated_at`` the editor last read: when the composition was
    saved since (another tab, a colleague), nothing changes and Conflict (409) says so, instead of
    the later save silently undoing the earlier one."""
    unknown = set(fields) - set(SCALAR_FIELDS) - set(RELATED_FIELDS)
    if unknown:
        raise TypeError(f"unknown composition fields: {', '.join(sorted(unknown))}")
    _raise(composition_input_errors(workspace_id=composition.workspace_id, fields=fields, clips=clips))
    if fields.get("caption_request") is not None and "voiceover" not in fields and composition.voiceover_id is None:
        request = fields["caption_request"]
        if request.kind == "voiceover" and request.asset_id:
            fields["voiceover"] = request.asset  # its captions only make sense over its voice
    with transaction.atomic():
        if expected_updated_at is not None and composition.pk is not None:
            saved_at = Composition.objects.select_for_update().values_list("updated_at", flat=True).get(pk=composition.pk)
            if saved_at != expected_updated_at:
                raise Conflict(
                    "This composition was saved elsewhere (another tab or a colleague) after you opened it. "
                    "Your changes are not saved yet: reload to see the other version, or save yours over it.",
                    # written as the API writes updated_at, so that a client can compare or resend it
                    code="edit_conflict", extra={"updated_at": saved_at.isoformat().replace("+00:00", "Z")},
                )
        for key, value in fields.items():
            setattr(composition, key, value.strip() if key in ("title", "end_card_text") and isinstance(value, str) else value)
        if composition.caption_request_id and composition.caption_asset_id:
            if "caption_asset" in fields and fields["caption_asset"] is not None:
                composition.caption_request = None
            else:
                composition.caption_asset = None
        composition.save()
        if clips is not None:
            composition.clips.all().delete()
            CompositionClip.objects.bulk_create([_clip_row(composition, i, c) for i, c in enumerate(clips)])
        spec_errors = composition_problems(composition=composition)
        if spec_errors:
            transaction.set_rollback(True)
            raise ValidationError(spec_errors)
    return composition


def _clip_row(composition: Composition, position: int, data: dict[str, Any]) -> CompositionClip:
    values = {k: data[k] for k in CLIP_FIELDS if k in data and data[k] is not None or k == "keep_audio" and k in data}
    row = CompositionClip(composition=composition, position=position, **values)
    if row.asset.kind == MediaAsset.Kind.IMAGE:
        row.in_point, row.out_point = 0.0, None
        row.duration = float(data.get("duration") or DEFAULT_IMAGE_SECONDS)
    else:
        row.duration = None
    return row


def composition_delete(*, composition: Composition) -> None:
    composition.delete()


def spec_error_fields(exc: rs.SpecError) -> dict[str, list[str]]:
    """A spec's refusal on the field it is about: ``clips.<index>`` for a clip shorter than its
    transitions (the editor marks that clip), ``end_card_duration`` for an end card shorter than
    the transition into it, else ``clips``."""
    if exc.clip is not None:
        return {f"clips.{exc.clip}": [str(exc)]}
    if exc.end_card:
        return {"end_card_duration": [str(exc)]}
    return {"clips": [str(exc)]}


def composition_problems(*, composition: Composition) -> dict[str, list[str]]:
    """Why the timeline cannot be rendered as it stands, by field ({} when it can, or when it is empty)."""
    clips = list(composition.clips.select_related("asset"))
    if not clips:
        return {}
    try:
        _timeline(composition, clips, paths=None, with_tracks=False).validate()
    except rs.SpecError as exc:
        return spec_error_fields(exc)
    return {}


# ---------------------------------------------------------------------------- spec conversion


def _clip_spec(clip: CompositionClip, path: str) -> rs.Clip:
    asset = clip.asset
    fit_by_preset = {k: v["fit"] for k, v in (clip.layouts or {}).items() if isinstance(v, dict) and "fit" in v}
    focus_by_preset = {k: (float(v["focus"][0]), float(v["focus"][1])) for k, v in (clip.layouts or {}).items()
                       if isinstance(v, dict) and v.get("focus")}
    common = dict(path=path, fit=clip.fit, focus=(clip.focus_x, clip.focus_y), motion=clip.motion,
                  fit_by_preset=fit_by_preset, focus_by_preset=focus_by_preset)
    if asset.kind == MediaAsset.Kind.IMAGE:
        return rs.Clip(kind="image", duration=clip.duration or DEFAULT_IMAGE_SECONDS, **common)
    out_point = clip.out_point if clip.out_point is not None else asset.duration
    return rs.Clip(kind="video", in_point=clip.in_point, out_point=out_point, has_audio=clip.keep_audio,
                   source=_known_source(asset), **common)


def _known_source(asset: MediaAsset) -> rs.SourceInfo | None:
    """What the probe made when the file was stored found (probe.render_facts): the render need not
    probe the file again. None for files stored before it was kept: the render probes those."""
    facts = (asset.metadata or {}).get("render_source")
    try:
        return rs.SourceInfo(**facts) if isinstance(facts, dict) else None
    except TypeError:  # kept by another version, with other fields
        return None


def _transition(clip: CompositionClip) -> rs.Transition:
    return rs.Transition(kind=clip.transition, duration=clip.transition_duration, direction=clip.transition_direction)


def _brand(composition: Composition) -> dict[str, Any]:
    universe = composition.brand_universe
    palette = [c for c in (universe.palette if universe else []) or [] if re.fullmatch(r"#[0-9a-fA-F]{6}", str(c))]
    fonts = [f for f in (universe.fonts if universe else []) or [] if f in captions_ass.FONT_FILES]
    return {
        "font": fonts[0] if fonts else "DejaVu Sans",
        "palette": palette,
        "logo": universe.logo if universe and universe.logo_id else None,
    }


def _luminance(colour: str) -> float:
    r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def caption_style(*, composition: Composition) -> rs.CaptionStyle:
    brand = _brand(composition)
    palette = brand["palette"]
    style = rs.CaptionStyle(mode=composition.caption_mode, font_family=brand["font"], border=composition.caption_border,
                            position=composition.caption_position)
    if palette:
        # A highlight must stand out from the white text: skip near-white brand colours.
        accents = [c for c in reversed(palette) if _luminance(c) < 0.85]
        darks = [c for c in palette if _luminance(c) < 0.5]
        style = rs.CaptionStyle(**{**style.__dict__, "highlight": accents[0] if accents else style.highlight,
                                   "box_colour": darks[0] if darks else style.box_colour})
    return style


def _end_card(composition: Composition, last: CompositionClip | None) -> rs.EndCard | None:
    if not composition.end_card_text.strip():
        return None
    brand = _brand(composition)
    background = brand["palette"][0] if brand["palette"] else "#111111"
    text_colour = "#FFFFFF" if _luminance(background) < 0.6 else "#111111"
    transition = _transition(last) if last is not None else rs.Transition("crossfade", 0.5)
    return rs.EndCard(text=composition.end_card_text.strip(), background=background, text_colour=text_colour,
                      font_family=brand["font"], duration=composition.end_card_duration, transition=transition)


def _placeholder(asset: MediaAsset | None) -> str:
    return asset.file.name if asset is not None else ""


def _timeline(composition: Composition, clips: list[CompositionClip], *, paths: dict[int, Path] | None,
              with_tracks: bool = True) -> rs.Composition:
    def where(asset: MediaAsset) -> str:
        return str(paths[asset.pk]) if paths is not None else _placeholder(asset)

    spec_clips = tuple(_clip_spec(c, where(c.asset)) for c in clips)
    transitions = tuple(_transition(c) for c in clips[:-1])
    if not with_tracks:
        return rs.Composition(clips=spec_clips, transitions=transitions, end_card=_end_card(composition, clips[-1] if clips else None))
    captions = None
    cues = caption_cues(composition=composition)
    if cues:
        captions = rs.Captions(cues=tuple(cues), style=caption_style(composition=composition))
    voiceover = music = watermark = None
    if composition.voiceover_id:
        voiceover = rs.Voiceover(path=where(composition.voiceover), gain_db=composition.voiceover_gain_db)
    if composition.music_id:
        music = rs.Music(path=where(composition.music), level_db=composition.music_level_db, duck=composition.music_duck)
    logo = _brand(composition)["logo"]
    if composition.watermark and logo is not None:
        watermark = rs.Watermark(path=where(logo), position=composition.watermark_position, opacity=composition.watermark_opacity)
    return rs.Composition(clips=spec_clips, transitions=transitions, captions=captions, voiceover=voiceover, music=music,
                          watermark=watermark, end_card=_end_card(composition, clips[-1] if clips else None))


def composition_assets(*, composition: Composition) -> list[MediaAsset]:
    """Every asset a render reads (clips, voiceover, music, logo), each once."""
    seen: dict[int, MediaAsset] = {}
    for clip in composition.clips.select_related("asset"):
        seen.setdefault(clip.asset_id, clip.asset)
    for asset in (composition.voiceover, composition.music):
        if asset is not None:
            seen.setdefault(asset.pk, asset)
    logo = _brand(composition)["logo"]
    if composition.watermark and logo is not None:
        seen.setdefault(logo.pk, logo)
    return list(seen.values())


def composition_spec(*, composition: Composition, paths: dict[int, Path] | None = None) -> rs.Composition:
    """The render spec of ``composition`` (the same for every preset: the engine lays each cut out
    for its own frame, using per-preset layouts where a clip has them).

    ``paths`` maps asset ids to local files; without it the storage names stand in (enough to
    validate and to compute durations)."""
    clips = list(composition.clips.select_related("asset"))
    if not clips:
        raise rs.SpecError("a composition needs at least one clip")
    return _timeline(composition, clips, paths=paths)


def composition_duration(*, composition: Composition) -> float | None:
    clips = list(composition.clips.select_related("asset"))
    if not clips:
        return None
    try:
        return round(_timeline(composition, clips, paths=None, with_tracks=False).duration, 3)
    except rs.SpecError:
        return None


# ---------------------------------------------------------------------------- captions


_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{2})[,.](\d{1,3})"
_CUE_TIME_RE = re.compile(_TIME + r"\s*-->\s*" + _TIME)


def _seconds(h: str | None, m: str, s: str, frac: str) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(frac.ljust(3, "0")[:3]) / 1000


def _clean_text(text: str) -> str:
    text = re.sub(r"\{[^}]*\}", "", text)  # ASS override blocks
    text = text.replace("\\N", " ").replace("\\n", " ").replace("\\h", " ")
    text = re.sub(r"<[^>]+>", "", text)  # SRT/VTT styling tags
    return " ".join(text.split())


def parse_subtitles(text: str) -> list[tuple[float, float, str]]:
    """(start, end, text) cues of an SRT, WebVTT or ASS document, in time order."""
    text = text.lstrip("\ufeff")
    cues: list[tuple[float, float, str]] = []
    if text.lstrip().startswith("[Script Info]"):
        fmt: list[str] = []
        in_events = False
        for line in text.splitlines():
            stripped = line.strip()
            if stripped.startswith("["):
                in_events = stripped.lower() == "[events]"
                continue
            if not in_events:
                continue
            if stripped.lower().startswith("format:"):
                fmt = [f.strip().lower() for f in stripped.split(":", 1)[1].split(",")]
            elif stripped.lower().startswith("dialogue:") and fmt:
                values = stripped.split(":", 1)[1].split(",", len(fmt) - 1)
                row = dict(zip(fmt, values))
                start = re.fullmatch(r"\s*(\d+):(\d{2}):(\d{2})[.](\d{1,2})\s*", row.get("start", ""))
                end = re.fullmatch(r"\s*(\d+):(\d{2}):(\d{2})[.](\d{1,2})\s*", row.get("end", ""))
                body = _clean_text(row.get("text", ""))
                if start and end and body:
                    cues.append((_seconds(start[1], start[2], start[3], start[4].ljust(2, "0") + "0"),
                                 _seconds(end[1], end[2], end[3], end[4].ljust(2, "0") + "0"), body))
    else:
        for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
            lines = block.strip().split("\n")
            for i, line in enumerate(lines):
                match = _CUE_TIME_RE.search(line)
                if match:
                    body = _clean_text(" ".join(lines[i + 1:]))
                    if body:
                        g = match.groups()
                        cues.append((_seconds(*g[0:4]), _seconds(*g[4:8]), body))
                    break
    return sorted((c for c in cues if c[1] > c[0]), key=lambda c: c[0])


def _tokens(text: str) -> list[str]:
    words: list[str] = []
    for chunk in text.split():
        # Chinese and Japanese are written without spaces: each of their characters is a unit of the highlight.
        words.extend(captions_ass.units(chunk))
    return words


def _spread(start: float, end: float, text: str) -> tuple[rs.Word, ...]:
    tokens = _tokens(text)
    weights = [max(len(t), 1) for t in tokens]
    total, t, out = float(sum(weights)), start, []
    for token, weight in zip(tokens, weights):
        step = (end - start) * weight / total
        out.append(rs.Word(token, round(t, 3), round(t + step, 3)))
        t += step
    return tuple(out)


def request_cues(request: AudioRequest, *, first_only: bool = False) -> list[rs.Cue]:
    """An audio request's aligned words grouped into caption cues, as the render shows them; with
    ``first_only`` just the first cue, grouped from as few words as can make it (cues are grouped
    greedily and hold at most a character per word of their lines)."""
    from audio.captions import build_cues

    words = [w for w in (request.words or []) if str(w.get("text", "")).strip()]
    max_chars = int(getattr(settings, "CAPTION_MAX_CHARS_PER_LINE", 32))
    max_lines = int(getattr(settings, "CAPTION_MAX_LINES", 2))
    if first_only:
        words = words[:max_chars * max_lines + 1]
    if not words:
        return []

    class _W:
        def __init__(self, item: dict[str, Any]) -> None:
            self.text, self.start, self.end = str(item["text"]), float(item["start"]), float(item["end"])

    grouped = build_cues(
        words=[_W(w) for w in words], max_chars_per_line=max_chars, max_lines=max_lines,
        max_cue_duration=float(getattr(settings, "CAPTION_MAX_CUE_SECONDS", 5.0)),
    )
    cues = [rs.Cue(words=tuple(rs.Word(w.text, w.start, max(w.end, w.start + 0.01)) for w in cue.words))
            for cue in grouped if cue.words]
    return cues[:1] if first_only else cues


def caption_cues(*, composition: Composition) -> list[rs.Cue]:
    """The caption cues of the composition, on its timeline (the voiceover starts at 0)."""
    if composition.caption_request_id:
        return request_cues(composition.caption_request)
    if composition.caption_asset_id:
        from media_assets.storage import storage_fetch_to_temp

        path, is_temp = storage_fetch_to_temp(composition.caption_asset.file.name, suffix=".sub")
        try:
            text = path.read_text(encoding="utf-8-sig", errors="replace")
        finally:
            if is_temp:
                path.unlink(missing_ok=True)
        return [rs.Cue(words=words) for start, end, body in parse_subtitles(text) if (words := _spread(start, end, body))]
    return []


# ---------------------------------------------------------------------------- render jobs


def render_start(*, composition: Composition, presets: list[str] | None = None, user: Any = None,
                 enqueue: bool = True) -> tuple[Any, list[Render]]:
    """Queue one job that renders ``presets`` (default: the composition's) one after the other;
    with ``enqueue=False`` no worker is told (the caller runs it: ``manage.py composition_render``).

    Refuses (ApplicationError 400 with field messages) what cannot render: no clips, no preset,
    an unknown preset, transitions longer than clips, a watermark without a universe logo."""
    from mediastudio.jobs.models import Job
    from mediastudio.jobs.services import job_create

    keys = list(dict.fromkeys(presets if presets is not None else composition.presets or []))
    fields: dict[str, list[str]] = {}
    if not keys:
        fields["presets"] = ["Choose at least one preset."]
    unknown = [k for k in keys if k not in PRESETS]
    if unknown:
        fields["presets"] = [f"Unknown preset(s): {', '.join(unknown)}."]
    if not composition.clips.exists():
        fields["clips"] = ["Add at least one clip to the timeline."]
    else:
        try:
            composition_spec(composition=composition).validate()
        except rs.SpecError as exc:
            fields.update(spec_error_fields(exc))
    if composition.watermark and _brand(composition)["logo"] is None:
        fields["watermark"] = ["The universe has no logo to use as a watermark."]
    if fields:
        raise ApplicationError("This composition cannot be rendered yet.", extra={"fields": fields})
    with transaction.atomic():
        job = job_create(
            workspace=composition.workspace,
            kind=Job.Kind.RENDER,
            task="media_assets.editor_tasks.render_run",
            finalizer="media_assets.editor_tasks.render_finalize",
            title=f"Render {composition.title}: {', '.join(PRESETS[k].label or k for k in keys)}",
            campaign=composition.campaign,
            user=user,
            params={"composition_id": composition.pk},
            max_attempts=1,
            enqueue=False,
        )
        renders = [Render.objects.create(composition=composition, preset=k, job=job,
                                         created_by=job.created_by) for k in keys]
        job.params = {"composition_id": composition.pk, "render_ids": [r.pk for r in renders]}
        job.save(update_fields=["params"])
        if enqueue:
            from mediastudio.jobs.services import job_enqueue

            job_enqueue(job)
    return job, renders


def _cancel_checker(reporter: Any, interval: float = 0.5):
    last = [0.0, False]

    def should_cancel() -> bool:
        now = time.monotonic()
        if now - last[0] >= interval:
            last[0], last[1] = now, reporter.canceled()
        return bool(last[1])

    return should_cancel


def _fetch_sources(assets: list[MediaAsset], workdir: Path) -> dict[int, Path]:
    from media_assets.storage import local_path, media_storage

    paths: dict[int, Path] = {}
    storage = media_storage()
    for asset in assets:
        name = asset.file.name
        direct = local_path(name, storage=storage)
        if direct is not None:
            paths[asset.pk] = direct
            continue
        dest = workdir / f"src-{asset.pk}{Path(name).suffix}"
        with storage.open(name, "rb") as fin, open(dest, "wb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
        paths[asset.pk] = dest
    return paths


def _failure_text(exc: RenderError) -> tuple[str, str]:
    """The end of ffmpeg's log (kept on the Render row) and its first line (the job's error)."""
    message = str(exc)[-4000:]
    return message, message.splitlines()[0] if message else "render failed"


def render_execute(*, job: Any, reporter: Any) -> dict[str, Any]:
    """The render job's work: each queued cut rendered, probed and stored as a rendered asset of
    the composition's workspace and campaign, linked from its Render row. Progress goes into the
    job; a cancel stops ffmpeg and stores nothing of the cut in progress (JobCanceled). A cut that
    fails is marked failed with its own error and the others are still made; the job then fails
    naming the failed cuts (RenderFailed)."""
    from media_assets.services import asset_create_from_file, asset_delete
    from media_assets.storage import media_temp_dir
    from mediastudio.jobs.services import JobCanceled

    ids = list(job.params.get("render_ids", []))
    rows = {r.pk: r for r in Render.objects.filter(pk__in=ids, job=job)}
    renders = [rows[i] for i in ids if i in rows]
    composition = Composition.objects.select_related(
        "workspace", "campaign", "universe__logo", "campaign__universe__logo", "voiceover", "music",
        "caption_request", "caption_asset").get(pk=job.params["composition_id"])
    todo = [r for r in renders if r.status != Render.Status.SUCCEEDED]
    Render.objects.filter(pk__in=[r.pk for r in todo]).update(status=Render.Status.RUNNING, error="")
    encoding = render_encoding()
    should_cancel = _cancel_checker(reporter)
    share = 100.0 / max(len(renders), 1)
    done: list[dict[str, Any]] = [{"preset": r.preset, "render": r.pk, "asset": r.output_id} for r in renders if r not in todo]
    failed: list[str] = []
    reporter.progress(0, "Preparing sources")
    workdir = Path(tempfile.mkdtemp(prefix="render-", dir=media_temp_dir()))
    try:
        paths = _fetch_sources(composition_assets(composition=composition), workdir)
        spec = composition_spec(composition=composition, paths=paths)
        factor = float(getattr(settings, "RENDER_TIMEOUT_FACTOR", 30))
        ffmpeg = settings.RENDER_FFMPEG or None
        emoji_font = render_emoji_font()
        reporter.progress(0, "Measuring loudness")
        try:  # probes and loudness are the same for every cut: worked out once
            prepared = prepare(spec, ffmpeg=ffmpeg, timeout=max(300.0, spec.duration * factor))
        except RenderError as exc:
            raise RenderFailed(_failure_text(exc)[1]) from exc
        for row in todo:
            n = renders.index(row)
            preset = get_preset(row.preset)
            label = preset.label or preset.key

            def relay(percent: float, message: str, _label: str = label) -> None:
                reporter.progress(int(percent), f"{_label}: {message}")

            started = time.monotonic()
            out = workdir / f"{slugify(composition.title) or 'render'}-{preset.key}.mp4"
            try:
                result = render(spec, preset, out, encoding=encoding, progress=relay, should_cancel=should_cancel,
                                timeout=max(300.0, spec.duration * factor), base=n * share, span=share,
                                prepared=prepared, ffmpeg=ffmpeg, stills_dir=workdir / f"previews-{preset.key}",
                                emoji_font=emoji_font)
            except RenderCanceled:
                raise JobCanceled() from None
            except RenderError as exc:
                if reporter.canceled():  # ffmpeg stopped by the same Ctrl-C that canceled the job
                    raise JobCanceled() from None
                message, headline = _failure_text(exc)
                Render.objects.filter(pk=row.pk).update(status=Render.Status.FAILED, error=message, finished_at=timezone.now())
                failed.append(f"{label}: {headline}")
                continue
            if reporter.canceled():
                raise JobCanceled()
            # Checking the cut and storing it with its previews (the poster and scrub strip come from the
            # render's own frames) takes a moment: the bar says so instead of staying on "rendering".
            reporter.progress(int((n + 1) * share), f"{label}: storing in the library", new_step=True)
            asset = asset_create_from_file(
                workspace=composition.workspace, path=result.path, source=MediaAsset.Source.RENDERED,
                kind=MediaAsset.Kind.VIDEO, campaign=composition.campaign, user=job.created_by,
                title=f"{composition.title} · {label}"[:200], original_name=out.name,
                metadata={"composition": composition.pk, "render": row.pk, "preset": preset.key,
                          "encoder": result.encoder, "loudness_gain_db": result.loudness_gain_db},
                previews=result.previews,
            )
            out.unlink(missing_ok=True)
            updated = Render.objects.filter(pk=row.pk, status=Render.Status.RUNNING).update(
                status=Render.Status.SUCCEEDED, output=asset, duration=result.duration, width=result.width,
                height=result.height, encoder=result.encoder, wall_seconds=round(time.monotonic() - started, 3),
                finished_at=timezone.now(),
            )
            if not updated:  # canceled while the cut was being stored: keep nothing of it
                try:
                    asset_delete(asset=asset)
                except ApplicationError:
                    pass
                raise JobCanceled()
            done.append({"preset": preset.key, "render": row.pk, "asset": asset.pk})
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if failed:
        made = f"; {len(done)} of {len(renders)} cuts were made" if done else ""
        raise RenderFailed("; ".join(failed) + made)
    return {"renders": done}


def render_finalize(*, job: Any) -> None:
    """Runs in the transaction that ends the job: rows not finished take the job's outcome."""
    status = {"canceled": Render.Status.CANCELED, "failed": Render.Status.FAILED}.get(job.status)
    if status is None:
        return
    Render.objects.filter(job=job, status__in=[Render.Status.QUEUED, Render.Status.RUNNING]).update(
        status=status, error=(job.error or "")[:4000] if status == Render.Status.FAILED else "", finished_at=timezone.now()
    )


def render_delete(*, render_row: Render) -> None:
    """Remove a render and its output asset (unless something else uses that asset too)."""
    from media_assets.services import AssetInUse, asset_delete

    with transaction.atomic():
        output = render_row.output
        render_row.delete()
        if output is not None:
            try:
                asset_delete(asset=output)
            except AssetInUse:
                pass  # another render or a publication still uses the same bytes
