"""Runner behaviour: progress, cancel, errors, encoder choice."""

from __future__ import annotations

import pytest

from media_assets.render import RenderCanceled, RenderError, render
from media_assets.render.runner import nvenc_available, resolve_encoder
from media_assets.render.spec import Clip, Composition, Encoding

from .conftest import TALL


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
