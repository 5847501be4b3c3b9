"""The fake vendors serve the clip a request asks for (size, length, a colour from the prompt), not
one fixed 1 s clip, so the studio's handling of what comes back is tried on honest media."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.fakes.runway_server import RunwayFake
from tests.fakes.video_common import clip_for, prompt_colour
from tests.generation.conftest import decode_frames, ffprobe_video
from tests.generation.providers.cases import all_cases
from tests.generation.providers.harness import run_to_end


def _runway():
    case = next(c for c in all_cases() if c.identifier == "runway" and c.fake_class is RunwayFake)
    return case


def _fetch(case, fake, provider, prompt: str, dest: Path, **overrides) -> Path:
    request = case.t2v_request(prompt=prompt, **overrides)
    final, _ = run_to_end(provider, provider.submit(request), max_polls=case.max_polls)
    return Path(provider.download(final, dest))


def _corner(path: Path) -> np.ndarray:
    return decode_frames(path)[0, 2, 2].astype(int)


def _rgb(hex6: str) -> np.ndarray:
    return np.array([int(hex6[i:i + 2], 16) for i in (0, 2, 4)])


def test_each_prompt_gets_its_own_colour_at_the_requested_size_and_length(tmp_path):
    case = _runway()
    with case.start_fake() as fake:
        provider = case.provider(fake)
        red = _fetch(case, fake, provider, "a red bicycle on a wall", tmp_path / "a.mp4", duration=6.0, aspect_ratio="9:16")
        sea = _fetch(case, fake, provider, "waves on a quiet beach", tmp_path / "b.mp4", duration=4.0)

    first, second = ffprobe_video(red), ffprobe_video(sea)
    assert (first["width"], first["height"]) == (720, 1280) and abs(first["duration"] - 6.0) < 0.1
    assert (second["width"], second["height"]) == (1280, 720) and abs(second["duration"] - 4.0) < 0.1
    # The background is the prompt's colour (within what YUV 4:2:0 keeps of it), and differs by prompt.
    assert np.abs(_corner(red) - _rgb(prompt_colour("a red bicycle on a wall"))).max() <= 12
    assert np.abs(_corner(sea) - _rgb(prompt_colour("waves on a quiet beach"))).max() <= 12
    assert np.abs(_corner(red) - _corner(sea)).max() > 30


def test_it_is_a_moving_picture_not_a_still(tmp_path):
    case = _runway()
    with case.start_fake() as fake:
        clip = _fetch(case, fake, case.provider(fake), "a can on a table", tmp_path / "c.mp4", duration=2.0)
    frames = decode_frames(clip)
    assert len(frames) >= 8
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 1


def test_clip_for_reads_each_vendors_way_of_saying_size_and_length():
    assert (clip_for(prompt="p", duration="5s", aspect_ratio="9:16", resolution="1080p").width,
            clip_for(prompt="p", duration="5s", aspect_ratio="9:16", resolution="1080p").height) == (1080, 1920)
    assert clip_for(prompt="p", duration="10", size="1280:720").duration == 10.0
    wide = clip_for(prompt="p", duration=4, size="1792x1024")
    assert (wide.width, wide.height) == (1792, 1024)
    square = clip_for(prompt="p", duration=5, aspect_ratio="1:1", resolution="540p")
    assert (square.width, square.height) == (540, 540)
    assert clip_for(prompt="a", duration=1).colour != clip_for(prompt="b", duration=1).colour
