"""Emoji in captions and end cards drawn in colour where libass laid out their outlines
(media_assets/render/colour_emoji.py), and as outlines without a colour emoji font."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from media_assets.render import colour_emoji, render
from media_assets.render.captions_ass import FONTS_DIR, build_script
from media_assets.render.graph import escape_filter_value
from media_assets.render.runner import default_ffmpeg
from media_assets.render.spec import Captions, CaptionStyle, Clip, Composition, Cue, Encoding, EndCard, Word

from .conftest import TALL, frame_at

FIRE_CUE = Cue((Word("Hot", 0.0, 0.3), Word("🔥", 0.3, 0.6), Word("deal", 0.6, 1.0)))
PLAIN_CUE = Cue((Word("plain", 1.2, 2.0),))


@pytest.fixture(scope="module")
def emoji_font():
    font = colour_emoji.find_font("auto")
    if font is None:
        pytest.fail("Noto Color Emoji is not installed (Debian's fonts-noto-color-emoji): `make test` installs it")
    return font


def _fire(frame: np.ndarray) -> np.ndarray:
    """The flame's orange and red (no caption, outline or test clip here has them)."""
    r, g, b = frame[..., 0].astype(int), frame[..., 1].astype(int), frame[..., 2].astype(int)
    return (r > 190) & (g > 40) & (g < 200) & (b < 90) & (r - b > 150)


def _white(frame: np.ndarray) -> np.ndarray:
    return (frame > 200).all(axis=2)


def _box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """Around the rows and columns with at least two pixels of ``mask`` (a lone pixel is the encode's)."""
    rows, cols = np.nonzero(mask.sum(axis=1) >= 2)[0], np.nonzero(mask.sum(axis=0) >= 2)[0]
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def _render(media, tmp_path, name: str, *, font, mode: str = "phrase", end_card: EndCard | None = None):
    comp = Composition(clips=(Clip(media["grey.mp4"], duration=3.0),), end_card=end_card,
                       captions=Captions(cues=(FIRE_CUE, PLAIN_CUE), style=CaptionStyle(mode=mode, size=0.06)))
    # With its poster and scrub strip, as the render job makes every cut (a second output of the same
    # ffmpeg: a picture stream without end kept such a render running for ever), and a deadline.
    return render(comp, TALL, tmp_path / name, encoding=Encoding(encoder="x264"), emoji_font=font,
                  stills_dir=tmp_path / f"{name}-stills", timeout=60).path


def test_an_emoji_is_drawn_in_colour_in_place_of_its_outline_and_only_while_its_cue_shows(media, tmp_path,
                                                                                            emoji_font) -> None:
    coloured = _render(media, tmp_path, "colour.mp4", font=emoji_font)
    outlined = _render(media, tmp_path, "outline.mp4", font=None)
    during, colour_after = frame_at(coloured, 0.5), frame_at(coloured, 1.5)
    fire = _fire(during)
    assert fire.sum() > 80
    assert not _fire(colour_after).any() and not _fire(frame_at(outlined, 0.5)).any()

    # Where the outline glyph was (white in the outlined cut and not in the coloured one), centred
    # on it to within a few pixels: both fonts draw the flame about as wide as high.
    outline = _white(frame_at(outlined, 0.5)) & ~_white(during)
    x0, y0, x1, y1 = _box(fire)
    ox0, oy0, ox1, oy1 = _box(outline)
    assert abs((x0 + x1) - (ox0 + ox1)) / 2 <= 3 and abs((y0 + y1) - (oy0 + oy1)) / 2 <= 3
    assert abs((y1 - y0) - (oy1 - oy0)) <= 3
    # Between "Hot" and "deal", on their line; the words are drawn as they were.
    text = _white(during)
    line = text[y0:y1]
    assert line[:, : x0].sum() > 30 and line[:, x1:].sum() > 30
    changed = text ^ _white(frame_at(outlined, 0.5))
    changed[oy0 - 3:oy1 + 3, ox0 - 3:ox1 + 3] = False
    assert changed.sum() < 10


def test_karaoke_lays_one_picture_over_every_word_of_the_page_and_hides_the_outlines(tmp_path, emoji_font) -> None:
    script = build_script(preset=TALL, captions=Captions(cues=(FIRE_CUE,), style=CaptionStyle(mode="karaoke")))
    text, overlays = colour_emoji.place(script.text, font=emoji_font, size=(TALL.width, TALL.height), fps=TALL.fps,
                                        ffmpeg=default_ffmpeg(), fonts_dir=FONTS_DIR, workdir=tmp_path,
                                        escape=escape_filter_value)
    assert len(overlays) == 1  # three events (one per lit word), the emoji in the same place in each
    probed = (tmp_path / "emoji-probe.ass").read_text(encoding="utf-8")
    assert probed.count("Dialogue:") == 1  # laid out alike: probed once
    (picture,) = overlays
    assert picture.start == pytest.approx(0.0, abs=1 / 30) and picture.end == pytest.approx(1.0, abs=1 / 30)
    assert picture.image.is_file() and not picture.fade_in
    dialogue = [line for line in text.splitlines() if line.startswith("Dialogue:")]
    assert len(dialogue) == 3 and all("\\fnNoto Emoji\\1a&HFF&\\3a&HFF&\\4a&HFF&}🔥" in line for line in dialogue)
    # After the emoji, the style's own alphas again: the words after it are drawn as before.
    assert all("\\1a&H00&\\3a&H00&\\4a&H80&}" in line for line in dialogue)


def test_end_card_emoji_fade_in_with_the_card(media, tmp_path, emoji_font) -> None:
    card = EndCard(text="Order 🔥", duration=1.5)
    script = build_script(preset=TALL, captions=None, end_card=card, end_card_start=3.0, end_card_end=4.5)
    _, overlays = colour_emoji.place(script.text, font=emoji_font, size=(TALL.width, TALL.height), fps=TALL.fps,
                                     ffmpeg=default_ffmpeg(), fonts_dir=FONTS_DIR, workdir=tmp_path,
                                     escape=escape_filter_value)
    assert [(o.fade_in, o.fade_out) for o in overlays] == [(0.3, 0.0)]
    out = _render(media, tmp_path, "card.mp4", font=emoji_font, end_card=card)
    start = 3.0 - card.transition.overlap  # the card comes in over the clip's end
    fading, shown = _fire(frame_at(out, start + 0.07)).sum(), _fire(frame_at(out, start + 0.9)).sum()
    assert shown > 80 and fading < shown / 2


def test_a_script_without_emoji_comes_back_as_it_was_and_nothing_is_probed(tmp_path) -> None:
    script = build_script(preset=TALL, captions=Captions(cues=(PLAIN_CUE,), style=CaptionStyle()))
    text, overlays = colour_emoji.place(script.text, font=FONTS_DIR / "NotoEmoji.ttf", size=(TALL.width, TALL.height),
                                        fps=TALL.fps, ffmpeg="/nonexistent/ffmpeg", fonts_dir=FONTS_DIR,
                                        workdir=tmp_path, escape=escape_filter_value)
    assert (text, overlays) == (script.text, ())
    assert colour_emoji.find_font("none") is None and colour_emoji.find_font("") is None
    assert colour_emoji.find_font("/fonts/Mine.ttf") == Path("/fonts/Mine.ttf")


def test_a_script_drawn_on_every_frame_still_gets_its_colour_emoji(tmp_path) -> None:
    """Past caption_layer.MAX_EXPRESSION the ass filter draws on the cut itself: the pictures go there."""
    from media_assets.render import caption_layer
    from media_assets.render.captions_ass import Region

    regions = [Region((0, 0, 320, 100), 0.0, 1000.0)]
    picture = colour_emoji.Overlay(tmp_path / "emoji-0.png", 5, 6, 0.5, 1.0)
    many = caption_layer.CaptionLayer(tmp_path / "c.ass", 30000, tuple(range(0, 30000, 2)),
                                      caption_layer.slices(regions, fps=30, frames=30000), (picture,))
    chains = caption_layer.filters(many, main="m", out="o", size=(320, 568), fps=30, escape=escape_filter_value,
                                   ass_options="filename=c.ass", tags="null")
    assert chains[0] == "[m]ass=filename=c.ass[ot]"
    assert chains[-1] == ("[ot][me0]overlay=x=5:y=6:format=yuv420:eof_action=repeat"
                          ":enable='between(t,0.500000,1.000000)'[o]")


def test_emoji_past_the_overlay_limit_keep_their_outlines(tmp_path, emoji_font, monkeypatch) -> None:
    monkeypatch.setattr(colour_emoji, "MAX_OVERLAYS", 1)
    cues = (Cue((Word("🔥", 0.0, 0.5),)), Cue((Word("plain", 0.6, 1.0),)), Cue((Word("🧊", 1.2, 1.6),)))
    script = build_script(preset=TALL, captions=Captions(cues=cues, style=CaptionStyle(mode="phrase")))
    text, overlays = colour_emoji.place(script.text, font=emoji_font, size=(TALL.width, TALL.height), fps=TALL.fps,
                                        ffmpeg=default_ffmpeg(), fonts_dir=FONTS_DIR, workdir=tmp_path,
                                        escape=escape_filter_value)
    assert [(round(o.start, 2), round(o.end, 2)) for o in overlays] == [(0.0, 0.48)]
    fire, ice = (line for line in text.splitlines() if "Noto Emoji" in line)
    assert "\\1a&HFF&" in fire and "\\1a&HFF&" not in ice
    assert ice in script.text.splitlines()  # as written: drawn as outlines
