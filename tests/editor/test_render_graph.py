"""Pure tests of the command builder: no ffmpeg run."""

from __future__ import annotations

import math
import re

import pytest

from media_assets.render.graph import (
    BT709_FRAMES,
    SQUARE_PIXELS,
    AudioGain,
    build_audio_measure_command,
    build_command,
    build_master_measure_command,
    escape_filter_value,
    frame_plan,
    is_output_ready,
    master_filters,
)
from media_assets.probe import square_pixel_size
from media_assets.render.presets import PRESETS
from media_assets.render.spec import (
    Captions,
    Clip,
    Composition,
    Cue,
    Encoding,
    EndCard,
    Music,
    SourceInfo,
    SpecError,
    Transition,
    Voiceover,
    Word,
)

from .conftest import TALL


def _comp(**extra) -> Composition:
    return Composition(
        clips=(Clip("a.mp4", in_point=1.0, out_point=3.0), Clip("b.mp4", duration=2.0),
               Clip("c.png", kind="image", duration=1.5)),
        transitions=(Transition("crossfade", 0.5), Transition("wipe", 0.4, "right")),
        **extra,
    )


def _graph(cmd: list[str]) -> str:
    return cmd[cmd.index("-filter_complex") + 1]


def test_it_computes_duration_as_clips_minus_overlaps() -> None:
    comp = _comp(end_card=EndCard("Buy", duration=2.0, transition=Transition("dip_to_black", 0.5)))
    assert comp.main_duration == pytest.approx(2 + 2 + 1.5 - 0.5 - 0.4)
    assert comp.duration == pytest.approx(4.6 + 2.0 - 0.5)
    assert comp.clip_starts() == pytest.approx([0.0, 1.5, 3.1])


def test_it_crossfades_only_the_overlapping_frames_and_concatenates_the_rest() -> None:
    graph = _graph(build_command(composition=_comp(), preset=TALL, out_path="o.mp4", encoding=Encoding()))
    # clip 0: 60 frames = body 0-45 + tail 45-60 (0.5 s); clip 1: head 15, body, tail 12 (0.4 s)
    assert "[tv0pre]trim=start_frame=45:end_frame=60" in graph
    assert "[hv1pre]trim=start_frame=0:end_frame=15" in graph
    assert "[tv1pre]trim=start_frame=48:end_frame=60" in graph
    # Crossfades and wipes blend plane by plane in yuv420p.
    assert "[tv0]format=yuv420p,extractplanes=y+u+v[xv1ty][xv1tu][xv1tv]" in graph
    assert "[xv1tu][xv1hu]xfade=transition=fade:duration=0.5:offset=0[xv1u]" in graph
    assert "[xv1y][xv1u][xv1v]mergeplanes=0x001020:yuv420p" in graph
    assert "[xv2tv][xv2hv]xfade=transition=wiperight:duration=0.4:offset=0[xv2v]" in graph
    assert "[bv0][xv1][bv1][xv2][bv2]concat=n=5:v=1:a=0" in graph


def test_it_opens_each_source_once_with_input_seeking() -> None:
    cmd = build_command(composition=_comp(), preset=TALL, out_path="o.mp4", encoding=Encoding())
    inputs = [cmd[i + 1] for i, a in enumerate(cmd) if a == "-i"]
    assert inputs == ["a.mp4", "b.mp4", "c.png"]
    first = cmd.index("a.mp4")
    assert cmd[first - 7:first - 3] == ["-ss", "1", "-t", "2.1"]
    assert cmd.count("-filter_complex") == 1


def test_it_encodes_h264_high_bt709_aac_faststart() -> None:
    cmd = build_command(composition=_comp(), preset=TALL, out_path="o.mp4", encoding=Encoding(crf=23, preset="faster"))
    joined = " ".join(cmd)
    for flag in ("-c:v libx264", "-profile:v high", "-crf 23", "-preset faster", "-pix_fmt yuv420p",
                 "-colorspace bt709", "-color_primaries bt709", "-color_trc bt709", "-c:a aac", "-ar 48000",
                 "-ac 2", "-movflags +faststart", "-progress pipe:1"):
        assert flag in joined
    assert "out_color_matrix=bt709" in _graph(cmd)


def test_it_uses_nvenc_arguments_only_when_resolved() -> None:
    cmd = build_command(composition=_comp(), preset=TALL, out_path="o.mp4", encoding=Encoding(), encoder="nvenc")
    assert cmd[cmd.index("-c:v") + 1] == "h264_nvenc"


def test_it_ducks_music_with_the_voice_as_sidechain_key() -> None:
    comp = _comp(voiceover=Voiceover("vo.wav", start=0.5), music=Music("m.wav", level_db=-10))
    cmd = build_command(composition=comp, preset=TALL, out_path="o.mp4", encoding=Encoding(),
                        gain=AudioGain(gain_db=3.0))
    graph = _graph(cmd)
    assert re.search(r"\[mus\]\[vokey\]sidechaincompress", graph)
    assert "adelay=delays=500:all=1" in graph
    assert "volume=3dB,alimiter" in graph
    assert cmd[cmd.index("m.wav") - 5:cmd.index("m.wav") - 3] == ["-stream_loop", "-1"]


def test_it_measures_audio_without_decoding_video() -> None:
    comp = _comp(voiceover=Voiceover("vo.wav"), music=Music("m.wav"))
    cmd = build_audio_measure_command(composition=comp)
    assert [cmd[i + 1] for i, a in enumerate(cmd) if a == "-i"] == ["vo.wav", "m.wav"]
    assert "ebur128=peak=true" in _graph(cmd) and ":v]" not in _graph(cmd)
    assert cmd[-3:] == ["-f", "null", "-"]


def test_the_first_loudness_pass_keeps_its_mix_and_later_passes_apply_the_renders_gain_and_limiter_to_it() -> None:
    comp = _comp(voiceover=Voiceover("vo.wav"), music=Music("m.wav"))
    first = build_audio_measure_command(composition=comp, mix_out="mix.f32")
    assert first[-7:] == ["-vn", "-c:a", "pcm_f32le", "-f", "f32le", "-y", "mix.f32"]
    gain = AudioGain(gain_db=4.5)
    later = build_master_measure_command("mix.f32", gain)
    assert [later[i + 1] for i, a in enumerate(later) if a == "-i"] == ["mix.f32"]  # no source decoded again
    master = master_filters(gain)
    assert master.startswith("volume=4.5dB,alimiter=") and master in later[later.index("-af") + 1]
    rendered = _graph(build_command(composition=comp, preset=TALL, out_path="o.mp4", encoding=Encoding(), gain=gain))
    assert re.search(r"\[amix\]apad=whole_dur=[\d.]+,atrim=duration=[\d.]+," + re.escape(master) + ",", rendered)
    with pytest.raises(SpecError):
        build_audio_measure_command(composition=comp, gain=gain, mix_out="mix.f32")


def test_it_mutes_clip_audio_under_a_voiceover_by_default() -> None:
    with_vo = _comp(voiceover=Voiceover("vo.wav"))
    assert "[0:a]" not in _graph(build_command(composition=with_vo, preset=TALL, out_path="o.mp4",
                                               encoding=Encoding(), sources=[SourceInfo(320, 240, True), SourceInfo(320, 240, True), None]))
    without = _comp()
    assert "[0:a]" in _graph(build_command(composition=without, preset=TALL, out_path="o.mp4",
                                           encoding=Encoding(), sources=[SourceInfo(320, 240, True), SourceInfo(320, 240, False), None]))


def test_it_refuses_captions_without_a_script_and_bad_timelines() -> None:
    comp = _comp(captions=Captions(cues=(Cue((Word("hi", 0, 1),)),)))
    with pytest.raises(SpecError):
        build_command(composition=comp, preset=TALL, out_path="o.mp4", encoding=Encoding())
    short = Composition(clips=(Clip("a.mp4", duration=0.3), Clip("b.mp4", duration=1)),
                        transitions=(Transition("crossfade", 0.5),))
    with pytest.raises(SpecError):
        short.validate()


def test_it_escapes_paths_for_the_filter_graph() -> None:
    assert escape_filter_value("/tmp/a:b's,[x].ass") == "/tmp/a\\\\:b\\\\\\'s\\,\\[x\\].ass"


def test_it_converts_to_bt709_from_the_source_matrix_or_the_hd_convention() -> None:
    sources = [SourceInfo(320, 240, color_space=None), SourceInfo(1920, 1080, color_space=None), None]
    graph = _graph(build_command(composition=_comp(), preset=TALL, out_path="o.mp4", encoding=Encoding(),
                                 sources=sources))
    assert "[0:v]fps=30,tpad=" in graph and "settb=AVTB,crop" in graph
    chains = graph.split(";")
    assert "in_color_matrix=bt601" in next(c for c in chains if c.startswith("[0:v]"))
    assert "in_color_matrix=bt709" in next(c for c in chains if c.startswith("[c1in]split") or "[1:v]" in c)
    tagged = [SourceInfo(640, 480, color_space="bt709"), SourceInfo(1920, 1080, color_space="smpte170m"), None]
    graph = _graph(build_command(composition=_comp(), preset=TALL, out_path="o.mp4", encoding=Encoding(),
                                 sources=tagged))
    assert "in_color_matrix=bt709" in graph and "in_color_matrix=smpte170m" in graph


def test_it_rounds_clip_frames_on_the_timeline_so_the_cut_keeps_its_length() -> None:
    # Six clips of 5.4167 s joined by 0.5 s crossfades: 30 s. Rounding each clip alone gave 162
    # frames per clip and 897 in all; rounded on the timeline the cut has exactly 900 frames.
    each = (30 + 5 * 0.5) / 6
    comp = Composition(clips=tuple(Clip(f"{i}.mp4", duration=each) for i in range(6)),
                       transitions=(Transition("crossfade", 0.5),) * 5)
    plan = frame_plan(comp, 30)
    assert plan.main == 900 == round(comp.duration * 30)
    starts = comp.clip_starts()
    first_frames = [sum(plan.clips[:i]) - sum(plan.overlaps[:i]) for i in range(6)]
    assert all(abs(f / 30 - t) <= 0.5 / 30 + 1e-9 for f, t in zip(first_frames, starts))  # no drift from the audio
    card = Composition(clips=comp.clips[:2], transitions=comp.transitions[:1],
                       end_card=EndCard("Buy", duration=1.7, transition=Transition("crossfade", 0.35)))
    card_plan = frame_plan(card, 30)
    assert card_plan.main + card_plan.card - card_plan.card_overlap == math.floor(card.duration * 30 + 0.5)


def test_it_dips_to_black_by_halves_zooms_by_scaling_and_blends_the_rest_plane_by_plane() -> None:
    comp = Composition(clips=tuple(Clip(f"{n}.mp4", duration=2) for n in "abcd"),
                       transitions=(Transition("dip_to_black", 0.5), Transition("slide", 0.5), Transition("zoom", 0.5)))
    graph = _graph(build_command(composition=comp, preset=TALL, out_path="o.mp4", encoding=Encoding()))
    # 15 overlapping frames: 7 of the outgoing clip fading out, then 8 of the incoming one fading in.
    assert "[tv0]trim=end_frame=7,fade=t=out:nb_frames=7[xv1o]" in graph
    assert "[hv1]trim=start_frame=7,setpts=PTS-STARTPTS,fade=t=in:nb_frames=8[xv1i]" in graph
    assert "[xv1o][xv1i]concat=n=2:v=1:a=0[xv1]" in graph
    assert "xfade" not in graph.split("[xv1]")[0] and "extractplanes" not in graph.split("[xv1]")[0]
    assert "[xv2ty][xv2hy]xfade=transition=slideleft" in graph and "mergeplanes=0x001020:yuv420p" in graph
    zoom = graph.split(";[tv2]")[1].split(";")[0]
    assert zoom.startswith("scale=w='trunc(320*(1+n/15)/2)*2'") and "eval=frame" in zoom and "crop=320:568" in zoom
    assert "[xv3tu][xv3hu]xfade=transition=fade:duration=0.5:offset=0[xv3u]" in graph


def test_it_stacks_a_contained_source_between_blurred_bands() -> None:
    comp = Composition(clips=(Clip("wide.mp4", duration=1, fit="contain_blur"),))
    wide = SourceInfo(1920, 1080, pix_fmt="yuv420p")
    graph = _graph(build_command(composition=comp, preset=PRESETS["tiktok"], out_path="o.mp4", encoding=Encoding(),
                                 sources=[wide]))
    assert "scale=1080:608:flags=bicubic" in graph  # the whole picture across the width
    assert "scale=1080:656:flags=fast_bilinear" in graph  # each band: only its own pixels scaled up
    assert "[c0b0][c0pic][c0b1]vstack=inputs=3" in graph and "overlay" not in graph
    tall = SourceInfo(720, 1280, pix_fmt="yuv420p")
    graph = _graph(build_command(composition=comp, preset=PRESETS["youtube"], out_path="o.mp4", encoding=Encoding(),
                                 sources=[tall]))
    assert "scale=608:1080:flags=bicubic" in graph and "[c0b0][c0pic][c0b1]hstack=inputs=3" in graph


def test_it_does_not_convert_a_source_already_in_the_output_format() -> None:
    comp = Composition(clips=(Clip("v.mp4", duration=1),))
    ready = SourceInfo(1080, 1920, pix_fmt="yuv420p", color_space="bt709")
    graph = _graph(build_command(composition=comp, preset=PRESETS["tiktok"], out_path="o.mp4", encoding=Encoding(),
                                 sources=[ready]))
    assert graph.startswith("[0:v]fps=30,tpad=") and f"settb=AVTB,setsar=1,{BT709_FRAMES}[" in graph
    assert "scale=" not in graph
    for other in (SourceInfo(1080, 1920, pix_fmt="yuv420p", color_space="smpte170m"),
                  SourceInfo(1080, 1920, pix_fmt="yuvj420p"), SourceInfo(1080, 1920, pix_fmt="yuv420p", color_range="pc")):
        graph = _graph(build_command(composition=comp, preset=PRESETS["tiktok"], out_path="o.mp4",
                                     encoding=Encoding(), sources=[other]))
        assert "scale=1080:1920" in graph


def test_it_fits_videos_with_zimg_when_asked_and_keeps_swscale_where_zimg_cannot_tell_the_matrix() -> None:
    comp = Composition(clips=(Clip("sd.mp4", duration=1), Clip("wide.mp4", duration=1, fit="contain_blur"),
                              Clip("unknown.mp4", duration=1), Clip("p.png", kind="image", duration=1)))
    sources = [SourceInfo(640, 360), SourceInfo(1920, 1080, color_space="bt709"), None, None]
    graph = _graph(build_command(composition=comp, preset=PRESETS["tiktok"], out_path="o.mp4", encoding=Encoding(),
                                 sources=sources, zimg=True))
    chains = graph.split(";")
    sd = next(c for c in chains if c.startswith("[0:v]"))
    assert "zscale=w=1080:h=1920:filter=bicubic:matrixin=smpte170m:matrix=bt709:range=limited,format=yuv420p" in sd
    assert "[c1fg]zscale=w=1080:h=608:filter=bicubic:matrixin=bt709" in graph  # the contained picture
    assert "zscale=w=134:h=240:filter=bilinear:matrixin=bt709" in graph  # and its blurred fill, made small
    assert "in_color_matrix=auto" in next(c for c in chains if c.startswith("[2:v]"))  # nothing known: swscale
    assert "zscale" not in next(c for c in chains if c.startswith("[3:v]"))  # a still is fitted once


def test_it_tone_maps_hdr_sources_to_sdr_in_the_picture_and_the_blurred_fill() -> None:
    comp = Composition(clips=(Clip("hlg.mp4", duration=1), Clip("pq.mp4", duration=1, fit="contain_blur"),
                              Clip("sdr.mp4", duration=1)))
    hlg = SourceInfo(1920, 1080, pix_fmt="yuv420p10le", color_space="bt2020nc", transfer="arib-std-b67",
                     primaries="bt2020")
    pq = SourceInfo(1920, 1080, pix_fmt="yuv420p10le", transfer="smpte2084")  # untagged matrix: BT.2020's
    ready_but_hdr = SourceInfo(1080, 1920, pix_fmt="yuv420p", color_space="bt709", transfer="arib-std-b67")
    assert not is_output_ready(ready_but_hdr, PRESETS["tiktok"])
    graph = _graph(build_command(composition=comp, preset=PRESETS["tiktok"], out_path="o.mp4", encoding=Encoding(),
                                 sources=[hlg, pq, SourceInfo(1920, 1080, color_space="bt709")], zimg=True))
    chains = graph.split(";")
    first = next(c for c in chains if c.startswith("[0:v]"))
    assert ("zscale=w=1080:h=1920:filter=bicubic:matrixin=bt2020nc:transferin=arib-std-b67:primariesin=bt2020"
            ":transfer=linear:npl=203") in first
    assert "tonemap=mobius:param=0.7:desat=0:peak=4.926" in first and first.count("zscale=") == 3
    fill, picture = (next(c for c in chains if c.startswith(f"[c1{x}]")) for x in ("bg", "fg"))
    assert "transferin=smpte2084" in fill and "w=134:h=240:filter=bilinear" in fill and "tonemap" in fill
    assert "transferin=smpte2084" in picture and "w=1080:h=608" in picture
    assert "matrixin=bt2020nc:transferin=smpte2084:primariesin=bt2020" in picture
    assert "tonemap" not in next(c for c in chains if c.startswith("[2:v]"))


def test_it_makes_pixels_square_only_for_sources_whose_pixels_are_not() -> None:
    comp = Composition(clips=(Clip("dv.mp4", duration=1), Clip("square.mp4", duration=1, fit="contain_blur")))
    sources = [SourceInfo(852, 480, sar=32 / 27), SourceInfo(1920, 1080, color_space="bt709")]
    chains = _graph(build_command(composition=comp, preset=PRESETS["tiktok"], out_path="o.mp4", encoding=Encoding(),
                                  sources=sources)).split(";")
    assert next(c for c in chains if c.startswith("[0:v]")).startswith(f"[0:v]fps=30,{SQUARE_PIXELS},")
    assert "sar" not in next(c for c in chains if c.startswith("[1:v]"))


@pytest.mark.parametrize(("size", "sar", "square"), [
    ((720, 480), 32 / 27, (852, 480)),  # wide pixels widen the picture
    ((720, 480), 8 / 9, (720, 540)),  # tall ones heighten it: no stored sample is dropped
    ((480, 720), 27 / 32, (480, 852)),  # a turned video's pixel aspect turns with it
])
def test_it_stretches_non_square_pixels_to_square_ones_never_squeezing(size, sar, square) -> None:
    assert square_pixel_size(*size, sar) == square


def test_each_video_is_timed_and_trimmed_to_its_frames_before_any_pixel_work() -> None:
    """Frames past a clip's end are dropped before they are fitted, and the fit is the last filter of
    the clip's chain that makes new frames (a frame still held by fps or tpad would be copied whole by
    whatever draws on it later)."""
    comp = Composition(clips=(Clip("wide.mp4", duration=2), Clip("wide.mp4", duration=2, fit="contain_blur")),
                       transitions=(Transition("cut", 0),))
    wide = SourceInfo(1920, 1080, pix_fmt="yuv420p")
    chains = _graph(build_command(composition=comp, preset=PRESETS["tiktok"], out_path="o.mp4", encoding=Encoding(),
                                  sources=[wide, wide], zimg=True)).split(";")
    cover = next(c for c in chains if c.startswith("[0:v]"))
    assert cover.index("trim=end_frame=60") < cover.index("crop=") < cover.index("zscale=")
    assert cover.count("fps=") == 1 and cover.endswith("format=yuv420p,setsar=1[v0]")
    contained = next(c for c in chains if c.startswith("[1:v]"))
    assert contained.endswith("trim=end_frame=60,setpts=PTS-STARTPTS,settb=AVTB[c1in]")
    assert any(c.startswith("[c1in]split=2") for c in chains)
