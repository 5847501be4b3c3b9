"""The rendered file: duration, size, codec, colour tags, audio format, faststart, loudness."""

from __future__ import annotations

from pathlib import Path

import pytest

from media_assets.render import PRESETS, RenderResult, render
from media_assets.render.spec import Clip, Composition, Encoding, EndCard, Music, Transition, Voiceover, Watermark

from .conftest import TALL, WIDE, loudness, probe


@pytest.fixture(scope="module")
def full_render(media, tmp_path_factory) -> tuple[Composition, Path, RenderResult]:
    comp = Composition(
        clips=(Clip(media["bars.mp4"], duration=1.6), Clip(media["testsrc.mp4"], in_point=0.5, out_point=2.0),
               Clip(media["photo.png"], kind="image", duration=1.2, motion="drift")),
        transitions=(Transition("crossfade", 0.4), Transition("slide", 0.3)),
        voiceover=Voiceover(media["speech.wav"], start=0.2), music=Music(media["music.wav"], level_db=-6),
        watermark=Watermark(media["logo.png"]), end_card=EndCard("Shop now", duration=1.0),
    )
    out = tmp_path_factory.mktemp("full") / "full.mp4"
    result = render(comp, TALL, out, encoding=Encoding(encoder="x264"))
    return comp, out, result


def test_it_lasts_the_sum_of_clips_minus_overlaps(full_render) -> None:
    comp, out, result = full_render
    expected = 1.6 + 1.5 + 1.2 - 0.4 - 0.3 + 1.0 - 0.5
    assert comp.duration == pytest.approx(expected)
    info = probe(out)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    assert abs(float(video["duration"]) - expected) <= 1 / 30 + 1e-6
    assert int(video["nb_frames"]) == round(expected * 30)
    # The result's length is ffmpeg's own final report, not a second probe: it agrees with the file.
    assert abs(result.duration - float(info["format"]["duration"])) <= 1 / 30
    assert (result.width, result.height) == (int(video["width"]), int(video["height"]))


def test_it_writes_h264_high_yuv420p_bt709_and_aac_48k(full_render) -> None:
    _, out, _ = full_render
    streams = {s["codec_type"]: s for s in probe(out)["streams"]}
    video, audio = streams["video"], streams["audio"]
    assert (video["width"], video["height"]) == (TALL.width, TALL.height)
    assert video["codec_name"] == "h264" and video["profile"] == "High"
    assert video["pix_fmt"] == "yuv420p"
    assert (video["color_space"], video["color_primaries"], video["color_transfer"]) == ("bt709",) * 3
    assert video["r_frame_rate"] == "30/1"
    assert audio["codec_name"] == "aac" and audio["sample_rate"] == "48000" and audio["channels"] == 2


def test_it_puts_the_moov_atom_first(full_render) -> None:
    _, out, _ = full_render
    data = out.read_bytes()
    assert 0 <= data.find(b"moov") < data.find(b"mdat")


def test_it_normalises_loudness_to_minus_14_lufs_under_minus_1_dbtp(full_render) -> None:
    _, out, _ = full_render
    integrated, peak = loudness(out)
    assert abs(integrated - (-14.0)) <= 1.0
    assert peak <= -1.0


def test_a_mix_the_limiter_works_hard_on_still_lands_on_minus_14_lufs(media, tmp_path) -> None:
    # Speech with loud peaks over itself as the bed: most of the gain to -14 LUFS pushes the peaks
    # into the limiter, which takes more loudness away the harder it is pushed. One correction
    # landed 0.9 LU short; the gain is corrected until the limited mix lands.
    comp = Composition(clips=(Clip(media["long.mp4"], duration=8.0),),
                       voiceover=Voiceover(media["speech.wav"]), music=Music(media["speech.wav"], level_db=-8))
    integrated, peak = loudness(render(comp, WIDE, tmp_path / "loud.mp4", encoding=Encoding(encoder="x264")).path)
    assert abs(integrated - (-14.0)) <= 0.3 and peak <= -1.0, (integrated, peak)


def test_it_renders_a_real_vertical_preset(media, tmp_path) -> None:
    comp = Composition(clips=(Clip(media["testsrc.mp4"], duration=0.5),), music=Music(media["music.wav"]))
    result = render(comp, PRESETS["tiktok"], tmp_path / "tiktok.mp4", encoding=Encoding(encoder="x264"))
    assert (result.width, result.height) == (1080, 1920)
    video = next(s for s in probe(result.path)["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"], video["profile"]) == (1080, 1920, "High")
