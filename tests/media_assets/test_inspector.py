"""The media inspector: a long-lived child that probes and decode-checks files for the validator."""

from __future__ import annotations

import dataclasses
import os
import subprocess
from pathlib import Path

import pytest

from media_assets import inspector
from media_assets.probe import ProbeError, probe_media
from tests.media_assets import hostile


def _child_pid() -> int:
    child = inspector._child()
    return child.proc.pid


def test_it_reports_what_ffprobe_reports_for_video_and_audio(mp4_file: Path, mp3_file: Path) -> None:
    for path in (mp4_file, mp3_file):
        info, decode_error = inspector.inspect_media(path)
        expected = probe_media(path)
        assert decode_error is None
        # The inspector's FFmpeg (PyAV's) may be newer than Debian's ffprobe: an MP3's encoder
        # padding can make the durations differ by a frame.
        assert info.duration == pytest.approx(expected.duration, abs=0.06)
        assert dataclasses.replace(info, duration=None, bitrate=None) == dataclasses.replace(expected, duration=None, bitrate=None)


def test_it_reads_a_phone_videos_rotation_like_ffprobe(mp4_file: Path, tmp_path: Path) -> None:
    rotated = tmp_path / "portrait.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(mp4_file), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(rotated)],
                   check=True, timeout=60)
    info, _ = inspector.inspect_media(rotated)
    assert info.rotation == probe_media(rotated).rotation != 0
    assert info.display_size == (info.height, info.width)


@pytest.mark.parametrize(("rotation", "shown"), [(0, (212, 120)), (90, (120, 212))])
def test_it_shows_non_square_pixels_at_their_display_size(tmp_path: Path, rotation: int, shown) -> None:
    # 160x120 stored at a 4:3 pixel aspect (as HDV and DV footage is): shown 212 wide, or 212 tall
    # once turned (ffmpeg turns the pixel aspect with the picture, as the render does).
    from media_assets.render.runner import default_ffmpeg

    stored, video = tmp_path / "stored.mp4", tmp_path / "anamorphic.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=160x120:r=25:d=1,setsar=4/3",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(stored)], check=True, timeout=60)
    subprocess.run([default_ffmpeg(), "-v", "error", "-y", "-display_rotation", str(rotation), "-i", str(stored),
                    "-c", "copy", str(video)], check=True, timeout=60)
    info, decode_error = inspector.inspect_media(video)
    assert decode_error is None and info.sample_aspect_ratio == "4:3"
    assert dataclasses.replace(info, duration=None, bitrate=None) == dataclasses.replace(
        probe_media(video), duration=None, bitrate=None)
    assert info.display_size == shown


def test_it_finds_a_faststart_file_cut_short_by_its_tail(long_mp4_file: Path, tmp_path: Path) -> None:
    cut = hostile.truncate(long_mp4_file, tmp_path / "cut.mp4", keep=0.5)
    info, decode_error = inspector.inspect_media(cut)
    assert info.duration == pytest.approx(4.0, abs=0.2)  # the header still claims the whole length
    assert decode_error and "end" in decode_error


def test_it_refuses_text_before_starting_a_decoder(tmp_path: Path) -> None:
    playlist = tmp_path / "clip.mp4"
    playlist.write_text("#EXTM3U\n#EXTINF:1,\nhttp://169.254.169.254/latest\n")
    with pytest.raises(ProbeError) as exc:
        inspector.inspect_media(playlist)
    assert exc.value.reason_code == "unknown_format"


def test_its_child_gets_no_secrets_from_the_environment(mp4_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVIDER_API_KEY_FOR_TEST", "sk-very-secret")
    inspector._drop_child()
    inspector.inspect_media(mp4_file)
    environ = Path(f"/proc/{_child_pid()}/environ").read_bytes()
    assert b"sk-very-secret" not in environ
    assert b"DATABASE_URL" not in environ


def test_a_dead_child_fails_one_file_and_the_next_file_gets_a_new_child(mp4_file: Path) -> None:
    inspector.inspect_media(mp4_file)
    first = _child_pid()
    os.kill(first, 9)
    with pytest.raises(ProbeError) as exc:
        inspector.inspect_media(mp4_file)
    assert exc.value.reason_code == "unreadable"
    info, decode_error = inspector.inspect_media(mp4_file)
    assert decode_error is None and info.width
    assert _child_pid() != first


def test_a_child_that_overruns_the_timeout_is_killed(mp4_file: Path) -> None:
    inspector.inspect_media(mp4_file)
    child = inspector._child()
    os.kill(child.proc.pid, 19)  # SIGSTOP: the child hangs like a decoder stuck in a loop
    try:
        with pytest.raises(ProbeError) as exc:
            inspector.inspect_media(mp4_file, timeout=0.5)
        assert exc.value.reason_code == "timeout"
        assert child.proc.poll() is not None  # killed and reaped, not left behind
    finally:
        if child.proc.poll() is None:
            child.stop()
    assert inspector.inspect_media(mp4_file)[1] is None
