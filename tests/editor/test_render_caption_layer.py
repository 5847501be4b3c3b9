"""Captions drawn once per change and laid over the frames (media_assets.render.caption_layer)."""

from __future__ import annotations

import math
import re
import subprocess

import numpy as np
import pytest

from media_assets.render import caption_layer
from media_assets.render.caption_layer import Event, change_frames, parse_events, slices
from media_assets.render.captions_ass import FONTS_DIR, Region, build_script, on_frames
from media_assets.render.graph import build_command, escape_filter_value
from media_assets.render.runner import default_ffmpeg, prepare, render_command
from media_assets.render.spec import (
    Captions,
    CaptionStyle,
    Clip,
    Composition,
    Cue,
    Encoding,
    EndCard,
    Transition,
    Word,
)

from .conftest import TALL

WORDS = (Word("Meet", 0.2, 0.5), Word("the", 0.5, 0.71), Word("bottle", 0.71, 1.3), Word("today", 1.4, 1.9))


def test_event_times_move_between_frames_without_changing_the_frame_that_first_shows_them() -> None:
    for seconds in (0.0, 0.2, 0.3, 0.31, 1.0 / 3, 0.71, 2.999):
        moved = on_frames(seconds, 30)
        first = math.ceil(seconds * 30 - 1e-6)
        assert first / 30 - moved == pytest.approx(0.5 / 30) or (first == 0 and moved == 0)
    script = build_script(preset=TALL, captions=Captions(cues=(Cue(WORDS),))).text
    times = [line.split(",")[1:3] for line in script.splitlines() if line.startswith("Dialogue")]
    assert times[0] == ["0:00:00.18", "0:00:00.48"]  # frames 6..14: 0.2 s is frame 6, 0.5 s frame 15


def test_it_finds_the_frames_where_the_picture_changes_and_every_frame_of_a_fade() -> None:
    script = build_script(preset=TALL, captions=Captions(cues=(Cue(WORDS),)),
                          end_card=EndCard("Order now", duration=1.0), end_card_start=2.0, end_card_end=3.0).text
    events = parse_events(script)
    assert events[0] == Event(180, 480) and events[-1].moving == ((1980, 2280),)
    changes = change_frames(events, fps=30, frames=90)
    assert changes[:6] == (0, 6, 15, 22, 42, 57)  # nothing, each word's first frame, nothing after 1.9 s
    assert set(range(60, 70)) <= set(changes) and 70 not in changes  # the end card fades in over 0.3 s
    assert changes == tuple(sorted(set(changes))) and max(changes) < 90


def test_it_draws_in_the_captions_box_then_around_it_and_the_end_card_while_both_show() -> None:
    captions, card = Region((10, 300, 300, 460), 0.0, 2.5), Region((40, 200, 280, 360), 2.0, 3.0)
    cut = slices([captions, card], fps=30, frames=90)
    assert [(s.first, s.last, s.box) for s in cut] == [
        (0, 59, (10, 300, 300, 460)), (60, 74, (10, 200, 300, 460)), (75, 89, (40, 200, 280, 360))]
    assert slices([], fps=30, frames=90) == ()


def test_the_graph_draws_captions_on_two_canvases_at_their_changes_and_overlays_them_per_slice(tmp_path) -> None:
    comp = Composition(clips=(Clip("a.mp4", duration=3.0),), captions=Captions(cues=(Cue(WORDS),)),
                       end_card=EndCard("Order now", duration=1.0, transition=Transition("crossfade", 0.5)))
    script = build_script(preset=TALL, captions=comp.captions, end_card=comp.end_card,
                          end_card_start=comp.main_duration - 0.5, end_card_end=comp.duration)
    layer = caption_layer.plan(tmp_path / "c.ass", script.text, script.regions, fps=30,
                               frames=math.ceil(comp.duration * 30))
    cmd = build_command(composition=comp, preset=TALL, out_path="o.mp4", encoding=Encoding(), captions=layer)
    graph = cmd[cmd.index("-filter_complex") + 1]
    chains = graph.split(";")
    assert sum(c.startswith("color=c=black:s=320x568") for c in chains) == 1
    assert sum(c.startswith("color=c=white:s=320x568") and "lutyuv=u=240:v=240" in c for c in chains) == 1
    select = re.search(r"select='([^']*)'", graph).group(1)
    assert all(f"eq(n,{n})" in select for n in (0, 6, 15)) and "eq(n,7)" not in select
    assert graph.count("ass=filename=") == 2
    overlays = [c for c in chains if "overlay=" in c and ":enable='between(n," in c]
    # The captions end (1.9 s) before the end card starts (2.5 s): each has a slice of its own.
    assert [(s.first, s.last) for s in layer.slices] == [(6, 56), (75, 104)]
    assert len(overlays) == 2 and ":enable='between(n,75,104)'" in overlays[1]
    assert not any(c.startswith("[joined]ass=") or c.startswith("[wmd]ass=") for c in chains)


def _raw_frames(cmd: list[str], size: tuple[int, int]) -> np.ndarray:
    """The render's pictures as yuv420p, straight from its filter graph (no lossy encode)."""
    cut = cmd.index("-map")
    raw = subprocess.run(cmd[:cut] + ["-map", "[vout]", "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1",
                                      "-map", "[aout]", "-f", "null", "-"],
                         capture_output=True, timeout=120, check=True).stdout
    width, height = size
    return np.frombuffer(raw, np.uint8).reshape(-1, width * height * 3 // 2)


@pytest.mark.parametrize("style", [
    CaptionStyle(highlight="#FFB000", size=0.06),
    CaptionStyle(highlight="#00FF00", border="box", box_colour="#0000FF", box_opacity=0.6, size=0.06),
], ids=["stroke-and-shadow", "see-through-box"])
def test_the_layer_gives_the_picture_of_the_ass_filter_drawing_every_frame(media, tmp_path, monkeypatch,
                                                                          style) -> None:
    comp = Composition(clips=(Clip(media["testsrc.mp4"], duration=2.0),),
                       captions=Captions(cues=(Cue(WORDS),), style=style),
                       end_card=EndCard("Order 오늘", duration=1.0, transition=Transition("crossfade", 0.5)))
    ffmpeg = default_ffmpeg()
    prepared = prepare(comp, ffmpeg=ffmpeg)

    def command(folder: str) -> list[str]:
        (tmp_path / folder).mkdir()
        return render_command(comp, TALL, tmp_path / "o.mp4", encoding=Encoding(encoder="x264"), prepared=prepared,
                              workdir=tmp_path / folder, ffmpeg=ffmpeg)

    layered = _raw_frames(command("layer"), (TALL.width, TALL.height))
    monkeypatch.setattr(caption_layer, "filters",
                        lambda layer, *, main, out, ass_options, **kw: [f"[{main}]ass={ass_options}[{out}]"])
    every_frame = _raw_frames(command("ass"), (TALL.width, TALL.height))
    monkeypatch.setattr(caption_layer, "filters",
                        lambda layer, *, main, out, **kw: [f"[{main}]null[{out}]"])
    bare = _raw_frames(command("bare"), (TALL.width, TALL.height))
    assert layered.shape == every_frame.shape == (75, TALL.width * TALL.height * 3 // 2)
    luma = TALL.width * TALL.height
    diff = np.abs(layered.astype(int) - every_frame.astype(int))
    assert diff[:, :luma].max() <= 3 and diff[:, luma:].max() <= 12
    drawn = np.abs(every_frame.astype(int) - bare.astype(int))[:, :luma].max(axis=1)
    assert (drawn[6:60] > 100).all() and (drawn[:6] == 0).all()  # the words from frame 6 on, nothing before


def _drawn_boxes(script_path, size: tuple[int, int], frames: int) -> list[tuple[int, int, int, int] | None]:
    """Per frame, the box of every pixel the ass filter draws on a black frame (None: nothing)."""
    width, height = size
    raw = subprocess.run([default_ffmpeg(), "-v", "error", "-nostdin", "-f", "lavfi", "-i",
                          f"color=c=black:s={width}x{height}:r=30:d={frames / 30:.4f},format=gray,"
                          f"ass=filename={script_path}:fontsdir={FONTS_DIR}", "-frames:v", str(frames),
                          "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"], capture_output=True, timeout=120,
                         check=True).stdout
    boxes = []
    for frame in np.frombuffer(raw, np.uint8).reshape(-1, height, width):
        ys, xs = np.nonzero(frame > 16)
        boxes.append((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) if len(xs) else None)
    return boxes


@pytest.mark.parametrize("style", [
    CaptionStyle(size=0.12, max_lines=3),
    CaptionStyle(border="box", position="top", size=0.08, max_lines=2),
    CaptionStyle(mode="phrase", position="middle", size=0.07, max_lines=3),
], ids=["big-bottom", "boxed-top", "middle"])
def test_everything_the_script_draws_lies_in_its_slices(tmp_path, style) -> None:
    """The layer only shows what lies in its boxes: drawn on a whole frame, nothing falls outside."""
    words = tuple(Word(text, 0.1 + 0.3 * i, 0.4 + 0.3 * i) for i, text in enumerate(
        "Gjy 中文字幕 한국어 주문 🔥 ÉÇÅ quickly brought jumping gyros today".split()))
    card = EndCard("Shop now: 50% off 지금 주문 Äpfel jeden Tag", duration=1.5)
    script = build_script(preset=TALL, captions=Captions(cues=(Cue(words),), style=style), end_card=card,
                          end_card_start=3.3, end_card_end=4.8)
    path = tmp_path / "c.ass"
    path.write_text(script.text, encoding="utf-8")
    layer = caption_layer.plan(path, script.text, script.regions, fps=30, frames=144)
    drawn = _drawn_boxes(path, (TALL.width, TALL.height), 144)
    assert sum(box is not None for box in drawn) > 100
    for n, box in enumerate(drawn):
        if box is None:
            continue
        piece = next(s for s in layer.slices if s.first <= n <= s.last)  # StopIteration: drawn in no slice
        x0, y0, x1, y1 = piece.box
        assert x0 <= box[0] and y0 <= box[1] and box[2] <= x1 and box[3] <= y1, (n, box, piece.box)


def test_a_script_changing_too_often_to_list_is_drawn_on_every_frame_instead(tmp_path) -> None:
    """The changing frames are spelled out in ffmpeg's command line, whose arguments Linux limits."""
    regions = [Region((0, 0, 320, 100), 0.0, 1000.0)]
    many = caption_layer.CaptionLayer(tmp_path / "c.ass", 30000, tuple(range(0, 30000, 2)), slices(regions, fps=30, frames=30000))
    chains = caption_layer.filters(many, main="m", out="o", size=(320, 568), fps=30, escape=escape_filter_value,
                                   ass_options="filename=c.ass", tags="null")
    assert chains == ["[m]ass=filename=c.ass[o]"]
    few = caption_layer.CaptionLayer(tmp_path / "c.ass", 3000, tuple(range(0, 3000, 2)), slices(regions, fps=30, frames=3000))
    graph = ";".join(caption_layer.filters(few, main="m", out="o", size=(320, 568), fps=30, escape=escape_filter_value,
                                           ass_options="filename=c.ass", tags="null"))
    assert "select='((((((((((eq(n,0)+eq(n,2))" in graph and len(graph) < 128 * 1024


@pytest.mark.parametrize("count", [3, 150, 1200])
def test_select_keeps_exactly_the_changing_frames_however_many(count) -> None:
    """ffmpeg's parser refuses a sum of over 100 terms: a minute of karaoke has more changes."""
    frames = tuple(sorted({0, *range(1, 3 * count, 3), *range(3 * count, 3 * count + 5)}))
    expression = caption_layer._frames_expression(frames)
    out = subprocess.run([default_ffmpeg(), "-v", "info", "-nostats", "-nostdin", "-f", "lavfi", "-i",
                          f"color=c=black:s=16x16:r=30:d={(3 * count + 10) / 30:.4f},select='{expression}',"
                          "showinfo", "-f", "null", "-"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-500:]
    kept = [int(n) for n in re.findall(r"pts:\s*(\d+)", out.stderr)]
    assert kept == list(frames)
