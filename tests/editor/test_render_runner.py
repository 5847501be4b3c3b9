"""Runner behaviour: progress, cancel, errors, encoder choice, work shared between cuts, ffmpeg builds."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from media_assets import inspector
from media_assets.probe import render_facts
from media_assets.render import RenderCanceled, RenderError, render, render_all, runner
from media_assets.render.graph import AudioGain, build_audio_measure_command, build_master_measure_command
from media_assets.render.runner import nvenc_available, resolve_encoder
from media_assets.render.spec import TARGET_LUFS, Clip, Composition, Encoding, Music, SourceInfo, Transition, Voiceover

from .conftest import TALL, WIDE, ffmpeg, hdr_patches, probe


def test_it_reports_progress_up_to_100(media, tmp_path) -> None:
    seen: list[float] = []
    comp = Composition(clips=(Clip(media["long.mp4"], duration=3.0),))
    render(comp, TALL, tmp_path / "p.mp4", encoding=Encoding(encoder="x264"), progress=lambda p, m: seen.append(p))
    assert seen == sorted(seen) and seen[-1] == 100.0 and len(seen) >= 3


def test_it_leaves_no_partial_file_when_canceled(media, tmp_path) -> None:
    state = {"percent": 0.0}
    comp = Composition(clips=(Clip(media["long.mp4"], duration=20.0),))
    out = tmp_path / "canceled.mp4"
    with pytest.raises(RenderCanceled):
        render(comp, TALL, out, encoding=Encoding(encoder="x264", preset="medium"),
               progress=lambda p, m: state.update(percent=p), should_cancel=lambda: state["percent"] > 8)
    assert 8 < state["percent"] < 100  # it really was mid-render
    assert list(tmp_path.iterdir()) == []


def test_it_returns_as_soon_as_ffmpeg_ends_not_at_its_next_check_for_cancel(monkeypatch) -> None:
    # A command that writes ffmpeg's last progress report and exits. With the checks for cancel an
    # hour apart, the render still returns at once: the end of ffmpeg's output ends the wait (it
    # used to wait for the next check, a quarter of a second on every cut).
    monkeypatch.setattr(runner, "POLL_SECONDS", 3600)
    report = "print('frame=30'); print('out_time_us=1000000'); print('progress=end')"
    last: dict[str, str] = {}
    worker = threading.Thread(daemon=True, target=lambda: last.update(
        runner.run_ffmpeg([sys.executable, "-c", report], total=1.0, timeout=60)))
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "still waiting after the command ended"
    assert last == {"frame": "30", "out_time_us": "1000000", "progress": "end"}


def test_it_raises_with_ffmpeg_stderr_on_failure(media, tmp_path) -> None:
    bogus = tmp_path / "not-a-video.mp4"
    bogus.write_bytes(b"this is not media")
    with pytest.raises(RenderError) as info:
        render(Composition(clips=(Clip(bogus, duration=1.0),)), TALL, tmp_path / "x.mp4",
               encoding=Encoding(encoder="x264"))
    assert "Invalid data" in info.value.stderr_tail
    assert not (tmp_path / "x.mp4").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["not-a-video.mp4"]


def test_it_uses_nvenc_only_when_a_test_encode_works() -> None:
    assert resolve_encoder(Encoding(encoder="x264")) == "x264"
    expected = "nvenc" if nvenc_available() else "x264"
    assert resolve_encoder(Encoding(encoder="auto")) == expected
    assert resolve_encoder(Encoding(encoder="nvenc")) == expected


def test_it_probes_and_measures_loudness_once_for_every_cut(media, tmp_path, monkeypatch) -> None:
    calls = {"measure": 0, "probe": 0}
    measure, probe = runner.measure_loudness, runner.probe_source

    def counting_measure(*args, **kwargs):
        calls["measure"] += 1
        return measure(*args, **kwargs)

    def counting_probe(*args, **kwargs):
        calls["probe"] += 1
        return probe(*args, **kwargs)

    monkeypatch.setattr(runner, "measure_loudness", counting_measure)
    monkeypatch.setattr(runner, "probe_source", counting_probe)
    comp = Composition(clips=(Clip(media["bars.mp4"], duration=1.0), Clip(media["testsrc.mp4"], duration=1.0)),
                       voiceover=Voiceover(media["voice.wav"]))
    runner.prepare(comp)
    once = dict(calls)  # what working out one composition's shared part takes
    calls.update(measure=0, probe=0)
    results = render_all(comp, [TALL, WIDE], tmp_path, encoding=Encoding(encoder="x264"))
    assert set(results) == {"tall", "wide"}
    assert calls == once and once["probe"] == 2 and once["measure"] >= 1  # per source and per mix, not per cut
    assert all(r.loudness_gain_db == results["tall"].loudness_gain_db for r in results.values())


def test_a_limited_pass_over_the_kept_mix_gives_the_samples_of_mixing_the_sources_again(media, tmp_path) -> None:
    # The loudness passes after the first measure the mix kept by the first instead of decoding and
    # mixing every source again; that is only right if the samples are the same to the bit.
    comp = Composition(clips=(Clip(media["long.mp4"], duration=3.0),), voiceover=Voiceover(media["speech.wav"]),
                       music=Music(media["music.wav"], level_db=-6))
    mix = tmp_path / "mix.f32"
    first = runner.measure_loudness(comp, ffmpeg=runner.default_ffmpeg(), mix_out=mix)
    assert first == runner.measure_loudness(comp, ffmpeg=runner.default_ffmpeg())
    gain = AudioGain(gain_db=TARGET_LUFS - first.integrated + 3.0)  # pushed into the limiter
    samples = []
    for cmd in (build_audio_measure_command(composition=comp, gain=gain, ffmpeg=runner.default_ffmpeg()),
                build_master_measure_command(mix, gain, ffmpeg=runner.default_ffmpeg())):
        out = tmp_path / f"{len(samples)}.f32"
        subprocess.run([*cmd[:-3], "-c:a", "pcm_f32le", "-f", "f32le", str(out)], check=True, capture_output=True)
        samples.append(out.read_bytes())
    assert len(samples[0]) == 3.0 * 48000 * 2 * 4 and samples[0] == samples[1]
    assert runner.measure_master(mix, gain, ffmpeg=runner.default_ffmpeg()) == \
        runner.measure_loudness(comp, gain=gain, ffmpeg=runner.default_ffmpeg())


def test_the_facts_kept_when_a_file_is_stored_are_what_the_render_would_probe(media, tmp_path) -> None:
    # The upload's inspector (PyAV, in its child) and the render's probe (ffprobe) must agree, or a
    # render from kept facts would lay a clip out differently: sizes turned and made square, tags.
    stored, turned = tmp_path / "stored.mp4", tmp_path / "turned.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=240x180:r=30:d=1,setsar=4/3", "-c:v", "libx264", "-preset", "ultrafast",
           "-pix_fmt", "yuv420p", "-colorspace", "bt709", "-color_range", "tv", str(stored))
    subprocess.run([runner.default_ffmpeg(), "-v", "error", "-nostdin", "-y", "-display_rotation", "90",
                    "-i", str(stored), "-c", "copy", str(turned)], check=True, capture_output=True, timeout=60)
    for path in (media["bars.mp4"], media["testsrc.mp4"], turned, hdr_patches(tmp_path / "hlg.mp4", "arib-std-b67")):
        info, _ = inspector.inspect_media(path)
        assert SourceInfo(**render_facts(info)) == runner.probe_source(path), path.name


def test_it_does_not_probe_a_source_whose_facts_come_with_its_clip(media, tmp_path, monkeypatch) -> None:
    probed: list[str] = []
    probe = runner.probe_source
    monkeypatch.setattr(runner, "probe_source", lambda path, **kw: probed.append(str(path)) or probe(path, **kw))
    known = Clip(media["bars.mp4"], duration=1.0, source=runner.probe_source(media["bars.mp4"]))
    probed.clear()
    comp = Composition(clips=(known, Clip(media["testsrc.mp4"], duration=1.0)))
    assert runner.prepare(comp).sources == (known.source, probe(media["testsrc.mp4"]))
    assert probed == [str(media["testsrc.mp4"])]


def test_it_renders_with_the_system_ffmpeg_as_well(media, tmp_path) -> None:
    """Without the imageio-ffmpeg build (or with RENDER_FFMPEG=ffmpeg) Debian's ffmpeg renders the same graph."""
    comp = Composition(clips=(Clip(media["bars.mp4"], duration=1.0), Clip(media["testsrc.mp4"], duration=1.0),
                              Clip(media["photo.png"], kind="image", duration=1.0)),
                       transitions=(Transition("wipe", 0.3), Transition("dip_to_black", 0.3)),
                       voiceover=Voiceover(media["voice.wav"]))
    result = render(comp, TALL, tmp_path / "system.mp4", encoding=Encoding(encoder="x264"), ffmpeg="ffmpeg")
    video = next(s for s in probe(result.path)["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"], video["pix_fmt"]) == (TALL.width, TALL.height, "yuv420p")
    assert video["color_primaries"] == video["color_transfer"] == video["color_space"] == "bt709"
    assert int(video["nb_frames"]) == round(comp.duration * 30)


def test_asked_for_nvenc_that_cannot_encode_it_renders_with_x264_and_logs_why(tmp_path, caplog) -> None:
    # An ffmpeg that lists h264_nvenc but whose test encode fails, as on a GPU without an NVENC
    # engine or with a driver older than the build's NVENC API.
    fake = tmp_path / "ffmpeg"
    fake.write_text("#!/bin/sh\n"
                    "case \"$*\" in *-encoders*) echo ' V....D h264_nvenc NVIDIA NVENC H.264 encoder'; exit 0;; esac\n"
                    "echo '[h264_nvenc @ 0x1] Driver does not support the required nvenc API version.' >&2\n"
                    "echo '[vost#0:0/h264_nvenc @ 0x2] Error while opening encoder' >&2\n"
                    "exit 218\n")
    fake.chmod(0o755)
    assert runner.nvenc_problem(str(fake)) == "Driver does not support the required nvenc API version."
    assert not nvenc_available(str(fake))
    with caplog.at_level("WARNING", logger="media_assets.render.runner"):
        assert resolve_encoder(Encoding(encoder="auto"), ffmpeg=str(fake)) == "x264"
        assert not caplog.records  # auto falls back quietly
        assert resolve_encoder(Encoding(encoder="nvenc"), ffmpeg=str(fake)) == "x264"
    assert "cannot encode here (Driver does not support the required nvenc API version.)" in caplog.text
