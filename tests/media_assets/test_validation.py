"""Content validation: real media accepted, hostile files refused with a named reason."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PIL import Image

from media_assets.probe import ProbeError, ffprobe_json, probe_media
from media_assets.validation import (
    MediaLimits,
    MediaRejected,
    measure_loudness,
    reencode_image,
    validate_media_file,
)
from tests.media_assets import hostile
from tests.media_assets.conftest import requires_ffmpeg

pytestmark = requires_ffmpeg

LIMITS = MediaLimits()


def rejected(path: Path, *, limits: MediaLimits = LIMITS, **kwargs: object) -> MediaRejected:
    with pytest.raises(MediaRejected) as info:
        validate_media_file(path, limits=limits, **kwargs)  # type: ignore[arg-type]
    assert info.value.message  # a human sentence, not an empty string
    return info.value


# --- accepted media -----------------------------------------------------------


def test_it_accepts_a_real_mp4_and_reports_its_probe(mp4_file: Path) -> None:
    media = validate_media_file(mp4_file, limits=LIMITS, declared_name="ad.mp4")
    assert (media.kind, media.mime, media.ext) == ("video", "video/mp4", "mp4")
    assert (media.width, media.height) == (160, 90)
    assert media.duration == pytest.approx(1.0, abs=0.1)
    assert media.fps == pytest.approx(25.0)
    assert (media.video_codec, media.audio_codec) == ("h264", "aac")
    assert media.size == mp4_file.stat().st_size and len(media.sha256) == 64
    # A full-scale 440 Hz sine at ffmpeg's default amplitude sits well above -30 LUFS.
    assert media.loudness_lufs is not None and -30 < media.loudness_lufs < 0


def test_it_accepts_an_mp3_as_audio(mp3_file: Path) -> None:
    media = validate_media_file(mp3_file, limits=LIMITS)
    assert (media.kind, media.mime, media.ext, media.audio_codec) == ("audio", "audio/mpeg", "mp3", "mp3")
    assert media.width is None and media.duration == pytest.approx(1.0, abs=0.15)
    assert media.loudness_lufs is not None


def test_it_reports_no_loudness_for_silence(tmp_path: Path) -> None:
    wav = hostile.make_silent_wav(tmp_path / "quiet.wav")
    assert measure_loudness(wav) is None
    media = validate_media_file(wav, limits=LIMITS)
    assert (media.kind, media.mime) == ("audio", "audio/wav")


def test_it_accepts_a_png_and_writes_a_clean_copy(png_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "clean.png"
    media = validate_media_file(png_file, limits=LIMITS, cleaned_image_path=out)
    assert (media.kind, media.mime, media.ext, media.path) == ("image", "image/png", "png", out)
    with Image.open(out) as im:
        assert im.size == (64, 48) and im.getpixel((0, 0)) == (30, 30, 200)


def test_it_strips_exif_and_applies_orientation_on_reencode(jpeg_exif_file: Path, tmp_path: Path) -> None:
    with Image.open(jpeg_exif_file) as im:
        assert im.getexif().get(0x010F) == "SpyCam Inc"
    out = tmp_path / "clean.jpg"
    media = validate_media_file(jpeg_exif_file, limits=LIMITS, cleaned_image_path=out)
    assert (media.mime, media.ext) == ("image/jpeg", "jpg")
    # Orientation 6 on an 80x40 image displays as 40x80 once applied.
    assert (media.width, media.height) == (40, 80)
    raw = out.read_bytes()
    assert b"SpyCam" not in raw and b"secret-software" not in raw and b"Exif" not in raw
    with Image.open(out) as im:
        assert not im.getexif()
        # The white band was on the left; after a 90° clockwise turn it is at the top.
        assert im.getpixel((20, 2))[0] > 200 and im.getpixel((20, 78))[0] < 100


def test_reencode_image_refuses_a_bomb_before_decoding(bomb_png: Path, tmp_path: Path) -> None:
    with pytest.raises(MediaRejected) as info:
        reencode_image(bomb_png, tmp_path / "x.png", limits=LIMITS)
    assert info.value.reason_code == "too_many_pixels"


# --- hostile containers and references ---------------------------------------------


def test_it_refuses_an_hls_playlist_pointing_at_a_local_server(tmp_path: Path, recording_server) -> None:
    recording_server.routes["/seg.ts"] = lambda h: h.send_error(500)
    fake = hostile.hls_playlist(tmp_path / "movie.mp4", segment_uri=f"{recording_server.base}/seg.ts")
    err = rejected(fake, declared_name="movie.mp4")
    assert err.reason_code == "unknown_format"
    # Also ask ffprobe directly (the sniff is not the only guard): still no connection.
    with pytest.raises(ProbeError):
        ffprobe_json(fake)
    assert recording_server.connections == []


def test_ffmpeg_whitelists_block_a_playlist_even_without_the_sniff(tmp_path: Path, recording_server) -> None:
    """Raw ffprobe with our input options, bypassing the magic-number check."""
    from media_assets.probe import ffmpeg_input_args

    fake = hostile.hls_playlist(tmp_path / "movie.mp4", segment_uri=f"{recording_server.base}/seg.ts")
    proc = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", *ffmpeg_input_args(fake)],
        capture_output=True, timeout=20, check=False,
    )
    assert proc.returncode != 0 and b"whitelist" in proc.stderr
    assert recording_server.connections == []


def test_it_leaks_nothing_from_a_playlist_referencing_etc_passwd(tmp_path: Path) -> None:
    secret = Path("/etc/passwd").read_text().splitlines()[0]
    fake = hostile.hls_playlist(tmp_path / "movie.mp4", segment_uri="file:///etc/passwd")
    err = rejected(fake)
    assert err.reason_code == "unknown_format"
    assert secret not in str(err) and "root:" not in err.message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["movie.mp4"]
    # Bypassing the sniff, raw ffmpeg with our input options prints nothing of the file either.
    from media_assets.probe import ffmpeg_input_args

    for tool in (["ffprobe", "-v", "debug", "-show_format"], ["ffmpeg", "-v", "debug"]):
        extra = ["-f", "null", "-"] if tool[0] == "ffmpeg" else []
        proc = subprocess.run([*tool, *ffmpeg_input_args(fake), *extra], capture_output=True, timeout=20, check=False)
        assert proc.returncode != 0
        assert secret.encode() not in proc.stdout + proc.stderr


def test_it_refuses_an_ffconcat_list(tmp_path: Path, mp4_file: Path) -> None:
    fake = hostile.ffconcat_list(tmp_path / "clip.mp4", target=str(mp4_file))
    assert rejected(fake).reason_code == "unknown_format"


def test_it_never_reads_a_concat_protocol_name_as_a_protocol(
    tmp_path: Path, mp4_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A relative name "concat:a.mp4|b.mp4" is opened as that one (junk) file, never
    # expanded into the two valid clips beside it.
    monkeypatch.chdir(tmp_path)
    for name in ("a.mp4", "b.mp4"):
        (tmp_path / name).write_bytes(mp4_file.read_bytes())
    odd = Path("concat:a.mp4|b.mp4")
    odd.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 40)
    with pytest.raises(ProbeError) as info:
        probe_media(odd)
    assert info.value.reason_code == "unreadable"


@pytest.mark.parametrize("builder", [hostile.svg_as_png, hostile.html_as_png])
def test_it_refuses_markup_renamed_png(tmp_path: Path, builder) -> None:
    fake = builder(tmp_path / "logo.png")
    assert rejected(fake, declared_name="logo.png").reason_code == "unknown_format"


# --- truncated, empty, oversized ------------------------------------------------------


def test_it_refuses_a_truncated_mp4_with_moov_at_the_end(mp4_file: Path, tmp_path: Path) -> None:
    cut = hostile.truncate(mp4_file, tmp_path / "cut.mp4", keep=0.6)
    assert rejected(cut).reason_code == "unreadable"


def test_it_refuses_a_truncated_faststart_mp4_by_decoding_its_tail(long_mp4_file: Path, tmp_path: Path) -> None:
    cut = hostile.truncate(long_mp4_file, tmp_path / "cut.mp4", keep=0.5)
    assert probe_media(cut).duration == pytest.approx(4.0, abs=0.2)  # the header still claims 4 s
    assert rejected(cut).reason_code == "corrupt"


def test_it_refuses_a_truncated_png(png_file: Path, tmp_path: Path) -> None:
    cut = hostile.truncate(png_file, tmp_path / "cut.png", keep=0.7)
    assert rejected(cut).reason_code == "corrupt_image"


def test_it_refuses_a_truncated_jpeg(jpeg_exif_file: Path, tmp_path: Path) -> None:
    cut = hostile.truncate(jpeg_exif_file, tmp_path / "cut.jpg", keep=0.6)
    assert rejected(cut).reason_code == "corrupt_image"


def test_it_refuses_an_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    assert rejected(empty).reason_code == "empty"


def test_it_refuses_a_decompression_bomb_png(bomb_png: Path) -> None:
    assert bomb_png.stat().st_size < 1_000_000  # tiny on disk, 400 MP decoded
    err = rejected(bomb_png)
    assert err.reason_code == "too_many_pixels" and "40,000,000 pixels" in err.message


def test_it_refuses_an_image_over_the_pixel_cap_from_its_header(tmp_path: Path) -> None:
    big = hostile.png_bomb(tmp_path / "big.png", side=7000)  # 49 MP: under Pillow's own guard
    err = rejected(big)
    assert err.reason_code == "too_many_pixels" and "7000x7000" in err.message


def test_it_refuses_an_image_over_a_lowered_pixel_cap(png_file: Path) -> None:
    err = rejected(png_file, limits=MediaLimits(max_pixels=64 * 48 - 1))
    assert err.reason_code == "too_many_pixels"


def test_it_refuses_a_file_over_the_size_cap(mp4_file: Path) -> None:
    err = rejected(mp4_file, limits=MediaLimits(max_bytes=1000))
    assert err.reason_code == "too_big" and "limit" in err.message


def test_it_refuses_a_video_over_the_duration_cap(mp4_file: Path) -> None:
    err = rejected(mp4_file, limits=MediaLimits(max_duration=0.5))
    assert err.reason_code == "too_long" and "0.5 s" in err.message


def test_it_refuses_a_video_over_the_resolution_cap(mp4_file: Path) -> None:
    err = rejected(mp4_file, limits=MediaLimits(max_width=128))
    assert err.reason_code == "resolution_too_high" and "160x90" in err.message


def test_it_refuses_a_video_over_the_fps_cap(mp4_file: Path) -> None:
    assert rejected(mp4_file, limits=MediaLimits(max_fps=24)).reason_code == "fps_too_high"


def test_it_refuses_random_bytes(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(bytes(range(256)) * 4)
    assert rejected(junk).reason_code == "unknown_format"
    # Named as a video, it is not told its type is unsupported: its content is what is wrong.
    err = rejected(junk, declared_name="junk.mp4")
    assert err.message.startswith("The file is named .mp4 but its content is not a video, sound or image")
    assert rejected(junk, declared_name="notes.txt").message.startswith("This file type is not supported.")
