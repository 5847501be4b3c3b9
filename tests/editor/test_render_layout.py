"""Per-preset layout: focus-point cropping, contain with blurred fill, watermark, multi-preset renders."""

from __future__ import annotations

import numpy as np

from media_assets.render import render, render_all
from media_assets.render.spec import Clip, Composition, Encoding, Watermark

from .conftest import TALL, WIDE, frame_at


def _bright(frame: np.ndarray) -> np.ndarray:
    return (frame > 200).all(axis=2)


def _magenta(frame: np.ndarray) -> np.ndarray:
    r, g, b = (frame[..., i].astype(int) for i in range(3))
    return (r > 180) & (b > 180) & (g < 90)


def test_it_keeps_the_focus_point_in_a_vertical_cut_of_a_wide_source(media, tmp_path) -> None:
    focused = Composition(clips=(Clip(media["marker.mp4"], duration=1.0, focus=(0.8, 0.5)),))
    centred = Composition(clips=(Clip(media["marker.mp4"], duration=1.0),))
    enc = Encoding(encoder="x264")
    with_focus = frame_at(render(focused, TALL, tmp_path / "f.mp4", encoding=enc).path, 0.5)
    default = frame_at(render(centred, TALL, tmp_path / "c.mp4", encoding=enc).path, 0.5)
    assert _bright(with_focus).sum() > 1000  # the marker (40 px source, ~63 px out) is in frame
    ys, xs = np.nonzero(_bright(with_focus))
    assert abs(ys.mean() - TALL.height / 2) < 20
    assert _bright(default).sum() == 0  # centre crop loses it: the focus point is what saved it


def test_it_contains_a_source_over_a_blurred_fill(media, tmp_path) -> None:
    comp = Composition(clips=(Clip(media["marker.mp4"], duration=1.0, fit="contain_blur"),))
    frame = frame_at(render(comp, TALL, tmp_path / "blur.mp4", encoding=Encoding(encoder="x264")).path, 0.5)
    # The whole 16:9 source fits the width: the marker sits at 0.8 of the width, centred vertically.
    ys, xs = np.nonzero(_bright(frame))
    assert abs(xs.mean() / TALL.width - 0.8) < 0.03 and abs(ys.mean() - TALL.height / 2) < 10
    # Above and below the contained picture: a dim fill, not black bars, and darker than the source.
    band = frame[20:60].astype(int)
    assert 0 < band.mean() < 0x20


def test_it_lays_out_each_preset_separately(media, tmp_path) -> None:
    comp = Composition(
        clips=(Clip(media["marker.mp4"], duration=1.0, fit_by_preset={"wide": "contain_blur"}),),
        watermark=Watermark(media["logo.png"], position="top_right", opacity=1.0, scale=0.1),
    )
    seen: list[tuple[float, str]] = []
    results = render_all(comp, [TALL, WIDE], tmp_path, encoding=Encoding(encoder="x264"),
                         progress=lambda p, m: seen.append((p, m)))
    assert set(results) == {"tall", "wide"}
    for preset in (TALL, WIDE):
        result = results[preset.key]
        assert (result.width, result.height) == (preset.width, preset.height)
        logo = _magenta(frame_at(result.path, 0.5))
        ys, xs = np.nonzero(logo)
        assert logo.sum() > 0.5 * (preset.width * 0.1) ** 2
        assert xs.max() <= preset.width - preset.safe.right and xs.min() > preset.width / 2
        assert ys.min() >= preset.safe.top and ys.max() < preset.height / 2
    percents = [p for p, _ in seen]
    assert percents == sorted(percents) and percents[-1] == 100.0
    assert any(m.startswith("tall:") for _, m in seen) and any(m.startswith("wide:") for _, m in seen)
    assert max(p for p, m in seen if m.startswith("tall:")) <= 50.0
