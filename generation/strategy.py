"""Video strategy: mood to camera, lighting and keywords; platform pacing; prompt enrichment.

Pure Python (no Django). The generation services turn a user's request into a
``ShotStrategy`` here; provider adapters read its enriched prompt, and the embedded
animatic renderer (``generation.animatic``) reads its camera move and lighting.

Mood boundaries are lower-inclusive: [0, 25) surreal_trip, [25, 50) intimate_story,
[50, 75) luxury_reveal, [75, 100] high_energy. So 25 is intimate, 50 luxury, 75 and
100 high energy: each category owns its lower bound, and the top one also owns 100.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import asdict, dataclass, field
from typing import Any

# --- vocabulary ----------------------------------------------------------------------------------

# Motion kinds the animatic renderer implements (see generation/animatic.py).
MOTION_KINDS: tuple[str, ...] = (
    "push_in",
    "pull_out",
    "dolly_zoom",
    "vertical_travel",
    "horizontal_travel",
    "whip_pan",
    "crash_zoom",
    "spiral_zoom",
    "orbit",
    "handheld_drift",
    "fpv_rush",
    "fly_through",
    "rack_focus",
    "roll",
    "float",
)


@dataclass(frozen=True)
class CameraMove:
    key: str
    label: str
    phrase: str  # vocabulary that goes into provider prompts
    motion: str  # one of MOTION_KINDS, for the animatic
    direction: str = ""  # "left"/"right"/"up"/"down"/"cw"/"ccw" where the kind has one
    intensity: float = 1.0  # 1.0 is the kind's normal strength


@dataclass(frozen=True)
class Lighting:
    key: str
    label: str
    phrase: str  # vocabulary that goes into provider prompts
    grade: str  # colour grade name the animatic applies (same as key today)


CAMERA_MOVES: dict[str, CameraMove] = {
    m.key: m
    for m in (
        # surreal_trip
        CameraMove("fpv_drone", "FPV drone", "FPV drone shot rushing forward with banking rolls", "fpv_rush"),
        CameraMove("crash_zoom_in", "Crash zoom in", "sudden crash zoom into the subject", "crash_zoom"),
        CameraMove("whip_pan_right", "Whip pan right", "fast whip pan to the right with motion blur", "whip_pan", "right"),
        CameraMove("barrel_roll", "Barrel roll", "disorienting barrel roll, camera rotating on its axis", "roll", "cw"),
        CameraMove("dream_float", "Dream float", "weightless floating camera drifting like a dream", "float"),
        # intimate_story
        CameraMove("dolly_slow", "Slow dolly in", "slow dolly in toward the subject", "push_in", "", 0.5),
        CameraMove("crane_up", "Crane up", "gentle crane shot rising upward", "vertical_travel", "up"),
        CameraMove("pan_slow", "Slow pan", "slow lateral pan from left to right", "horizontal_travel", "right", 0.6),
        CameraMove("tilt_down", "Tilt down", "slow tilt down revealing the scene", "vertical_travel", "down", 0.7),
        # luxury_reveal
        CameraMove("static_focus", "Static focus pull", "locked-off static shot with a rack focus pull", "rack_focus"),
        CameraMove("handheld_subtle", "Subtle handheld", "subtle handheld camera with natural micro-movement", "handheld_drift"),
        CameraMove("dolly_zoom", "Dolly zoom", "vertigo dolly zoom, background warping around the subject", "dolly_zoom"),
        CameraMove("dolly", "Dolly in", "smooth dolly push-in", "push_in"),
        CameraMove("orbit_slow", "Slow orbit", "slow orbit around the subject", "orbit", "cw", 0.5),
        CameraMove("pull_out", "Pull-out reveal", "pull-back reveal from a detail to the full scene", "pull_out"),
        # high_energy
        CameraMove("bullet_time", "Bullet time", "bullet-time orbit, frozen moment", "orbit", "ccw", 1.0),
        CameraMove("spiral_zoom", "Spiral zoom", "spiral zoom, rotating while zooming in", "spiral_zoom", "cw"),
        CameraMove("through_object", "Through object", "camera flies through the object into the next space", "fly_through"),
        CameraMove("whip_pan_left", "Whip pan left", "fast whip pan to the left with motion blur", "whip_pan", "left"),
    )
}

LIGHTINGS: dict[str, Lighting] = {
    lt.key: lt
    for lt in (
        Lighting("high_contrast", "High contrast", "high-contrast lighting with deep blacks", "high_contrast"),
        Lighting("neon_glow", "Neon glow", "saturated neon glow in magenta and cyan", "neon_glow"),
        Lighting("iridescent", "Iridescent", "iridescent, shifting holographic light", "iridescent"),
        Lighting("golden_hour", "Golden hour", "warm golden hour sunlight", "golden_hour"),
        Lighting("soft_key", "Soft key", "soft diffused key light, gentle shadows", "soft_key"),
        Lighting("candlelight", "Candlelight", "intimate flickering candlelight", "candlelight"),
        Lighting("natural", "Natural", "natural daylight, true-to-life colour", "natural"),
        Lighting("warm_ambient", "Warm ambient", "warm ambient interior light", "warm_ambient"),
        Lighting("rim_light", "Rim light", "elegant rim light sculpting the silhouette", "rim_light"),
        Lighting("neon_noir", "Neon noir", "neon noir, wet reflections, moody contrast", "neon_noir"),
        Lighting("volumetric", "Volumetric", "volumetric light beams through haze", "volumetric"),
        Lighting("strobe", "Strobe", "pulsing strobe light", "strobe"),
    )
}


@dataclass(frozen=True)
class MoodProfile:
    key: str
    label: str
    camera_moves: tuple[str, ...]
    lighting: tuple[str, ...]
    keywords: tuple[str, ...]
    pacing: str
    cut_seconds: float
    mood_min: float  # inclusive
    mood_max: float  # exclusive, except the top category which includes 100


MOODS: tuple[MoodProfile, ...] = (
    MoodProfile(
        key="surreal_trip",
        label="Surreal trip",
        camera_moves=("fpv_drone", "crash_zoom_in", "whip_pan_right", "barrel_roll", "dream_float"),
        lighting=("high_contrast", "neon_glow", "iridescent"),
        keywords=("surreal", "dreamlike", "impossible geometry", "psychedelic", "otherworldly", "hypnotic", "fluid transitions"),
        pacing="unpredictable rhythm: long dreamy drifts broken by sudden fast moves",
        cut_seconds=2.5,
        mood_min=0,
        mood_max=25,
    ),
    MoodProfile(
        key="intimate_story",
        label="Intimate story",
        camera_moves=("dolly_slow", "crane_up", "pan_slow", "tilt_down"),
        lighting=("golden_hour", "soft_key", "candlelight"),
        keywords=("intimate", "authentic", "emotional", "heartfelt", "cinematic storytelling", "shallow depth of field", "tender"),
        pacing="slow and lingering; let moments breathe",
        cut_seconds=4.0,
        mood_min=25,
        mood_max=50,
    ),
    MoodProfile(
        key="luxury_reveal",
        label="Luxury reveal",
        camera_moves=("static_focus", "handheld_subtle", "dolly_zoom", "dolly", "orbit_slow", "pull_out"),
        lighting=("natural", "warm_ambient", "rim_light"),
        keywords=("luxurious", "elegant", "premium", "refined", "minimalist", "exquisite detail", "polished"),
        pacing="measured and deliberate; slow reveals with confident holds",
        cut_seconds=3.0,
        mood_min=50,
        mood_max=75,
    ),
    MoodProfile(
        key="high_energy",
        label="High energy",
        camera_moves=("bullet_time", "spiral_zoom", "through_object", "whip_pan_left"),
        lighting=("neon_noir", "volumetric", "strobe"),
        keywords=("dynamic", "explosive", "kinetic", "bold", "adrenaline", "punchy", "fast-paced"),
        pacing="fast cuts on the beat; hook in the first second",
        cut_seconds=1.2,
        mood_min=75,
        mood_max=100,
    ),
)
MOODS_BY_KEY: dict[str, MoodProfile] = {m.key: m for m in MOODS}

# --- platforms, aspect ratios, resolutions -------------------------------------------------------

ASPECT_RATIOS: dict[str, tuple[int, int]] = {"9:16": (9, 16), "16:9": (16, 9), "1:1": (1, 1), "4:5": (4, 5)}

# Short side in pixels; the long side follows from the aspect ratio (rounded to even).
RESOLUTIONS: dict[str, int] = {"480p": 480, "720p": 720, "1080p": 1080}


@dataclass(frozen=True)
class PlatformSpec:
    key: str
    label: str
    aspect_ratio: str
    min_duration: float
    max_duration: float
    default_duration: float
    pacing: str


PLATFORMS: dict[str, PlatformSpec] = {
    p.key: p
    for p in (
        PlatformSpec("tiktok", "TikTok", "9:16", 3, 60, 15, "hook in the first second, cut every 1-2 s, loopable ending"),
        PlatformSpec("reels", "Instagram Reels", "9:16", 3, 90, 15, "strong opening frame, cut every 2-3 s, on-beat transitions"),
        PlatformSpec("shorts", "YouTube Shorts", "9:16", 3, 60, 20, "front-load the payoff, cut every 2-3 s"),
        PlatformSpec("youtube", "YouTube", "16:9", 6, 180, 30, "brand within 5 s (before the skip button), cut every 3-5 s"),
        PlatformSpec("feed_square", "Square feed", "1:1", 3, 60, 15, "readable with sound off, cut every 2-4 s"),
        PlatformSpec("feed_portrait", "Portrait feed", "4:5", 3, 60, 15, "readable with sound off, cut every 2-4 s"),
    )
}

# Without a platform a strategy describes one generated clip.
CLIP_MIN_DURATION = 1.0
CLIP_MAX_DURATION = 180.0
CLIP_DEFAULT_DURATION = 6.0
DEFAULT_ASPECT_RATIO = "9:16"

DEFAULT_NEGATIVE_PROMPT = (
    "blurry, low resolution, jpeg artifacts, watermark, garbled text, distorted logo, "
    "deformed hands, extra limbs, distorted faces, flicker, warped geometry, oversaturated"
)

KEYWORDS_PER_STRATEGY = 3
MAX_VARIATIONS = 12


def dimensions_for(*, aspect_ratio: str, resolution: str = "720p") -> tuple[int, int]:
    """Width and height for an aspect ratio at a resolution (short side), both even."""
    if aspect_ratio not in ASPECT_RATIOS:
        raise ValueError(f"unknown aspect ratio {aspect_ratio!r}; expected one of {', '.join(ASPECT_RATIOS)}")
    if resolution not in RESOLUTIONS:
        raise ValueError(f"unknown resolution {resolution!r}; expected one of {', '.join(RESOLUTIONS)}")
    short = RESOLUTIONS[resolution]
    aw, ah = ASPECT_RATIOS[aspect_ratio]
    if aw <= ah:
        return short, _even(short * ah / aw)
    return _even(short * aw / ah), short


def _even(value: float) -> int:
    return max(2, int(round(value / 2.0)) * 2)


# --- mood ---------------------------------------------------------------------------------------


def _check_mood(mood: float) -> float:
    if isinstance(mood, bool) or not isinstance(mood, (int, float)):
        raise ValueError(f"mood must be a number from 0 to 100, got {mood!r}")
    if math.isnan(mood) or mood < 0 or mood > 100:
        raise ValueError(f"mood must be from 0 to 100, got {mood}")
    return float(mood)


def mood_profile(mood: float) -> MoodProfile:
    """The category of a mood score (0-100); see the module docstring for boundaries."""
    value = _check_mood(mood)
    for profile in MOODS:
        if profile.mood_min <= value < profile.mood_max:
            return profile
    return MOODS[-1]  # exactly 100


def suggest(mood: float) -> dict[str, Any]:
    """What the Generate page shows for a mood: its category and the moves and lighting it uses."""
    profile = mood_profile(mood)
    return {
        "mood": _check_mood(mood),
        "category": profile.key,
        "label": profile.label,
        "camera_moves": [
            {"key": k, "label": CAMERA_MOVES[k].label, "phrase": CAMERA_MOVES[k].phrase} for k in profile.camera_moves
        ],
        "lighting": [{"key": k, "label": LIGHTINGS[k].label, "phrase": LIGHTINGS[k].phrase} for k in profile.lighting],
        "keywords": list(profile.keywords),
        "pacing": profile.pacing,
        "cut_seconds": profile.cut_seconds,
    }


# --- palette names ------------------------------------------------------------------------------

# A small, marketing-friendly colour vocabulary; hex colours map to the nearest name.
_COLOUR_NAMES: tuple[tuple[str, tuple[int, int, int]], ...] = (
    ("black", (10, 10, 10)),
    ("charcoal", (54, 69, 79)),
    ("slate grey", (112, 128, 144)),
    ("silver", (192, 192, 192)),
    ("white", (250, 250, 250)),
    ("ivory", (255, 250, 230)),
    ("cream", (245, 235, 205)),
    ("beige", (220, 200, 170)),
    ("sand", (194, 178, 128)),
    ("champagne gold", (215, 190, 130)),
    ("gold", (212, 175, 55)),
    ("mustard yellow", (225, 173, 1)),
    ("sunshine yellow", (255, 221, 51)),
    ("lemon", (250, 250, 120)),
    ("orange", (255, 140, 0)),
    ("terracotta", (204, 102, 68)),
    ("coral", (255, 127, 100)),
    ("peach", (255, 200, 160)),
    ("salmon pink", (250, 150, 140)),
    ("red", (220, 30, 30)),
    ("crimson", (165, 20, 45)),
    ("burgundy", (110, 20, 40)),
    ("brown", (120, 75, 40)),
    ("chocolate", (70, 40, 25)),
    ("blush pink", (245, 190, 200)),
    ("hot pink", (255, 50, 150)),
    ("magenta", (220, 0, 200)),
    ("plum", (110, 40, 90)),
    ("lavender", (190, 170, 230)),
    ("violet", (130, 60, 200)),
    ("deep purple", (60, 20, 90)),
    ("indigo", (50, 40, 130)),
    ("navy", (15, 30, 80)),
    ("midnight blue", (20, 25, 50)),
    ("royal blue", (40, 80, 210)),
    ("electric blue", (30, 140, 255)),
    ("sky blue", (135, 200, 240)),
    ("teal", (0, 128, 128)),
    ("turquoise", (60, 210, 200)),
    ("cyan", (0, 230, 240)),
    ("mint", (170, 240, 200)),
    ("sage green", (150, 175, 140)),
    ("emerald", (20, 150, 90)),
    ("forest green", (30, 80, 40)),
    ("olive", (120, 120, 40)),
    ("lime", (170, 230, 50)),
)

_HEX_RE = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def parse_hex(colour: str) -> tuple[int, int, int]:
    """'#1a2b3c', '1a2b3c' or '#abc' to an (r, g, b) tuple."""
    match = _HEX_RE.match(colour.strip()) if isinstance(colour, str) else None
    if not match:
        raise ValueError(f"palette colour must be a hex colour like '#1a2b3c', got {colour!r}")
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def colour_name(colour: str) -> str:
    """The nearest readable name for a hex colour (weighted RGB distance, close to perceived)."""
    r, g, b = parse_hex(colour)

    def distance(ref: tuple[int, int, int]) -> float:
        # "redmean" weighting: cheap and much closer to perception than plain RGB distance.
        rm = (r + ref[0]) / 2
        dr, dg, db = r - ref[0], g - ref[1], b - ref[2]
        return (2 + rm / 256) * dr * dr + 4 * dg * dg + (2 + (255 - rm) / 256) * db * db

    return min(_COLOUR_NAMES, key=lambda item: distance(item[1]))[0]


def palette_names(palette: tuple[str, ...] | list[str]) -> list[str]:
    names: list[str] = []
    for colour in palette:
        name = colour_name(colour)
        if name not in names:
            names.append(name)
    return names


# --- prompts ------------------------------------------------------------------------------------


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip().rstrip(".;,").strip()


def enrich_prompt(
    *,
    prompt: str,
    tone: str = "",
    palette: tuple[str, ...] | list[str] = (),
    element_descriptions: tuple[str, ...] | list[str] = (),
    camera_move: str,
    lighting: str,
    keywords: tuple[str, ...] | list[str] = (),
) -> str:
    """One provider-ready prompt: subject, elements, camera, lighting, palette, tone, style words."""
    subject = _clean(prompt)
    if not subject:
        raise ValueError("prompt must not be empty")
    move = _camera(camera_move)
    light = _lighting(lighting)
    parts = [subject + "."]
    elements = [_clean(d) for d in element_descriptions if _clean(d)]
    if elements:
        parts.append("Featuring " + "; ".join(elements) + ".")
    parts.append(f"Camera: {move.phrase}.")
    parts.append(f"Lighting: {light.phrase}.")
    names = palette_names(tuple(palette))
    if names:
        parts.append("Colour palette: " + ", ".join(names) + ".")
    if _clean(tone):
        parts.append(f"Tone: {_clean(tone)}.")
    words = [_clean(k) for k in keywords if _clean(k)]
    if words:
        parts.append("Style: " + ", ".join(words) + ".")
    return " ".join(parts)


def _camera(key: str) -> CameraMove:
    try:
        return CAMERA_MOVES[key]
    except KeyError:
        raise ValueError(f"unknown camera move {key!r}; expected one of {', '.join(CAMERA_MOVES)}") from None


def _lighting(key: str) -> Lighting:
    try:
        return LIGHTINGS[key]
    except KeyError:
        raise ValueError(f"unknown lighting {key!r}; expected one of {', '.join(LIGHTINGS)}") from None


def _label(table: dict, key: str) -> str:
    """The name ``table`` gives ``key``; a key no longer in the table is shown as it is."""
    return table[key].label if key in table else key


def category_label(key: str) -> str:
    """A mood category as the studio names it ("Luxury reveal")."""
    return _label(MOODS_BY_KEY, key)


def look_label(camera_move: str, lighting: str) -> str:
    """A shot's camera move and lighting as the studio names them ("Static focus pull / Natural")."""
    return f"{_label(CAMERA_MOVES, camera_move)} / {_label(LIGHTINGS, lighting)}"


# --- strategies ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShotStrategy:
    prompt: str
    enriched_prompt: str
    negative_prompt: str
    mood: float
    category: str
    camera_move: str
    motion: str  # the camera move's motion kind, for the animatic
    lighting: str
    keywords: tuple[str, ...]
    platform: str | None
    aspect_ratio: str
    duration: float
    cut_seconds: float
    pacing: str
    seed: int
    palette: tuple[str, ...] = field(default=())
    tone: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["keywords"] = list(self.keywords)
        data["palette"] = list(self.palette)
        return data


def build_strategy(
    *,
    prompt: str,
    mood: float,
    platform: str | None = None,
    aspect_ratio: str | None = None,
    duration: float | None = None,
    tone: str = "",
    palette: tuple[str, ...] | list[str] = (),
    element_descriptions: tuple[str, ...] | list[str] = (),
    seed: int = 0,
    camera_move: str | None = None,
    lighting: str | None = None,
) -> ShotStrategy:
    """A deterministic shot strategy for one generation.

    Camera move and lighting come from the mood's lists, picked by ``seed`` so that
    consecutive seeds walk through every (move, lighting) pair before repeating; past
    that, the seed picks a different set of style keywords. An explicit ``camera_move``
    or ``lighting`` (any known key) is kept. Duration is clamped to the platform's range
    (or the clip range without one); the aspect ratio comes from the platform unless given.
    """
    if not _clean(prompt):
        raise ValueError("prompt must not be empty")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    profile = mood_profile(mood)
    spec: PlatformSpec | None = None
    if platform:
        if platform not in PLATFORMS:
            raise ValueError(f"unknown platform {platform!r}; expected one of {', '.join(PLATFORMS)}")
        spec = PLATFORMS[platform]
    if aspect_ratio is not None and aspect_ratio not in ASPECT_RATIOS:
        raise ValueError(f"unknown aspect ratio {aspect_ratio!r}; expected one of {', '.join(ASPECT_RATIOS)}")
    aspect = aspect_ratio or (spec.aspect_ratio if spec else DEFAULT_ASPECT_RATIO)

    low, high, default = (
        (spec.min_duration, spec.max_duration, spec.default_duration)
        if spec
        else (CLIP_MIN_DURATION, CLIP_MAX_DURATION, CLIP_DEFAULT_DURATION)
    )
    if duration is None:
        length = float(default)
    else:
        if isinstance(duration, bool) or not isinstance(duration, (int, float)) or not math.isfinite(duration) or duration <= 0:
            raise ValueError(f"duration must be a positive number of seconds, got {duration!r}")
        length = float(min(max(duration, low), high))

    moves = (_camera(camera_move).key,) if camera_move else profile.camera_moves
    lights = (_lighting(lighting).key,) if lighting else profile.lighting
    combos = len(moves) * len(lights)
    index, cycle = seed % combos, seed // combos
    # Lighting is offset by the move index so consecutive seeds change both at once;
    # for a fixed move the offsets still cover every lighting, so the map is a bijection.
    move_i = index % len(moves)
    move_key, light_key = moves[move_i], lights[(index // len(moves) + move_i) % len(lights)]
    # Cycle 0 keeps the profile's leading keywords; later cycles sample other sets.
    if cycle == 0:
        words = profile.keywords[:KEYWORDS_PER_STRATEGY]
    else:
        words = tuple(random.Random(f"{profile.key}:{cycle}").sample(profile.keywords, KEYWORDS_PER_STRATEGY))

    palette_t = tuple(palette)
    for colour in palette_t:
        parse_hex(colour)
    enriched = enrich_prompt(
        prompt=prompt,
        tone=tone,
        palette=palette_t,
        element_descriptions=element_descriptions,
        camera_move=move_key,
        lighting=light_key,
        keywords=words,
    )
    return ShotStrategy(
        prompt=_clean(prompt),
        enriched_prompt=enriched,
        negative_prompt=DEFAULT_NEGATIVE_PROMPT,
        mood=_check_mood(mood),
        category=profile.key,
        camera_move=move_key,
        motion=CAMERA_MOVES[move_key].motion,
        lighting=light_key,
        keywords=tuple(words),
        platform=spec.key if spec else None,
        aspect_ratio=aspect,
        duration=length,
        cut_seconds=profile.cut_seconds,
        pacing=spec.pacing if spec else profile.pacing,
        seed=seed,
        palette=palette_t,
        tone=_clean(tone),
    )


def strategy_variations(*, prompt: str, mood: float, count: int, seed: int = 0, **same_kwargs: Any) -> list[ShotStrategy]:
    """``count`` (1-12) strategies with pairwise distinct enriched prompts.

    Variation i starts from seed ``seed + i``, so the first ones use distinct
    (camera, lighting) pairs; once the pairs run out the keywords differ instead.
    """
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_VARIATIONS:
        raise ValueError(f"count must be an integer from 1 to {MAX_VARIATIONS}, got {count!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if "seed" in same_kwargs:
        raise ValueError("pass seed once")
    first = build_strategy(prompt=prompt, mood=mood, seed=seed, **same_kwargs)
    profile = MOODS_BY_KEY[first.category]
    moves = 1 if same_kwargs.get("camera_move") else len(profile.camera_moves)
    lights = 1 if same_kwargs.get("lighting") else len(profile.lighting)
    combos = moves * lights

    results = [first]
    seen = {first.enriched_prompt}
    for i in range(1, count):
        candidate_seed = seed + i
        for _ in range(64):  # keyword sets are many (35 per mood); a clash is rare
            strategy = build_strategy(prompt=prompt, mood=mood, seed=candidate_seed, **same_kwargs)
            if strategy.enriched_prompt not in seen:
                break
            candidate_seed += combos
        else:  # pragma: no cover - needs > 64 keyword clashes in a row
            raise ValueError("could not find enough distinct variations")
        seen.add(strategy.enriched_prompt)
        results.append(strategy)
    return results
