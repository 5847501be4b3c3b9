"""Every transition kind renders, overlaps by its duration and really blends the two clips."""

from __future__ import annotations

import numpy as np
import pytest

from media_assets.render import render
from media_assets.render.spec import Clip, Composition, Encoding, EndCard, Transition

from .conftest import WIDE, frame_at, probe

KINDS = [("cut", "left"), ("crossfade", "left"), ("dip_to_black", "left"), ("wipe", "left"), ("wipe", "right"),
         ("slide", "left"), ("slide", "right"), ("zoom", "left")]


def _is_red(frame: np.ndarray) -> bool:
    return bool((frame[..., 0] > 200).mean() > 0.97 and (frame[..., 2] < 60).mean() > 0.97)


def _is_blue(frame: np.ndarray) -> bool:
    return bool((frame[..., 2] > 200).mean() > 0.97 and (frame[..., 0] < 60).mean() > 0.97)


@pytest.mark.parametrize(("kind", "direction"), KINDS)
def test_it_renders_each_transition_kind(media, tmp_path, kind, direction) -> None:
    transition = Transition(kind, 0.5, direction)
    comp = Composition(clips=(Clip(media["red.mp4"], duration=1.0), Clip(media["blue.mp4"], duration=1.0)),
                       transitions=(transition,))
    out = render(comp, WIDE, tmp_path / f"{kind}-{direction}.mp4", encoding=Encoding(encoder="x264")).path
    video = next(s for s in probe(out)["streams"] if s["codec_type"] == "video")
    assert int(video["nb_frames"]) == round(comp.duration * 30) == round((2.0 - transition.overlap) * 30)
    assert _is_red(frame_at(out, 0.2)) and _is_blue(frame_at(out, comp.duration - 0.1))
    if kind == "cut":
        assert _is_red(frame_at(out, 0.95)) and _is_blue(frame_at(out, 1.05))
    else:  # somewhere inside the 0.5-1.0 s overlap the picture is a mix of both clips
        inside = [frame_at(out, t) for t in (0.6, 0.75, 0.9)]
        assert any(not (_is_red(f) or _is_blue(f)) for f in inside)
    if kind == "dip_to_black":  # red fades out, black at the middle of the overlap, then blue fades in
        before, middle, after = (frame_at(out, t).astype(float) for t in (0.6, 0.75, 0.9))
        assert middle.max() < 40 and before[..., 0].mean() > 60 and after[..., 2].mean() > 60
        assert before[..., 2].mean() < 30 and after[..., 0].mean() < 30  # never both clips at once


def test_it_appends_the_end_card_with_its_transition(media, tmp_path) -> None:
    card = EndCard("Buy now", background="#00FF00", duration=1.0, transition=Transition("dip_to_black", 0.4))
    comp = Composition(clips=(Clip(media["red.mp4"], duration=1.0),), end_card=card)
    out = render(comp, WIDE, tmp_path / "card.mp4", encoding=Encoding(encoder="x264")).path
    assert comp.duration == pytest.approx(1.6)
    last = frame_at(out, 1.5)
    green = (last[..., 1] > 200) & (last[..., 0] < 60)
    text = (last[..., 0] > 120) & (last[..., 2] > 120)  # white text on green
    assert green.mean() > 0.8 and text.sum() > 60  # the card colour, with its text
    assert frame_at(out, 0.8).mean() < frame_at(out, 0.2).mean() * 0.7  # dipping to black
