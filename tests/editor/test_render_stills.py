"""A cut's poster and scrub strip come from the frames its render encodes: the frames the library
would take from the stored file, made without decoding it again. A file whose previews come with it
is stored ready at once, with those pictures; without them the library still makes its own."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from media_assets import services
from media_assets.previews import make_poster, make_scrub_strip
from media_assets.render import render, runner, stills
from media_assets.render.spec import Clip, Composition, Encoding

from .conftest import TALL


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float64)


def _tiles(strip: np.ndarray, count: int) -> list[np.ndarray]:
    width = strip.shape[1] // count
    return [strip[:, i * width:(i + 1) * width] for i in range(count)]


def test_the_planned_frames_are_where_the_librarys_seeks_land() -> None:
    plan = stills.plan(frames=675, fps=30)  # a 22.5 s cut
    assert plan.poster == 68  # 10% is 2.25 s, between frames 67 and 68: an accurate seek lands on 68
    assert plan.strip == tuple(math.ceil(t * 30 - 1e-6) for t in stills.strip_times(22.5))
    assert len(plan.strip) == stills.STRIP_FRAMES and plan.strip == tuple(sorted(plan.strip))
    # Frame 0 is written first (ffmpeg reports no progress until every output has had a frame).
    assert plan.frames[0] == 0 and plan.frames == tuple(sorted(set(plan.frames)))
    assert max(stills.plan(frames=3, fps=30).frames) < 3  # a very short cut's stills stay inside it


@pytest.fixture(scope="module")
def rendered(media, tmp_path_factory) -> tuple[Path, dict[str, Path]]:
    """A 4 s cut of a moving test pattern, rendered with its stills."""
    folder = tmp_path_factory.mktemp("stills")
    comp = Composition(clips=(Clip(media["long.mp4"], duration=4.0),))
    result = render(comp, TALL, folder / "cut.mp4", encoding=Encoding(encoder="x264"), stills_dir=folder / "previews")
    return result.path, result.previews


def test_a_render_writes_the_poster_the_library_would_take_from_the_cut(rendered, tmp_path) -> None:
    cut, previews = rendered
    assert previews["poster"].name == "poster.jpg"
    ours = _pixels(previews["poster"])
    library = _pixels(make_poster(cut, tmp_path / "poster.jpg"))
    assert ours.shape == library.shape == (TALL.height, TALL.width, 3)
    assert np.abs(ours - library).mean() < 3  # the same frame, before and after the cut's encode
    a_second_later = _pixels(make_poster(cut, tmp_path / "later.jpg", at=0.4 + 1.0))
    assert np.abs(ours - a_second_later).mean() > 10  # another frame of the moving pattern is far off


def test_a_render_writes_the_scrub_strip_the_library_would_make_from_the_cut(rendered, tmp_path) -> None:
    cut, previews = rendered
    ours = _pixels(previews["scrub_strip"])
    library = _pixels(make_scrub_strip(cut, tmp_path / "scrub.jpg"))
    assert ours.shape == library.shape and ours.shape[0] == stills.STRIP_TILE_HEIGHT
    mine, theirs = _tiles(ours, stills.STRIP_FRAMES), _tiles(library, stills.STRIP_FRAMES)
    for tile, same in zip(mine, theirs):
        assert np.abs(tile - same).mean() < 8  # each tile is the library's frame (resampled apart)
    assert np.abs(mine[0] - theirs[5]).mean() > 3 * np.abs(mine[0] - theirs[0]).mean()  # tiles do differ


def test_stills_not_all_written_are_refused(tmp_path) -> None:
    plan = stills.plan(frames=90, fps=30)
    folder = tmp_path / "written"
    folder.mkdir()
    Image.new("RGB", (32, 32)).save(folder / "001.jpg")
    with pytest.raises(stills.StillsError):
        stills.assemble(plan, folder, tmp_path / "out")


def test_a_render_whose_stills_fail_still_makes_its_cut(media, tmp_path, monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise stills.StillsError("expected 12 stills, ffmpeg wrote 11")

    monkeypatch.setattr(runner, "assemble_stills", refuse)
    comp = Composition(clips=(Clip(media["red.mp4"], duration=1.0),))
    result = render(comp, TALL, tmp_path / "cut.mp4", encoding=Encoding(encoder="x264"), stills_dir=tmp_path / "p")
    assert result.path.exists() and result.previews == {}  # the library makes them when it is stored


@pytest.mark.django_db
def test_a_file_stored_with_its_previews_is_ready_at_once_with_those_pictures(workspace, rendered, settings,
                                                                              monkeypatch) -> None:
    cut, previews = rendered
    settings.MEDIA_SYNC_PREVIEW_MAX_BYTES = 10  # without its previews this file would go to an ingest job

    def decode_again(*args, **kwargs):
        pytest.fail("the poster or scrub strip was made again from the stored file")

    monkeypatch.setattr(services, "make_poster", decode_again)
    monkeypatch.setattr(services, "make_scrub_strip", decode_again)
    asset = services.asset_create_from_file(workspace=workspace, path=cut, source="rendered", previews=previews)
    assert asset.status == "ready" and asset.preview_error == ""
    assert asset.poster.read() == previews["poster"].read_bytes()
    assert asset.scrub_strip.read() == previews["scrub_strip"].read_bytes()
    assert asset.thumbnail  # made from the poster
