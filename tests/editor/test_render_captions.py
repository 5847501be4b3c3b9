"""Captions: ASS layout, burned-in visibility, karaoke highlight movement, CJK glyphs."""

from __future__ import annotations

import re

import numpy as np
import pytest

from media_assets.render import render
from media_assets.render.captions_ass import CJK_FAMILY, EMOJI_FAMILY, HANGUL_FAMILY, ass_colour, build_ass, caption_box
from media_assets.render.spec import Captions, CaptionStyle, Clip, Composition, Cue, Encoding, EndCard, Word

from .conftest import TALL, frame_at

GREEN = "#00FF00"


def _white(frame: np.ndarray) -> np.ndarray:
    return (frame > 200).all(axis=2)


def _green(frame: np.ndarray) -> np.ndarray:
    r, g, b = frame[..., 0].astype(int), frame[..., 1].astype(int), frame[..., 2].astype(int)
    return (g > 170) & (r < 110) & (b < 110)


def _cues() -> tuple[Cue, ...]:
    return (
        Cue((Word("ONE", 0.2, 0.7), Word("TWO", 0.7, 1.2))),
        Cue((Word("THREE", 2.0, 2.8),)),
    )


def _render(media, tmp_path, style: CaptionStyle, cues=None, name="cap.mp4"):
    comp = Composition(clips=(Clip(media["grey.mp4"], duration=3.0),),
                       captions=Captions(cues=cues or _cues(), style=style))
    return render(comp, TALL, tmp_path / name, encoding=Encoding(encoder="x264")).path


def test_it_writes_ass_in_output_pixels_inside_the_safe_area() -> None:
    style = CaptionStyle(primary="#FFFFFF", highlight="#FF8000")
    script = build_ass(preset=TALL, captions=Captions(cues=_cues(), style=style))
    assert "PlayResX: 320" in script and "PlayResY: 568" in script
    caption_style = next(line for line in script.splitlines() if line.startswith("Style: Caption"))
    fields = caption_style.split(",")
    assert int(fields[-2]) >= TALL.safe.bottom  # MarginV
    assert int(fields[-4]) >= TALL.safe.left and int(fields[-3]) >= TALL.safe.right
    assert ass_colour("#FF8000") == "&H000080FF"
    karaoke = [line for line in script.splitlines() if line.startswith("Dialogue")]
    assert len(karaoke) == 3  # one event per word: the highlight moves
    assert "{\\1c&H0080FF&}ONE" in karaoke[0] and "{\\1c&H0080FF&}TWO" in karaoke[1]


def test_it_wraps_to_max_lines_and_pages_long_cues() -> None:
    words = tuple(Word(f"word{i}", i * 0.3, i * 0.3 + 0.3) for i in range(24))
    script = build_ass(preset=TALL, captions=Captions(cues=(Cue(words),), style=CaptionStyle(mode="phrase", max_lines=2)))
    events = [line for line in script.splitlines() if line.startswith("Dialogue")]
    assert len(events) > 1
    for event in events:
        assert event.count("\\N") <= 1
    starts = [e.split(",")[1] for e in events]
    assert starts == sorted(starts)


def test_a_see_through_box_is_one_even_box_behind_the_highlighted_words(media, tmp_path) -> None:
    words = (Word("ONE", 0.2, 0.6), Word("TWO", 0.6, 1.0), Word("SIX", 1.0, 1.4))
    style = CaptionStyle(mode="karaoke", highlight=GREEN, border="box", box_colour="#0000FF", box_opacity=0.6, size=0.06)
    frame = frame_at(_render(media, tmp_path, style, cues=(Cue(words),), name="box.mp4"), 0.8).astype(int)
    blue = (frame[..., 2] - frame[..., 0] > 60)  # the box over the grey clip
    ys, xs = np.nonzero(blue)
    assert len(ys) > 500
    top = frame[ys.min() + 1, xs.min() + 2:xs.max() - 1]  # the box's top row, above the letters
    # Boxes drawn per coloured run overlap, and a see-through box is darker where they do.
    assert np.abs(top - top.mean(axis=0)).max() <= 6


def test_it_sets_chinese_japanese_and_korean_runs_in_fonts_that_have_their_glyphs() -> None:
    cues = (Cue((Word("Hi", 0, 1), Word("中文", 1, 2), Word("字幕", 2, 3), Word("지금", 3, 4), Word("주문", 4, 5))),)
    script = build_ass(preset=TALL, captions=Captions(cues=cues, style=CaptionStyle(mode="phrase", max_lines=5, bold=False)))
    assert "Style: Caption,DejaVu Sans," in script  # Latin stays in the caption's own font
    text = next(line for line in script.splitlines() if line.startswith("Dialogue")).split(",,", 2)[-1]
    assert text.replace("\\N", " ") == (f"Hi{{\\fn{CJK_FAMILY}}}中文{{\\fnDejaVu Sans}}{{\\fn{CJK_FAMILY}}}字幕{{\\fnDejaVu Sans}}"
                                         f"{{\\fn{HANGUL_FAMILY}}}지금{{\\fnDejaVu Sans}} {{\\fn{HANGUL_FAMILY}}}주문{{\\fnDejaVu Sans}}")
    # No space next to Chinese or Japanese (written without them); Korean words keep theirs.
    bold = build_ass(preset=TALL, captions=Captions(cues=cues, style=CaptionStyle(bold=True)))
    # NanumSquare's bold file answers to this name only (libass would thicken the regular one).
    assert "{\\fnNanumSquare Bold}지금{\\fnDejaVu Sans}" in bold


def test_emoji_the_caption_font_lacks_are_set_in_the_emoji_font_whole_sequences_at_a_time() -> None:
    cues = (Cue((Word("Hot", 0, 1), Word("🔥deal", 1, 2), Word("★", 2, 3), Word("👩\u200d💻👍🏽", 3, 4))),)
    script = build_ass(preset=TALL, captions=Captions(cues=cues, style=CaptionStyle(mode="phrase", max_lines=5)))
    text = next(line for line in script.splitlines() if line.startswith("Dialogue")).split(",,", 2)[-1]
    assert text.replace("\\N", " ") == (f"Hot {{\\fn{EMOJI_FAMILY}}}🔥{{\\fnDejaVu Sans}}deal ★ "  # DejaVu has its own star
                                         f"{{\\fn{EMOJI_FAMILY}}}👩\u200d💻👍🏽{{\\fnDejaVu Sans}}")


def test_an_end_card_mixing_latin_and_cjk_keeps_latin_and_korean_words_whole() -> None:
    card = EndCard("Shop now: 50% off 今すぐ注文 지금 주문", duration=2.0)
    script = build_ass(preset=TALL, captions=None, end_card=card, end_card_start=1.0, end_card_end=3.0)
    text = next(line for line in script.splitlines() if line.startswith("Dialogue")).split(",,", 2)[-1]
    lines = re.sub(r"\{[^}]*\}", "", text).split("\\N")
    assert len(lines) > 1  # a 320 px wide card wraps
    assert all(line in card.text for line in lines)  # as written: no letter spaced out, no space lost
    assert "".join(lines).replace(" ", "") == card.text.replace(" ", "")
    for word in ("Shop", "now:", "50%", "off", "지금", "주문"):
        assert any(word in line for line in lines), word


def test_it_shows_captions_in_their_region_only_while_cues_run(media, tmp_path) -> None:
    style = CaptionStyle(primary="#FFFFFF", highlight=GREEN, size=0.06)
    out = _render(media, tmp_path, style)
    x0, y0, x1, y1 = caption_box(TALL, style)
    during, between, second = frame_at(out, 0.45), frame_at(out, 1.6), frame_at(out, 2.4)
    for frame in (during, second):
        text = _white(frame) | _green(frame)
        assert text.sum() > 150
        ys, xs = np.nonzero(text)
        assert ys.max() < TALL.height - TALL.safe.bottom and ys.min() >= y0 - 4
        assert xs.min() >= TALL.safe.left and xs.max() < TALL.width - TALL.safe.right
    assert (_white(between) | _green(between)).sum() == 0


def test_it_moves_the_karaoke_highlight_from_word_to_word(media, tmp_path) -> None:
    style = CaptionStyle(primary="#FFFFFF", highlight=GREEN, size=0.06)
    out = _render(media, tmp_path, style)
    first, second = _green(frame_at(out, 0.45)), _green(frame_at(out, 0.95))
    assert first.sum() > 50 and second.sum() > 50
    assert np.nonzero(second)[1].mean() - np.nonzero(first)[1].mean() > 30  # ONE -> TWO, left to right


def test_it_draws_phrases_without_highlight_and_boxes_when_asked(media, tmp_path) -> None:
    style = CaptionStyle(mode="phrase", highlight=GREEN, border="box", box_colour="#0000FF", box_opacity=1.0)
    frame = frame_at(_render(media, tmp_path, style, name="phrase.mp4"), 0.45)
    assert _green(frame).sum() == 0 and _white(frame).sum() > 50
    blue = (frame[..., 2] > 180) & (frame[..., 0] < 80) & (frame[..., 1] < 80)
    assert blue.sum() > 500


@pytest.mark.parametrize("first,second", [("中", "語"), ("ひ", "カ"), ("한", "국"), ("🔥", "🧊")],
                         ids=["chinese", "japanese", "korean", "emoji"])
def test_it_renders_cjk_and_emoji_glyphs_not_tofu(media, tmp_path, first, second) -> None:
    cues = (Cue((Word(first, 0.0, 1.0),)), Cue((Word(second, 1.0, 2.0),)), Cue((Word(first, 2.0, 3.0),)))
    style = CaptionStyle(mode="phrase", size=0.12, border="stroke")
    out = _render(media, tmp_path, style, cues=cues, name="cjk.mp4")
    a, b, a_again = (_white(frame_at(out, t)) for t in (0.5, 1.5, 2.5))
    assert a.sum() > 200 and b.sum() > 200
    # Missing glyphs draw the same box for every character; real glyphs differ.
    differ = (a ^ b).sum() / (a | b).sum()
    same = (a ^ a_again).sum() / (a | a_again).sum()
    assert differ > 0.3 and same < 0.1
