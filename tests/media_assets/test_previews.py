"""Previews are real images of the right size made from real media."""

from __future__ import annotations

import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from PIL import Image, ImageChops, ImageStat

from media_assets import services
from media_assets.models import MediaAsset
from media_assets.previews import PreviewError, make_poster, make_scrub_strip, make_thumbnail, make_waveform
from tests.editor.conftest import HDR_PATCHES, hdr_patches
from tests.media_assets import hostile
from tests.media_assets.conftest import requires_ffmpeg

pytestmark = requires_ffmpeg


@pytest.fixture(scope="module")
def moving_mp4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 s, 320x180: testsrc's counter and moving gradient differ from second to second."""
    return hostile.make_mp4(tmp_path_factory.mktemp("pv") / "moving.mp4", seconds=3.0, size="320x180")


def test_it_makes_a_poster_frame(mp4_file: Path, tmp_path: Path) -> None:
    out = make_poster(mp4_file, tmp_path / "poster.jpg")
    with Image.open(out) as im:
        assert (im.format, im.size) == ("JPEG", (160, 90))
        assert ImageStat.Stat(im.convert("L")).stddev[0] > 20  # colour bars, not a black frame


def test_it_takes_the_poster_at_the_requested_time(moving_mp4: Path, tmp_path: Path) -> None:
    early = make_poster(moving_mp4, tmp_path / "a.jpg", at=0.2)
    late = make_poster(moving_mp4, tmp_path / "b.jpg", at=2.5)
    with Image.open(early) as a, Image.open(late) as b:
        diff = ImageChops.difference(a.convert("L"), b.convert("L"))
    assert ImageStat.Stat(diff).mean[0] > 2


def test_it_thumbnails_a_video_within_the_max_side(moving_mp4: Path, tmp_path: Path) -> None:
    out = make_thumbnail(moving_mp4, tmp_path / "t.jpg", max_side=100)
    with Image.open(out) as im:
        assert im.format == "JPEG" and max(im.size) == 100 and im.size[1] in (56, 57)


def test_it_thumbnails_an_image_with_orientation_applied(jpeg_exif_file: Path, png_file: Path, tmp_path: Path) -> None:
    out = make_thumbnail(jpeg_exif_file, tmp_path / "j.jpg", max_side=32)
    with Image.open(out) as im:
        assert im.size == (16, 32)  # 80x40 rotated by EXIF orientation 6, then fitted
    with Image.open(make_thumbnail(png_file, tmp_path / "p.jpg", max_side=320)) as im:
        assert im.size == (64, 48)  # never upscaled


def test_it_makes_a_scrub_strip_of_distinct_frames(moving_mp4: Path, tmp_path: Path) -> None:
    out = make_scrub_strip(moving_mp4, tmp_path / "strip.jpg", frames=10, tile_height=90)
    with Image.open(out) as im:
        assert im.size == (160 * 10, 90)
        tiles = [im.crop((i * 160, 0, (i + 1) * 160, 90)).convert("L").tobytes() for i in range(10)]
    assert len(set(tiles)) == 10  # every tile is a different moment of the clip


def _gop_clip(path: Path, keyint: int) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=6",
                    "-c:v", "libx264", "-preset", "ultrafast", "-g", str(keyint), "-x264-params", "scenecut=0",
                    "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


def test_a_strip_seeks_where_keyframes_are_frequent_and_decodes_once_where_they_are_sparse(tmp_path, monkeypatch):
    from media_assets import previews

    dense, sparse = _gop_clip(tmp_path / "dense.mp4", 12), _gop_clip(tmp_path / "sparse.mp4", 1000)
    assert previews.keyframe_interval(dense, 6.0) == pytest.approx(6 / 13)  # frames 0, 12, ... 144 of 150
    assert previews.keyframe_interval(sparse, 6.0) == 6.0  # one
    inputs: list[int] = []
    run_tool = previews.run_tool

    def counting(args, **kwargs):
        if kwargs.get("what") == "Scrub strip":
            inputs.append(args.count("-i"))
        return run_tool(args, **kwargs)

    monkeypatch.setattr(previews, "run_tool", counting)
    make_scrub_strip(dense, tmp_path / "dense.jpg")
    once = make_scrub_strip(sparse, tmp_path / "once.jpg")
    assert inputs == [10, 1]  # a seek per frame; the sparse clip decoded once
    monkeypatch.setattr(previews, "keyframe_interval", lambda *args, **kwargs: 0.1)
    seeking = make_scrub_strip(sparse, tmp_path / "seeking.jpg")
    with Image.open(once) as a, Image.open(seeking) as b:  # the same frames either way
        assert a.size == b.size == (1600, 90)
        assert ImageChops.difference(a.convert("RGB"), b.convert("RGB")).getbbox() is None


def test_it_makes_a_single_frame_strip(mp4_file: Path, tmp_path: Path) -> None:
    with Image.open(make_scrub_strip(mp4_file, tmp_path / "s.jpg", frames=1, tile_height=45)) as im:
        assert im.size == (80, 45)


def test_it_draws_a_waveform_of_audio_and_of_video_sound(mp3_file: Path, mp4_file: Path, tmp_path: Path) -> None:
    for src in (mp3_file, mp4_file):
        out = make_waveform(src, tmp_path / f"{src.stem}.png", width=400, height=60)
        with Image.open(out) as im:
            assert (im.format, im.size) == ("PNG", (400, 60))
            alpha = im.convert("RGBA").getchannel("A")
            drawn = alpha.point(lambda a: 255 if a else 0).histogram()[255]
        assert 400 * 60 * 0.15 < drawn < 400 * 60 * 0.9  # a steady tone: a solid band, not a flat line


def test_it_refuses_a_waveform_of_silent_video_without_audio(tmp_path: Path) -> None:
    silent = tmp_path / "mute.mp4"
    hostile.ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=64x36:rate=10:duration=1",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(silent),
    )
    with pytest.raises(PreviewError):
        make_waveform(silent, tmp_path / "w.png")
    assert not (tmp_path / "w.png").exists()


def test_it_refuses_previews_of_a_playlist(tmp_path: Path) -> None:
    fake = hostile.hls_playlist(tmp_path / "x.mp4", segment_uri="file:///etc/passwd")
    with pytest.raises(PreviewError):
        make_poster(fake, tmp_path / "p.jpg")
    with pytest.raises(PreviewError):
        make_poster(fake, tmp_path / "p.jpg", at=0)
    with pytest.raises(PreviewError):
        make_waveform(fake, tmp_path / "w.png")


def _patch_colours(path: Path, centres: list[tuple[int, int]]) -> list[tuple[int, ...]]:
    with Image.open(path) as im:
        rgb = im.convert("RGB")
        return [rgb.getpixel(c) for c in centres]


def _close(seen: list[tuple[int, ...]], want: list[tuple[int, int, int]], tolerance: int = 16) -> bool:
    # JPEG (and its BT.601 reading of the BT.709 picture) costs a few levels on saturated red.
    return all(abs(a - b) < tolerance for s, w in zip(seen, want) for a, b in zip(s, w))


def test_it_tone_maps_the_poster_and_scrub_strip_of_an_hdr_video_like_the_render(tmp_path: Path) -> None:
    hdr = hdr_patches(tmp_path / "hlg.mp4", "arib-std-b67")
    centres = [(40 + 80 * i, 90) for i in range(4)]
    poster = make_poster(hdr, tmp_path / "poster.jpg", transfer="arib-std-b67")
    assert _close(_patch_colours(poster, centres), HDR_PATCHES)
    flat = make_poster(hdr, tmp_path / "flat.jpg")  # without the transfer: HDR read as SDR, dim
    assert not _close(_patch_colours(flat, centres), HDR_PATCHES)
    strip = make_scrub_strip(hdr, tmp_path / "strip.jpg", frames=2, tile_height=90, transfer="arib-std-b67")
    assert _close(_patch_colours(strip, [(20 + 40 * i, 45) for i in range(4)]), HDR_PATCHES)


@pytest.mark.django_db
def test_an_uploaded_hdr_video_keeps_its_transfer_and_gets_tone_mapped_previews(workspace, media_root, tmp_path: Path) -> None:
    hdr = hdr_patches(tmp_path / "hlg.mp4", "arib-std-b67")
    asset = services.asset_create_from_file(workspace=workspace, path=hdr, source="uploaded")
    assert asset.metadata["color_transfer"] == "arib-std-b67" and asset.poster
    with asset.poster.open("rb") as fh:
        poster = tmp_path / "stored-poster.jpg"
        poster.write_bytes(fh.read())
    assert _close(_patch_colours(poster, [(40 + 80 * i, 90) for i in range(4)]), HDR_PATCHES)



def _stored_poster_close(asset, tmp_path: Path) -> bool:
    with asset.poster.open("rb") as fh:
        poster = tmp_path / f"poster-{asset.pk}.jpg"
        poster.write_bytes(fh.read())
    return _close(_patch_colours(poster, [(40 + 80 * i, 90) for i in range(4)]), HDR_PATCHES)


@pytest.mark.django_db
def test_the_refresh_command_brings_videos_stored_before_up_to_date(workspace, media_root, tmp_path: Path) -> None:
    hdr = services.asset_create_from_file(workspace=workspace, path=hdr_patches(tmp_path / "hlg.mp4", "arib-std-b67"),
                                          source="uploaded")
    wide_pixels = tmp_path / "anamorphic.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=160x120:r=25:d=1,setsar=4/3",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(wide_pixels)], check=True, timeout=60)
    anamorphic = services.asset_create_from_file(workspace=workspace, path=wide_pixels, source="uploaded")
    lost = services.asset_create_from_file(workspace=workspace, path=hdr_patches(tmp_path / "pq.mp4", "smpte2084"),
                                           source="uploaded")
    MediaAsset.objects.filter(pk=lost.pk).update(metadata={})
    lost.file.storage.delete(lost.file.name)  # its file is gone: it is skipped, the others are not
    current = {a.pk: (a.width, a.height, dict(a.metadata)) for a in (hdr, anamorphic)}
    # As an earlier version stored them: no transfer, no render facts, the stored size, HDR previews dim.
    for asset in (hdr, anamorphic):
        old = {k: v for k, v in asset.metadata.items() if k not in ("color_transfer", "render_source")}
        MediaAsset.objects.filter(pk=asset.pk).update(metadata=old, width=160 if asset == anamorphic else asset.width)
    services.asset_make_previews(asset=MediaAsset.objects.get(pk=hdr.pk))
    assert not _stored_poster_close(MediaAsset.objects.get(pk=hdr.pk), tmp_path)

    out, err = StringIO(), StringIO()
    call_command("media_refresh_facts", stdout=out, stderr=err)

    assert "2 video(s) brought up to date." in out.getvalue() and "100%" in err.getvalue()
    for pk, (width, height, metadata) in current.items():
        asset = MediaAsset.objects.get(pk=pk)
        assert (asset.width, asset.height) == (width, height) and asset.metadata == metadata
    assert (MediaAsset.objects.get(pk=anamorphic.pk).width, MediaAsset.objects.get(pk=anamorphic.pk).height) == (212, 120)
    assert _stored_poster_close(MediaAsset.objects.get(pk=hdr.pk), tmp_path)
    assert MediaAsset.objects.get(pk=lost.pk).metadata == {}
    out = StringIO()
    call_command("media_refresh_facts", "--no-progress", stdout=out)  # nothing left to do
    assert "0 video(s) brought up to date." in out.getvalue()
