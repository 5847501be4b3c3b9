"""Per-preset layout: focus-point cropping, contain with blurred fill, watermark, multi-preset renders,
colours kept through the fit."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from media_assets.render import render, render_all, runner
from media_assets.render.captions_ass import caption_box
from media_assets.render.graph import watermark_box
from media_assets.render.spec import (Captions, CaptionStyle, Clip, Composition, Cue, Encoding, Preset, SafeArea,
                                      SourceInfo, Watermark, Word)

from .conftest import HDR_PATCHES, TALL, WIDE, ffmpeg, frame_at, hdr_patches, probe


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


@pytest.mark.parametrize("preset", [TALL, WIDE], ids=["tall", "wide"])
def test_a_still_image_contained_over_a_blurred_fill_joins_a_video_with_square_pixels(media, tmp_path, preset) -> None:
    # The fill is made small (1/8) and scaled back up; scaling to another aspect must not leave
    # non-square pixels, which the join refused ("parameters do not match") and players stretch.
    comp = Composition(clips=(Clip(media["marker.mp4"], duration=0.5),
                              Clip(media["photo.png"], kind="image", duration=1.0, fit="contain_blur")))
    out = render(comp, preset, tmp_path / "still.mp4", encoding=Encoding(encoder="x264")).path
    video = next(s for s in probe(out)["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == (preset.width, preset.height)
    assert video.get("sample_aspect_ratio", "1:1") in ("1:1", "0:1")
    frame = frame_at(out, 1.0).astype(int)
    band = frame[:8] if preset is TALL else frame[:, :8]  # the fill beside the photo
    middle = frame[preset.height // 2 - 4:preset.height // 2 + 4, preset.width // 2 - 4:preset.width // 2 + 4]
    assert 0 < band.mean() < frame.mean() and middle.std() > 0  # a dimmed fill, not black bars


def test_a_contained_image_gets_its_camera_move_too(media, tmp_path) -> None:
    def frames(motion: str) -> tuple[np.ndarray, np.ndarray]:
        comp = Composition(clips=(Clip(media["photo.png"], kind="image", duration=1.0, fit="contain_blur", motion=motion),))
        out = render(comp, TALL, tmp_path / f"{motion}.mp4", encoding=Encoding(encoder="x264")).path
        return frame_at(out, 0.0).astype(int), frame_at(out, 0.95).astype(int)

    first, last = frames("push_in")
    assert np.abs(first - last).mean() > 5  # pushed in: the picture and its fill grow
    first, last = frames("none")
    assert np.abs(first - last).mean() < 1


@pytest.mark.parametrize("position,corner", [("top", "top_right"), ("bottom", "bottom_left")])
def test_captions_on_the_watermarks_edge_keep_clear_of_the_logo(media, tmp_path, position, corner) -> None:
    style = CaptionStyle(mode="phrase", position=position, size=0.06, max_lines=1)
    words = (Word("CLEAR", 0.0, 0.9), Word("OF", 0.0, 0.9), Word("THE", 0.0, 0.9), Word("LOGO", 0.0, 0.9))
    logo = Watermark(media["logo.png"], position=corner, opacity=1.0, scale=0.2)
    comp = Composition(clips=(Clip(media["grey.mp4"], duration=1.0),), watermark=logo,
                       captions=Captions(cues=(Cue(words),), style=style))
    frame = frame_at(render(comp, TALL, tmp_path / "clear.mp4", encoding=Encoding(encoder="x264")).path, 0.5)
    x0, y0, x1, y1 = watermark_box(TALL, logo, (64, 64))
    assert _magenta(frame)[y0:y1, x0:x1].mean() > 0.9  # the logo, whole
    ys, _ = np.nonzero(_bright(frame))
    assert len(ys) > 100  # the caption
    assert (ys.min() >= y1) if position == "top" else (ys.max() < y0)  # beside the logo's rows, not over it
    box = caption_box(TALL, style, (x0, y0, x1, y1))  # what the editor's tests and preview take as the caption band
    assert box[1] - 8 <= ys.min() and ys.max() <= box[3] + 8  # (outline and shadow reach a little past it)


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


@pytest.mark.parametrize("zimg", [True, False], ids=["zimg", "swscale"])
def test_it_keeps_source_colours_through_the_fit_with_either_scaler(tmp_path, monkeypatch, zimg) -> None:
    # One colour encoded with the SD matrix (untagged 640x360: BT.601 by convention) and with the
    # HD one (1280x720, tagged BT.709). A fit that used the wrong matrix shifts green by ~10 levels.
    colour = (200, 60, 40)
    hexed = "0x" + "".join(f"{c:02X}" for c in colour)
    sd, hd = tmp_path / "sd.mp4", tmp_path / "hd.mp4"
    x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p"]
    ffmpeg("-f", "lavfi", "-i", f"color=c={hexed}:s=640x360:r=30:d=1,format=rgb24",
           "-vf", "scale=out_color_matrix=bt601:out_range=tv", *x264, str(sd))
    ffmpeg("-f", "lavfi", "-i", f"color=c={hexed}:s=1280x720:r=30:d=1,format=rgb24",
           "-vf", "scale=out_color_matrix=bt709:out_range=tv", *x264, "-colorspace", "bt709", str(hd))
    assert runner.has_zscale(runner.default_ffmpeg())  # both builds the project uses have it
    monkeypatch.setattr(runner, "has_zscale", lambda ffmpeg="ffmpeg": zimg)
    graphs: list[str] = []
    build = runner.build_command
    monkeypatch.setattr(runner, "build_command", lambda **kw: graphs.append(" ".join(c := build(**kw))) or c)
    comp = Composition(clips=(Clip(sd, duration=1.0), Clip(hd, duration=1.0)))
    out = render(comp, TALL, tmp_path / "out.mp4", encoding=Encoding(encoder="x264")).path
    assert ("zscale=" in graphs[0]) is zimg and ("in_color_matrix=bt601" in graphs[0]) is not zimg
    for t in (0.5, 1.5):
        centre = frame_at(out, t)[200:360, 100:220].reshape(-1, 3).mean(axis=0)
        assert np.abs(centre - colour).max() < 5, (t, centre)


@pytest.mark.parametrize("preset", [TALL, WIDE], ids=["tall", "wide"])
def test_it_lays_out_a_phone_video_by_its_rotation(tmp_path, preset) -> None:
    # As phones record portrait: a 640x360 stream that players turn by 90 degrees into 360x640.
    # ffmpeg decodes it turned, so the layout must use the turned size (a wide cut failed, a tall
    # one squashed the picture into a 16:9 band).
    stored, phone = tmp_path / "stored.mp4", tmp_path / "phone.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=0x202020:s=360x640:r=30:d=1,drawbox=x=150:y=100:w=60:h=60:c=white:t=fill,"
           "transpose=1", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(stored))
    subprocess.run([runner.default_ffmpeg(), "-v", "error", "-nostdin", "-y", "-display_rotation", "90",
                    "-i", str(stored), "-c", "copy", str(phone)], check=True, capture_output=True, timeout=60)
    assert runner.probe_source(phone) == SourceInfo(width=360, height=640, pix_fmt="yuv420p")

    comp = Composition(clips=(Clip(phone, duration=1.0, fit="contain_blur"),))
    frame = frame_at(render(comp, preset, tmp_path / "out.mp4", encoding=Encoding(encoder="x264")).path, 0.5)
    # Contained whole: the picture is as tall as the cut, centred, and keeps its aspect.
    picture_w = preset.height * 360 / 640
    ys, xs = np.nonzero(_bright(frame))
    box = 60 * preset.height / 640
    assert abs(xs.mean() - preset.width / 2) < 3 and abs(ys.mean() - 130 * preset.height / 640) < 3
    assert abs((xs.max() - xs.min() + 1) - box) < 3 and abs((ys.max() - ys.min() + 1) - box) < 3
    if picture_w < preset.width - 4:  # the blurred fill beside it, dimmer than the picture's grey
        side = frame[:, : int((preset.width - picture_w) / 2) - 2].astype(int)
        assert side.mean() < 0x20 * 0.8


@pytest.mark.parametrize("transfer", ["arib-std-b67", "smpte2084"], ids=["hlg", "pq"])
def test_it_tone_maps_a_phones_hdr_video_to_the_colours_an_sdr_screen_expects(tmp_path, transfer) -> None:
    # Four SDR patches written as a phone's HDR (see hdr_patches). Read as if it were SDR, the
    # picture comes out flat and dim (white at about 180, or 140 with PQ).
    hdr = hdr_patches(tmp_path / "hdr.mp4", transfer)
    assert runner.probe_source(hdr).transfer == transfer

    comp = Composition(clips=(Clip(hdr, duration=1.0),))
    frame = frame_at(render(comp, WIDE, tmp_path / "out.mp4", encoding=Encoding(encoder="x264")).path, 0.5)
    for i, colour in enumerate(HDR_PATCHES):
        seen = frame[60:120, i * 80 + 20:i * 80 + 60].reshape(-1, 3).mean(axis=0)
        # Within a few levels; white loses a little to the highlight knee (about 231, and PQ's 10-bit
        # round trip tints it by up to 9).
        assert np.abs(seen - colour).max() < 10, (i, seen)


@pytest.mark.parametrize(("fit", "box"), [("contain_blur", 40), ("cover", 45)])
def test_it_widens_non_square_pixels_before_fitting(tmp_path, fit, box) -> None:
    # 480x480 stored at a 2:1 pixel aspect: shown 960x480, where the 60x120 box is a square.
    wide_pixels = tmp_path / "anamorphic.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=0x202020:s=480x480:r=30:d=1,drawbox=x=210:y=180:w=60:h=120:c=white:t=fill,"
           "setsar=2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(wide_pixels))
    assert runner.probe_source(wide_pixels) == SourceInfo(width=960, height=480, pix_fmt="yuv420p", sar=2.0)

    comp = Composition(clips=(Clip(wide_pixels, duration=1.0, fit=fit),))
    frame = frame_at(render(comp, WIDE, tmp_path / "out.mp4", encoding=Encoding(encoder="x264")).path, 0.5)
    ys, xs = np.nonzero(_bright(frame))
    # 2:1 contained in 16:9 is 320x160 (box 40); covering it keeps 853 of 960 (box 45). Either way a
    # square box in the middle, where stored pixels taken as square give one twice as tall as wide.
    assert abs((xs.max() - xs.min() + 1) - box) <= 3 and abs((ys.max() - ys.min() + 1) - box) <= 3
    assert abs(xs.mean() - 160) < 3 and abs(ys.mean() - 90) < 3


def test_it_makes_a_turned_video_of_non_square_pixels_exactly_the_cuts_size(tmp_path) -> None:
    # 240x180 stored at a 4:3 pixel aspect (shown 320x180) and turned by 90 degrees: shown 180x320,
    # which is this cut's size. ffmpeg turns the pixel aspect with the picture (to 3:4); the render
    # took the probe's size for the decoded one, found it ready and encoded a 134x240 picture.
    cut = Preset("turned", 180, 320, 30, SafeArea(top=10, bottom=20, left=10, right=10))
    stored, phone = tmp_path / "stored.mp4", tmp_path / "phone.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=0x202020:s=240x180:r=30:d=1,drawbox=x=98:y=60:w=45:h=60:c=white:t=fill,"
           "setsar=4/3", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-colorspace", "bt709",
           "-color_range", "tv", str(stored))
    subprocess.run([runner.default_ffmpeg(), "-v", "error", "-nostdin", "-y", "-display_rotation", "90",
                    "-i", str(stored), "-c", "copy", str(phone)], check=True, capture_output=True, timeout=60)
    assert (runner.probe_source(phone).width, runner.probe_source(phone).height) == (180, 320)

    comp = Composition(clips=(Clip(phone, duration=1.0),))
    out = render(comp, cut, tmp_path / "out.mp4", encoding=Encoding(encoder="x264")).path
    frame = frame_at(out, 0.5)
    assert frame.shape[:2] == (320, 180)
    ys, xs = np.nonzero(_bright(frame))  # the box, square on screen, in the middle
    assert abs((xs.max() - xs.min() + 1) - 60) <= 3 and abs((ys.max() - ys.min() + 1) - 60) <= 3
    assert abs(xs.mean() - 90) < 3 and abs(ys.mean() - 160) < 3


@pytest.mark.parametrize("fit,motion", [("cover", "none"), ("contain_blur", "none"), ("cover", "push_in")])
def test_a_transparent_still_is_laid_on_white_as_the_studio_shows_it(tmp_path, fit, motion) -> None:
    from PIL import Image

    # A product cut-out: a red square on a transparent background whose hidden colour is black.
    cutout = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    cutout.paste((220, 30, 30, 255), (150, 100, 250, 200))
    cutout.save(tmp_path / "cutout.png")
    assert runner.image_source(tmp_path / "cutout.png").pix_fmt == "rgba"
    Image.new("RGBA", (40, 30), (10, 200, 10, 255)).save(tmp_path / "opaque.png")
    assert runner.image_source(tmp_path / "opaque.png").pix_fmt == "rgb24"  # an alpha channel, opaque everywhere

    comp = Composition(clips=(Clip(tmp_path / "cutout.png", kind="image", duration=1.0, fit=fit, motion=motion),))
    frame = frame_at(render(comp, WIDE, tmp_path / "cutout.mp4", encoding=Encoding(encoder="x264")).path, 0.5).astype(int)
    h, w = frame.shape[:2]
    centre = frame[h // 2 - 5:h // 2 + 5, w // 2 - 5:w // 2 + 5].mean(axis=(0, 1))
    assert centre[0] > 180 and centre[1] < 80 and centre[2] < 80  # the product, red
    if fit == "cover":
        corner = frame[h // 2 - 5:h // 2 + 5, 10:20].mean()  # beside the product, inside the picture
        assert corner > 235  # white, as its thumbnail shows it, not the black stored under the transparency
    else:
        beside = frame[h // 2 - 5:h // 2 + 5, w // 2 - 100:w // 2 - 90].mean()  # inside the contained picture, beside the product
        assert beside > 235
