"""Platform presets and rendering one composition for several of them.

Each cut is laid out for its own frame, not scaled from another: the graph crops
each clip for the preset's aspect around the clip's focus point (or its per-preset
fit/focus override), captions sit inside that preset's safe area, and the watermark
is placed inside that preset's safe margins.

Safe areas keep text clear of the platform's own UI: on vertical feeds the bottom
fifth to quarter holds captions/description/music ticker and the right edge holds the
like/comment/share column.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .runner import CancelCheck, ProgressCallback, RenderResult, prepare, render
from .spec import Composition, Encoding, Preset, SafeArea, SpecError

PRESETS: dict[str, Preset] = {
    "tiktok": Preset("tiktok", 1080, 1920, 30, SafeArea(top=160, bottom=480, left=60, right=150), "TikTok 9:16"),
    "reels": Preset("reels", 1080, 1920, 30, SafeArea(top=220, bottom=420, left=60, right=130), "Instagram Reels 9:16"),
    "shorts": Preset("shorts", 1080, 1920, 30, SafeArea(top=160, bottom=400, left=60, right=140), "YouTube Shorts 9:16"),
    "youtube": Preset("youtube", 1920, 1080, 30, SafeArea(top=60, bottom=110, left=96, right=96), "YouTube 16:9"),
    "square": Preset("square", 1080, 1080, 30, SafeArea(top=54, bottom=100, left=54, right=54), "Square 1:1"),
    "feed": Preset("feed", 1080, 1350, 30, SafeArea(top=60, bottom=120, left=54, right=54), "Feed 4:5"),
}


def get_preset(key: str) -> Preset:
    try:
        return PRESETS[key]
    except KeyError as exc:
        raise SpecError(f"unknown preset {key!r}; choose from {', '.join(PRESETS)}") from exc


def render_all(composition: Composition, presets: Iterable[Preset | str], out_dir: str | Path, *,
               encoding: Encoding = Encoding(), progress: ProgressCallback | None = None,
               should_cancel: CancelCheck | None = None, name: str = "render") -> dict[str, RenderResult]:
    """Render one cut per preset, one after the other, into ``out_dir/<name>-<key>.mp4``.

    Progress is combined: each preset gets an equal share of 0..100.
    """
    chosen = [get_preset(p) if isinstance(p, str) else p for p in presets]
    if not chosen:
        raise SpecError("no presets to render")
    out_dir = Path(out_dir)
    share = 100.0 / len(chosen)
    prepared = prepare(composition)
    results: dict[str, RenderResult] = {}
    for n, preset in enumerate(chosen):
        def relay(percent: float, message: str, _key: str = preset.key) -> None:
            if progress is not None:
                progress(percent, f"{_key}: {message}")

        results[preset.key] = render(composition, preset, out_dir / f"{name}-{preset.key}.mp4", encoding=encoding,
                                     progress=relay, should_cancel=should_cancel, base=n * share, span=share,
                                     prepared=prepared)
    return results
