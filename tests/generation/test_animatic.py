from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from generation import animatic, strategy
from generation.animatic import AnimaticCancelled, AnimaticError, AnimaticRequest, derive_title, render_animatic

SMALL = {"width": 160, "height": 284}


def _request(**overrides: object) -> AnimaticRequest:
    fields: dict[str, object] = {
        "prompt": "Sneakers that light up the night city",
        "camera_move": "dolly",
        "lighting": "natural",
        "duration": 1.0,
        **SMALL,
    }
    fields.update(overrides)
    return AnimaticRequest(**fields)  # type: ignore[arg-type]


def _dark(frame: np.ndarray) -> np.ndarray:
    return frame.mean(axis=2) < 90


def _square_width(frame: np.ndarray) -> int:
    cols = np.where(_dark(frame).any(axis=0))[0]
    return int(cols.max() - cols.min() + 1)


def _centroid(frame: np.ndarray) -> tuple[float, float]:
    ys, xs = np.nonzero(_dark(frame))
    return float(xs.mean()), float(ys.mean())


def test_it_writes_a_faststart_h264_mp4_of_the_requested_size_and_duration(tmp_path, probe, atoms_of):
    out = tmp_path / "clip.mp4"
    result = render_animatic(_request(duration=1.5), out)

    info = probe(out)
    assert (info["codec"], info["pix_fmt"]) == ("h264", "yuv420p")
    assert (info["width"], info["height"]) == (160, 284)
    assert info["frames"] == 36 and info["fps"] == 24
    assert abs(info["duration"] - 1.5) <= 1 / 24
    atoms = atoms_of(out)
    assert atoms.index("moov") < atoms.index("mdat")
    assert (result.path, result.width, result.height, result.frame_count, result.duration) == (out, 160, 284, 36, 1.5)


def test_it_sizes_the_frame_from_aspect_ratio_and_resolution(tmp_path, probe):
    out = tmp_path / "wide.mp4"
    result = render_animatic(
        AnimaticRequest(prompt="A calm lake", camera_move="pan_slow", lighting="soft_key", aspect_ratio="16:9",
                        resolution="480p", duration=0.25, fps=12),
        out,
    )  # fmt: skip
    info = probe(out)
    assert (info["width"], info["height"]) == (854, 480) == (result.width, result.height)
    assert info["frames"] == 3


def test_it_animates_the_title_card(tmp_path, frames_of):
    out = tmp_path / "card.mp4"
    render_animatic(_request(camera_move="handheld_subtle", lighting="golden_hour"), out)
    frames = frames_of(out).astype(np.int16)
    diffs = [np.abs(frames[i + 1] - frames[i]).mean() for i in range(len(frames) - 1)]
    assert min(diffs) > 0  # every frame moves
    assert np.median(diffs) > 0.2
    assert frames[0].std() > 10  # a designed scene, not a flat colour


def test_it_uses_the_palette_for_the_title_card(tmp_path, frames_of):
    red, blue = tmp_path / "red.mp4", tmp_path / "blue.mp4"
    render_animatic(_request(palette=("#400008", "#b01020", "#ff5a5a"), duration=0.25), red)
    render_animatic(_request(palette=("#000840", "#1030b0", "#5a8aff"), duration=0.25), blue)
    r, b = frames_of(red)[0].reshape(-1, 3).mean(axis=0), frames_of(blue)[0].reshape(-1, 3).mean(axis=0)
    assert r[0] > r[2] + 20
    assert b[2] > b[0] + 20


def test_it_pushes_in_on_the_reference_image(tmp_path, square_image, frames_of):
    out = tmp_path / "push.mp4"
    render_animatic(_request(camera_move="dolly", image_path=square_image, width=240, height=426), out)
    frames = frames_of(out)
    widths = [_square_width(f) for f in frames]
    # Cover-fit scales the 400 px image to 426 px, so the 100 px square starts near 106 px.
    assert 100 <= widths[0] <= 112
    assert widths[-1] >= widths[0] * 1.2
    assert all(b >= a - 1 for a, b in zip(widths, widths[1:]))  # grows steadily
    centres = [_centroid(f) for f in (frames[0], frames[-1])]
    assert all(abs(x - 120) < 2 and abs(y - 213) < 2 for x, y in centres)  # pushes in on the centre


def test_it_cranes_up_so_the_content_moves_down(tmp_path, square_image, frames_of):
    out = tmp_path / "crane.mp4"
    render_animatic(_request(camera_move="crane_up", image_path=square_image, width=240, height=426), out)
    frames = frames_of(out)
    (x0, y0), (x1, y1) = _centroid(frames[0]), _centroid(frames[-1])
    assert y1 - y0 > 40
    assert abs(x1 - x0) < 2


def test_it_pans_so_the_content_moves_sideways(tmp_path, square_image, frames_of):
    out = tmp_path / "pan.mp4"
    render_animatic(_request(camera_move="pan_slow", image_path=square_image, width=240, height=426), out)
    frames = frames_of(out)
    (x0, y0), (x1, y1) = _centroid(frames[0]), _centroid(frames[-1])
    assert x0 - x1 > 20  # the view travels right, so the square travels left
    assert abs(y1 - y0) < 2


def test_it_blurs_the_fast_part_of_a_whip_pan(tmp_path, square_image, frames_of):
    out = tmp_path / "whip.mp4"
    render_animatic(_request(camera_move="whip_pan_left", image_path=square_image, width=240, height=426, duration=2), out)
    frames = frames_of(out).astype(np.float32)

    def edge_sharpness(frame: np.ndarray) -> float:
        return float(np.abs(np.diff(frame.mean(axis=2), axis=1)).max())

    mid = len(frames) // 2
    assert _centroid(frames[-1])[0] - _centroid(frames[0])[0] > 40  # view goes left, content right
    assert edge_sharpness(frames[mid]) < 0.6 * edge_sharpness(frames[0])


def test_it_pulls_focus_from_soft_to_sharp(tmp_path, square_image, frames_of):
    out = tmp_path / "focus.mp4"
    render_animatic(_request(camera_move="static_focus", image_path=square_image), out)
    frames = frames_of(out).astype(np.float32)

    def edge_sharpness(frame: np.ndarray) -> float:
        return float(np.abs(np.diff(frame.mean(axis=2), axis=1)).max())

    assert edge_sharpness(frames[0]) < 0.5 * edge_sharpness(frames[-1])


@pytest.mark.parametrize("move", ["spiral_zoom", "barrel_roll", "bullet_time", "fpv_drone"])
def test_it_keeps_any_image_aspect_covered_while_rotating(tmp_path, move, frames_of):
    wide = tmp_path / "wide.png"
    Image.new("RGB", (900, 120), (230, 230, 230)).save(wide)
    out = tmp_path / f"{move}.mp4"
    render_animatic(_request(camera_move=move, image_path=wide, duration=0.75), out)
    frames = frames_of(out)
    # An uncovered corner would be black; the vignette only dims it.
    corners = np.concatenate([frames[:, :3, :3], frames[:, :3, -3:], frames[:, -3:, :3], frames[:, -3:, -3:]], axis=1)
    assert corners.min() > 120


def _digest(path: Path, frames_of) -> str:
    return hashlib.sha256(frames_of(path).tobytes()).hexdigest()


def test_it_is_deterministic_for_a_seed(tmp_path, frames_of):
    paths = [tmp_path / f"{name}.mp4" for name in ("a", "b", "c")]
    for path, seed in zip(paths, (7, 7, 8)):
        render_animatic(_request(camera_move="handheld_subtle", seed=seed, duration=0.5), path)
    a, b, c = (_digest(p, frames_of) for p in paths)
    assert a == b
    assert a != c


def test_it_reports_progress_to_100(tmp_path):
    seen: list[tuple[int, str]] = []
    render_animatic(_request(duration=2), tmp_path / "p.mp4", progress=lambda p, m: seen.append((p, m)))
    percents = [p for p, _ in seen]
    assert percents == sorted(percents)
    assert percents[0] == 0 and percents[-1] == 100
    assert seen[-1][1] == "done"


def test_it_cancels_and_leaves_no_partial_file(tmp_path):
    out = tmp_path / "cancelled.mp4"
    saw_partial: list[bool] = []

    def should_cancel() -> bool:
        # Cancel once ffmpeg has started writing the temporary file.
        partial = [p for p in tmp_path.glob(".*.part.mp4") if p.stat().st_size > 0]
        if partial:
            saw_partial.append(True)
        return bool(partial)

    with pytest.raises(AnimaticCancelled):
        render_animatic(_request(duration=120), out, should_cancel=should_cancel)  # long enough to be caught writing
    assert saw_partial
    assert list(tmp_path.iterdir()) == []


def test_it_leaves_nothing_when_ffmpeg_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(animatic, "FFMPEG_BIN", str(tmp_path / "no-ffmpeg"))
    with pytest.raises(AnimaticError, match="cannot start ffmpeg"):
        render_animatic(_request(duration=0.25), tmp_path / "x.mp4")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"camera_move": "moonwalk"}, "unknown camera move"),
        ({"lighting": "disco"}, "unknown lighting"),
        ({"width": 161, "height": 284}, "even numbers"),
        ({"width": 160, "height": None}, "both width and height"),
        ({"width": None, "height": None, "aspect_ratio": "2:1"}, "unknown aspect ratio"),
        ({"duration": 0}, "duration"),
        ({"fps": 0}, "fps"),
        ({"seed": -3}, "seed"),
        ({"palette": ("not-a-colour",)}, "hex colour"),
        ({"image_path": "/nonexistent/ref.png"}, "not found"),
    ],
)
def test_it_refuses_bad_requests(tmp_path, overrides, message):
    with pytest.raises(AnimaticError, match=message):
        render_animatic(_request(**overrides), tmp_path / "bad.mp4")
    assert list(tmp_path.iterdir()) == []


def test_it_refuses_an_unreadable_image(tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(AnimaticError, match="cannot read reference image"):
        render_animatic(_request(image_path=broken), tmp_path / "bad.mp4")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.png"]


def test_it_accepts_transparent_and_tiny_images(tmp_path, probe):
    tiny = tmp_path / "tiny.png"
    image = Image.new("RGBA", (7, 5), (0, 0, 0, 0))
    ImageDraw.Draw(image).point((3, 2), fill=(255, 0, 0, 255))
    image.save(tiny)
    out = tmp_path / "tiny.mp4"
    render_animatic(_request(image_path=tiny, duration=0.25), out)
    assert (probe(out)["width"], probe(out)["height"]) == (160, 284)


def test_it_has_a_grade_and_a_motion_for_every_strategy_choice():
    for move in strategy.CAMERA_MOVES.values():
        state = animatic.camera_state(move, 0.5, duration=6, seed=1)
        assert state.zoom >= 1.0
    assert {lt.grade for lt in strategy.LIGHTINGS.values()} <= set(animatic.GRADES)


@pytest.mark.parametrize(
    ("prompt", "title"),
    [
        ("A cinematic shot of a red sports car drifting through neon Tokyo streets at night", "Red sports car drifting through neon"),
        ("the new Aurum watch. Filmed on black marble", "New Aurum watch"),
        ("Video of happy dogs; slow motion", "Happy dogs"),
    ],
)
def test_it_derives_the_key_phrase_from_the_prompt(prompt, title):
    assert derive_title(prompt) == title


def test_it_renders_the_animatic_of_a_shot_strategy(tmp_path, probe):
    shot = strategy.build_strategy(
        prompt="Iced coffee splash in slow motion", mood=90, aspect_ratio="1:1", duration=2, palette=("#3b1f0e", "#f2c14e")
    )
    request = AnimaticRequest.from_strategy(shot, resolution="480p", fps=12)
    assert (request.camera_move, request.lighting, request.mood_category) == (shot.camera_move, shot.lighting, "high_energy")
    out = tmp_path / "shot.mp4"
    render_animatic(request, out)
    info = probe(out)
    assert (info["width"], info["height"], info["frames"]) == (480, 480, 24)
