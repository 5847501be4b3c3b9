from __future__ import annotations

import json
import math

import pytest

from generation import strategy
from generation.strategy import (
    CAMERA_MOVES,
    LIGHTINGS,
    MOODS_BY_KEY,
    MOTION_KINDS,
    PLATFORMS,
    build_strategy,
    colour_name,
    dimensions_for,
    enrich_prompt,
    mood_profile,
    strategy_variations,
    suggest,
)


@pytest.mark.parametrize(
    ("mood", "category"),
    [
        (0, "surreal_trip"),
        (24.99, "surreal_trip"),
        (25, "intimate_story"),
        (49.9, "intimate_story"),
        (50, "luxury_reveal"),
        (74.999, "luxury_reveal"),
        (75, "high_energy"),
        (100, "high_energy"),
    ],
)
def test_it_maps_mood_to_category_with_lower_inclusive_boundaries(mood, category):
    assert mood_profile(mood).key == category


@pytest.mark.parametrize("mood", [-0.1, 100.01, math.nan, "50", None, True])
def test_it_refuses_a_mood_outside_0_to_100(mood):
    with pytest.raises(ValueError, match="mood"):
        mood_profile(mood)


def test_it_includes_every_named_camera_move_and_lighting_in_its_category():
    named = {
        "surreal_trip": ({"fpv_drone", "crash_zoom_in", "whip_pan_right"}, {"high_contrast", "neon_glow"}),
        "intimate_story": ({"dolly_slow", "crane_up", "pan_slow"}, {"golden_hour", "soft_key"}),
        "luxury_reveal": ({"static_focus", "handheld_subtle", "dolly_zoom"}, {"natural", "warm_ambient"}),
        "high_energy": ({"bullet_time", "spiral_zoom", "through_object"}, {"neon_noir", "volumetric"}),
    }
    for key, (moves, lights) in named.items():
        profile = MOODS_BY_KEY[key]
        assert moves <= set(profile.camera_moves)
        assert lights <= set(profile.lighting)
        assert len(profile.keywords) >= 5 and profile.cut_seconds > 0 and profile.pacing


def test_it_gives_every_move_and_lighting_a_phrase_and_every_move_a_motion_kind():
    for profile in MOODS_BY_KEY.values():
        for key in profile.camera_moves:
            move = CAMERA_MOVES[key]
            assert move.phrase and move.motion in MOTION_KINDS
        for key in profile.lighting:
            assert LIGHTINGS[key].phrase
    used = {m.motion for m in CAMERA_MOVES.values()}
    assert used == set(MOTION_KINDS)


def test_it_names_palette_colours():
    assert colour_name("#000000") == "black"
    assert colour_name("#D4AF37") == "gold"
    assert colour_name("0a1a4f") == "navy"
    assert colour_name("#f0f") == "magenta"
    with pytest.raises(ValueError, match="hex colour"):
        colour_name("blue")


def test_it_enriches_the_prompt_with_universe_elements_camera_and_lighting():
    text = enrich_prompt(
        prompt="A runner at dawn on a coastal road.",
        tone="hopeful, understated",
        palette=("#D4AF37", "#0a1a4f"),
        element_descriptions=("Mara, a runner in a red windbreaker", "Stride One shoes, white with a gold sole"),
        camera_move="crane_up",
        lighting="golden_hour",
        keywords=("intimate", "authentic"),
    )
    assert text.startswith("A runner at dawn on a coastal road.")
    for part in (
        "hopeful, understated",
        "gold, navy",
        "Mara, a runner in a red windbreaker",
        "Stride One shoes",
        CAMERA_MOVES["crane_up"].phrase,
        LIGHTINGS["golden_hour"].phrase,
        "intimate, authentic",
    ):
        assert part in text
    assert ".." not in text


def test_it_refuses_unknown_vocabulary_and_empty_prompts():
    with pytest.raises(ValueError, match="unknown camera move"):
        enrich_prompt(prompt="x", camera_move="moonwalk", lighting="natural")
    with pytest.raises(ValueError, match="unknown lighting"):
        enrich_prompt(prompt="x", camera_move="dolly", lighting="disco")
    with pytest.raises(ValueError, match="prompt"):
        build_strategy(prompt="   ", mood=10)


def test_it_builds_a_deterministic_strategy_within_the_mood():
    a = build_strategy(prompt="A perfume bottle on silk", mood=60, seed=3, tone="quiet", palette=("#111111",))
    b = build_strategy(prompt="A perfume bottle on silk", mood=60, seed=3, tone="quiet", palette=("#111111",))
    assert a == b
    assert a.category == "luxury_reveal"
    assert a.camera_move in MOODS_BY_KEY["luxury_reveal"].camera_moves
    assert a.lighting in MOODS_BY_KEY["luxury_reveal"].lighting
    assert a.motion == CAMERA_MOVES[a.camera_move].motion
    assert a.negative_prompt == strategy.DEFAULT_NEGATIVE_PROMPT
    assert (a.aspect_ratio, a.duration, a.platform) == ("9:16", 6.0, None)
    assert json.loads(json.dumps(a.to_dict()))["keywords"] == list(a.keywords)


def test_it_takes_aspect_and_duration_limits_from_the_platform():
    youtube = build_strategy(prompt="x", mood=80, platform="youtube")
    assert (youtube.aspect_ratio, youtube.duration) == ("16:9", PLATFORMS["youtube"].default_duration)
    assert build_strategy(prompt="x", mood=80, platform="tiktok", duration=600).duration == 60
    assert build_strategy(prompt="x", mood=80, platform="tiktok", duration=1).duration == 3
    assert build_strategy(prompt="x", mood=80, platform="reels", duration=20).duration == 20
    assert build_strategy(prompt="x", mood=80, platform="feed_portrait").aspect_ratio == "4:5"
    assert build_strategy(prompt="x", mood=80, platform="tiktok", aspect_ratio="1:1").aspect_ratio == "1:1"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"platform": "myspace"}, "unknown platform"),
        ({"aspect_ratio": "21:9"}, "unknown aspect ratio"),
        ({"duration": -1}, "duration"),
        ({"seed": -1}, "seed"),
        ({"camera_move": "moonwalk"}, "unknown camera move"),
        ({"palette": ("#12345",)}, "hex colour"),
        ({"mood": 101}, "mood"),
    ],
)
def test_it_refuses_invalid_strategy_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_strategy(**{"prompt": "x", "mood": 50, **kwargs})


def test_it_keeps_an_explicit_camera_move_and_lighting():
    s = build_strategy(prompt="x", mood=10, camera_move="dolly", lighting="strobe", seed=5)
    assert (s.camera_move, s.lighting, s.category) == ("dolly", "strobe", "surreal_trip")


def test_it_makes_variations_with_distinct_camera_and_lighting_first():
    profile = MOODS_BY_KEY["intimate_story"]
    combos = len(profile.camera_moves) * len(profile.lighting)
    variations = strategy_variations(prompt="Two friends share a coffee", mood=30, count=12, seed=4, platform="reels")
    assert len(variations) == 12
    pairs = [(v.camera_move, v.lighting) for v in variations]
    assert len(set(pairs[:combos])) == min(combos, 12)
    assert pairs[0] != pairs[1] and pairs[0][0] != pairs[1][0] and pairs[0][1] != pairs[1][1]
    assert len({v.enriched_prompt for v in variations}) == 12
    assert all(v.platform == "reels" and v.aspect_ratio == "9:16" for v in variations)


def test_it_varies_keywords_when_camera_and_lighting_are_fixed():
    variations = strategy_variations(prompt="x", mood=90, count=12, camera_move="dolly", lighting="natural")
    assert {(v.camera_move, v.lighting) for v in variations} == {("dolly", "natural")}
    assert len({v.enriched_prompt for v in variations}) == 12
    assert len({v.keywords for v in variations}) == 12


@pytest.mark.parametrize("count", [0, 13, 2.5, True])
def test_it_refuses_a_variation_count_outside_1_to_12(count):
    with pytest.raises(ValueError, match="count"):
        strategy_variations(prompt="x", mood=50, count=count)


def test_it_suggests_moves_and_lighting_for_the_generate_page():
    data = suggest(75)
    assert data["category"] == "high_energy"
    assert [m["key"] for m in data["camera_moves"]] == list(MOODS_BY_KEY["high_energy"].camera_moves)
    assert all(m["label"] and m["phrase"] for m in data["camera_moves"] + data["lighting"])
    json.dumps(data)


@pytest.mark.parametrize(
    ("aspect", "resolution", "size"),
    [("9:16", "720p", (720, 1280)), ("16:9", "1080p", (1920, 1080)), ("1:1", "480p", (480, 480)), ("4:5", "720p", (720, 900)), ("16:9", "480p", (854, 480))],
)
def test_it_sizes_frames_from_aspect_and_resolution(aspect, resolution, size):
    assert dimensions_for(aspect_ratio=aspect, resolution=resolution) == size
