"""Embedded "animatic" video renderer: the strategy's camera move and lighting as a real MP4.

With a reference image, the camera move plays over the image (cover-fitted to the frame);
without one, over a designed title card built from the universe palette and the key phrase.
Frames are drawn with Pillow (affine transforms give sub-pixel motion, so slow moves do not
jitter the way ffmpeg's integer-offset zoompan does) and streamed raw into ffmpeg, which
encodes H.264 (yuv420p, +faststart) at a constant frame rate. Everything is deterministic
for a given request and seed.

Motion kinds (``CameraMove.motion`` in generation/strategy.py):
  push_in        zoom in toward the centre (dolly, dolly_slow)
  pull_out       start close, ease back to the full frame (pull_out)
  dolly_zoom     steep ease-in-out push with a slight vertical stretch (dolly_zoom; a flat
                 image has no depth, so this approximates the vertigo look)
  vertical_travel  the view travels up (crane_up: content moves down) or down (tilt_down)
  horizontal_travel  slow lateral travel (pan_slow)
  whip_pan       hold, a fast motion-blurred swipe (~0.35 s), hold (whip_pan_left/right)
  crash_zoom     slow creep, then a sudden motion-blurred zoom to ~1.9x (crash_zoom_in)
  spiral_zoom    zoom in while rotating 25 degrees (spiral_zoom)
  orbit          rotation plus lateral arc travel (bullet_time, orbit_slow)
  handheld_drift small smooth drift and roll from seeded sines (handheld_subtle)
  fpv_rush       exponential forward rush with banking roll and sway (fpv_drone)
  fly_through    accelerating push into the centre ending in a flash (through_object)
  rack_focus     near-static frame pulling from soft to sharp focus (static_focus)
  roll           slow roll around the optical axis (barrel_roll)
  float          weightless drift: slow zoom, sway and tilt from seeded phases (dream_float)
Fast frames get real motion blur: several sub-frame renders are averaged.
"""

from __future__ import annotations

import math
import os
import random
import re
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageOps

from generation import strategy

FFMPEG_BIN = "ffmpeg"
FONT_PATH = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
LABEL_FONT_PATH = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
X264_PRESET = "veryfast"
X264_CRF = 20
MAX_SOURCE_PIXELS = 50_000_000  # refuse decompression bombs before decoding
MAX_OUTPUT_SIDE = 4096
MAX_DURATION = 180.0
# Palettes for the title card when the universe has none, by mood category.
DEFAULT_PALETTES: dict[str | None, tuple[str, ...]] = {
    "surreal_trip": ("#140b33", "#5b1f8f", "#00c2a8", "#ff4fd8"),
    "intimate_story": ("#24161b", "#7a3f3a", "#e39b73", "#f6d6ad"),
    "luxury_reveal": ("#0c0c0e", "#2b251d", "#c9a96e", "#f3e9d2"),
    "high_energy": ("#070b24", "#1f3dff", "#ff2e63", "#ffd400"),
    None: ("#0f1724", "#24405f", "#4f8cc9", "#f0c987"),
}
RENDER_THREADS = 0  # frame-rendering threads; 0 means one per CPU, at most 4
TEXT_PARALLAX = 0.3  # the title moves this fraction of the background's motion: depth, and crisp text

ProgressCallback = Callable[[int, str], None]
CancelCheck = Callable[[], bool]


class AnimaticError(Exception):
    """The animatic could not be rendered (bad request, unreadable image, ffmpeg failure)."""


class AnimaticCancelled(AnimaticError):
    """``should_cancel`` returned true; no output was left behind."""


@dataclass
class AnimaticRequest:
    prompt: str
    camera_move: str
    lighting: str
    aspect_ratio: str = "9:16"
    duration: float = 6.0
    resolution: str = "720p"  # short side; ignored when width and height are given
    width: int | None = None
    height: int | None = None
    fps: int = 24
    seed: int = 0
    image_path: str | os.PathLike[str] | None = None
    palette: tuple[str, ...] = ()
    title: str | None = None  # the key phrase on the title card; derived from the prompt when None
    mood_category: str | None = None

    @classmethod
    def from_strategy(
        cls,
        shot: strategy.ShotStrategy,
        *,
        image_path: str | os.PathLike[str] | None = None,
        resolution: str = "720p",
        fps: int = 24,
        title: str | None = None,
    ) -> AnimaticRequest:
        """The animatic of a shot strategy (its move, lighting, aspect, duration, palette, seed)."""
        return cls(
            prompt=shot.prompt,
            camera_move=shot.camera_move,
            lighting=shot.lighting,
            aspect_ratio=shot.aspect_ratio,
            duration=shot.duration,
            resolution=resolution,
            fps=fps,
            seed=shot.seed,
            image_path=image_path,
            palette=tuple(shot.palette),
            title=title,
            mood_category=shot.category,
        )


@dataclass(frozen=True)
class AnimaticResult:
    path: Path
    width: int
    height: int
    fps: int
    duration: float
    frame_count: int


# --- public entry point -------------------------------------------------------------------------


def render_animatic(
    request: AnimaticRequest,
    out_path: str | os.PathLike[str],
    *,
    progress: ProgressCallback | None = None,
    should_cancel: CancelCheck | None = None,
    timeout: float | None = None,
) -> AnimaticResult:
    """Render ``request`` to an H.264 MP4 at ``out_path``.

    The file appears atomically (written to a temporary name beside it, then renamed).
    ``progress(percent, message)`` is called from the calling thread as ffmpeg reports
    encoded time; ``should_cancel()`` is polled about every 0.2 s, and a true answer stops
    ffmpeg, removes the partial file and raises ``AnimaticCancelled``. Other failures raise
    ``AnimaticError``.
    """
    width, height = _frame_size(request)
    fps = request.fps
    if isinstance(fps, bool) or not isinstance(fps, int) or not 1 <= fps <= 60:
        raise AnimaticError(f"fps must be an integer from 1 to 60, got {fps!r}")
    if not isinstance(request.duration, (int, float)) or not 0 < request.duration <= MAX_DURATION:
        raise AnimaticError(f"duration must be between 0 and {MAX_DURATION:g} seconds, got {request.duration!r}")
    if isinstance(request.seed, bool) or not isinstance(request.seed, int) or request.seed < 0:
        raise AnimaticError(f"seed must be a non-negative integer, got {request.seed!r}")
    frame_count = max(1, int(round(request.duration * fps)))
    move = _lookup_move(request.camera_move)
    grade = _lookup_grade(request.lighting)

    out = Path(out_path)
    if not out.parent.is_dir():
        raise AnimaticError(f"output folder does not exist: {out.parent}")
    report = _Reporter(progress)
    report(0, "preparing scene")

    if request.image_path:
        background = _load_cover_image(Path(request.image_path), width, height)
        text_layer, hud = None, None
    else:
        background, text_layer, hud = _title_card(request, move, width, height)
    renderer = _FrameRenderer(
        background=_apply_grade(background, grade),
        text_layer=text_layer,
        hud=hud,
        move=move,
        grade=grade,
        width=width,
        height=height,
        fps=fps,
        frame_count=frame_count,
        seed=request.seed,
    )
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=".part.mp4", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        _encode(
            renderer,
            tmp,
            width=width,
            height=height,
            fps=fps,
            frame_count=frame_count,
            report=report,
            should_cancel=should_cancel,
            timeout=timeout if timeout is not None else 60.0 + frame_count * 0.5,
        )
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the result is an ordinary media file
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    report(100, "done")
    return AnimaticResult(
        path=out, width=width, height=height, fps=fps, duration=frame_count / fps, frame_count=frame_count
    )


def derive_title(prompt: str, *, max_words: int = 6) -> str:
    """The key phrase of a prompt: its first clause without filler, at most ``max_words`` words."""
    text = re.sub(r"\s+", " ", prompt or "").strip()
    clause = re.split(r"[.;:!?\n]| - |, (?:cinematic|shot|filmed|in the style)", text, maxsplit=1)[0]
    clause = re.sub(
        r"^(?:(?:a|an|the)\s+)?(?:(?:cinematic|close-up|wide|slow-motion|short)\s+)*"
        r"(?:(?:video|shot|clip|scene|film|footage|ad|commercial)\s+(?:of|showing|with)\s+)?",
        "",
        clause,
        flags=re.IGNORECASE,
    )
    clause = re.sub(r"^(?:a|an|the)\s+", "", clause, flags=re.IGNORECASE).strip(" ,")
    words = clause.split()[:max_words] or text.split()[:max_words]
    title = " ".join(words).strip(" ,")
    return title[:1].upper() + title[1:] if title else "Untitled"


# --- request checks -----------------------------------------------------------------------------


def _frame_size(request: AnimaticRequest) -> tuple[int, int]:
    if request.width is not None or request.height is not None:
        w, h = request.width, request.height
        if not isinstance(w, int) or not isinstance(h, int):
            raise AnimaticError("give both width and height, or neither")
        if w % 2 or h % 2 or not (16 <= w <= MAX_OUTPUT_SIDE and 16 <= h <= MAX_OUTPUT_SIDE):
            raise AnimaticError(f"width and height must be even numbers from 16 to {MAX_OUTPUT_SIDE}, got {w}x{h}")
        return w, h
    try:
        return strategy.dimensions_for(aspect_ratio=request.aspect_ratio, resolution=request.resolution)
    except ValueError as exc:
        raise AnimaticError(str(exc)) from None


def _lookup_move(key: str) -> strategy.CameraMove:
    try:
        return strategy.CAMERA_MOVES[key]
    except KeyError:
        raise AnimaticError(f"unknown camera move {key!r}; expected one of {', '.join(strategy.CAMERA_MOVES)}") from None


# --- colour grades ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grade:
    gain: tuple[float, float, float] = (1.0, 1.0, 1.0)
    saturation: float = 1.0
    contrast: float = 1.0
    lift: float = 0.0  # raises the blacks (haze, soft light)
    shadows: tuple[float, float, float] = (0.0, 0.0, 0.0)  # tint added in the shadows
    highlights: tuple[float, float, float] = (0.0, 0.0, 0.0)  # tint added in the highlights
    bloom: float = 0.0
    vignette: float = 0.25
    beams: float = 0.0  # volumetric light shafts, screen space
    iridescence: float = 0.0
    flicker: str = ""  # "", "candle", "strobe"


GRADES: dict[str, Grade] = {
    "natural": Grade(contrast=1.04, saturation=1.04, vignette=0.18),
    "high_contrast": Grade(contrast=1.38, saturation=0.92, vignette=0.4),
    "neon_glow": Grade(
        contrast=1.15, saturation=1.35, shadows=(0.0, 0.10, 0.22), highlights=(0.22, -0.04, 0.18), bloom=0.35, vignette=0.35
    ),
    "iridescent": Grade(saturation=1.2, contrast=1.06, bloom=0.25, iridescence=0.22, vignette=0.25),
    "golden_hour": Grade(
        gain=(1.08, 0.98, 0.80), saturation=1.12, contrast=1.06, shadows=(0.06, 0.02, -0.02), highlights=(0.10, 0.05, -0.06), bloom=0.3, vignette=0.3
    ),
    "soft_key": Grade(contrast=0.86, saturation=0.95, lift=0.05, gain=(1.02, 1.0, 0.98), bloom=0.3, vignette=0.15),
    "candlelight": Grade(
        gain=(1.1, 0.9, 0.68), saturation=1.05, contrast=1.1, shadows=(0.04, 0.0, -0.03), bloom=0.3, vignette=0.5, flicker="candle"
    ),
    "warm_ambient": Grade(gain=(1.06, 1.0, 0.9), saturation=1.05, contrast=0.97, lift=0.02, vignette=0.22),
    "rim_light": Grade(contrast=1.2, saturation=0.9, highlights=(0.06, 0.08, 0.12), bloom=0.2, vignette=0.45),
    "neon_noir": Grade(
        gain=(0.9, 0.9, 1.0), contrast=1.3, saturation=0.85, shadows=(0.0, 0.09, 0.14), highlights=(0.2, -0.02, 0.14), bloom=0.3, vignette=0.55
    ),
    "volumetric": Grade(contrast=1.08, lift=0.06, saturation=0.95, shadows=(0.0, 0.02, 0.05), bloom=0.4, beams=0.32, vignette=0.35),
    "strobe": Grade(contrast=1.25, saturation=1.1, vignette=0.35, flicker="strobe"),
}


def _lookup_grade(key: str) -> Grade:
    if not key:
        return GRADES["natural"]
    light = strategy.LIGHTINGS.get(key)
    if light is None:
        raise AnimaticError(f"unknown lighting {key!r}; expected one of {', '.join(strategy.LIGHTINGS)}")
    return GRADES[light.grade]


def _apply_grade(image: Image.Image, grade: Grade) -> Image.Image:
    """The lighting's colour grade, applied once to the source (it does not depend on the frame)."""
    x = np.asarray(image, dtype=np.float32) / 255.0
    x = x * np.array(grade.gain, dtype=np.float32)
    luma = x @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
    x = luma[..., None] + (x - luma[..., None]) * grade.saturation
    x = 0.5 + (x - 0.5) * grade.contrast
    luma = np.clip(luma, 0.0, 1.0)[..., None]
    x = x + np.array(grade.shadows, dtype=np.float32) * (1.0 - luma) ** 2 + np.array(grade.highlights, dtype=np.float32) * luma**2
    if grade.iridescence:
        h, w = x.shape[:2]
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        phase = (xx / w * 1.3 + yy / h * 0.9) * 2 * math.pi
        tint = np.stack([np.sin(phase), np.sin(phase + 2.1), np.sin(phase + 4.2)], axis=-1) * 0.5 + 0.5
        x = x * (1 - grade.iridescence) + tint * grade.iridescence * (0.4 + 0.6 * luma)
    x = grade.lift + np.clip(x, 0.0, 1.0) * (1.0 - grade.lift)
    out = Image.fromarray((np.clip(x, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8), "RGB")
    if grade.bloom:
        # Glow of the highlights only: threshold, blur, screen back on.
        radius = max(2.0, min(out.size) * 0.03)
        bright = np.clip((np.asarray(out, dtype=np.float32) / 255.0 - 0.6) / 0.4, 0.0, 1.0)
        glow = Image.fromarray((bright * 255).astype(np.uint8), "RGB").filter(ImageFilter.GaussianBlur(radius))
        g = np.asarray(glow, dtype=np.float32) / 255.0 * grade.bloom
        base = np.asarray(out, dtype=np.float32) / 255.0
        out = Image.fromarray((255.0 * (1 - (1 - base) * (1 - g)) + 0.5).astype(np.uint8), "RGB")
    return out


def _screen_layers(grade: Grade, width: int, height: int) -> tuple[Image.Image, Image.Image | None]:
    """Screen-space light: a multiply mask (vignette) and an additive layer (volumetric beams)."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    nx = (xx + 0.5) / width * 2 - 1
    ny = (yy + 0.5) / height * 2 - 1
    r = np.sqrt(nx * nx + ny * ny) / math.sqrt(2)
    edge = np.clip((r - 0.35) / 0.65, 0.0, 1.0)
    mult = 1.0 - grade.vignette * edge * edge * (3 - 2 * edge)
    beams = None
    if grade.beams:
        # Shafts falling diagonally from the top left, fading with distance.
        angle = math.radians(28)
        u = nx * math.cos(angle) - ny * math.sin(angle)
        shafts = sum(
            np.exp(-(((u - c) / w_) ** 2)) * s
            for c, w_, s in ((-0.55, 0.08, 1.0), (-0.2, 0.05, 0.7), (0.15, 0.1, 0.8), (0.5, 0.04, 0.5))
        )
        fall = np.clip(1.0 - (ny + 1) / 2 * 0.9 - (nx + 1) / 2 * 0.3, 0.0, 1.0)
        light = shafts * fall * grade.beams * 255.0
        beams = Image.fromarray(np.clip(np.stack([light, light * 0.96, light * 0.88], axis=-1), 0, 255).astype(np.uint8), "RGB")
        mult = mult * (1.0 - 0.25 * grade.beams * fall)
    m = (np.clip(mult, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return Image.fromarray(np.repeat(m[..., None], 3, axis=-1), "RGB"), beams


def _flicker(kind: str, t: float, seed: int) -> float:
    if kind == "strobe":
        # Bright pulses on a 120 bpm beat, decaying fast.
        beat = (t % 0.5) / 0.5
        return 1.0 + 0.35 * math.exp(-beat * 9.0)
    if kind == "candle":
        r = random.Random(seed)
        phases = [r.uniform(0, 2 * math.pi) for _ in range(3)]
        return 1.0 + 0.035 * (math.sin(t * 7.1 + phases[0]) + 0.6 * math.sin(t * 12.7 + phases[1]) + 0.4 * math.sin(t * 3.3 + phases[2]))
    return 1.0


# --- sources ------------------------------------------------------------------------------------


def _load_cover_image(path: Path, width: int, height: int) -> Image.Image:
    """The image, upright, scaled and centre-cropped to cover ``width`` x ``height`` at least."""
    if not path.is_file():
        raise AnimaticError(f"reference image not found: {path}")
    try:
        with Image.open(path) as im:
            if im.width * im.height > MAX_SOURCE_PIXELS:
                raise AnimaticError(f"reference image is too large ({im.width}x{im.height}, over {MAX_SOURCE_PIXELS} pixels)")
            scale = max(width / im.width, height / im.height)
            im.draft("RGB", (int(im.width * scale) + 1, int(im.height * scale) + 1))  # fast JPEG downscale on decode
            image = ImageOps.exif_transpose(im)
            if image.mode in ("RGBA", "LA", "P"):
                image = image.convert("RGBA")
                flat = Image.new("RGB", image.size, (0, 0, 0))
                flat.paste(image, mask=image.getchannel("A"))
                image = flat
            else:
                image = image.convert("RGB")
    except AnimaticError:
        raise
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise AnimaticError(f"cannot read reference image {path.name}: {exc}") from None
    scale = max(width / image.width, height / image.height)
    size = (max(width, math.ceil(image.width * scale)), max(height, math.ceil(image.height * scale)))
    resample = Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.BICUBIC
    return image.resize(size, resample, reducing_gap=3.0 if scale < 0.5 else None)


def _rgb(colour: str) -> tuple[int, int, int]:
    try:
        return strategy.parse_hex(colour)
    except ValueError as exc:
        raise AnimaticError(str(exc)) from None


def _luminance(c: tuple[int, int, int]) -> float:
    return (0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]) / 255.0


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return tuple(int(round(a[i] + (b[i] - a[i]) * t)) for i in range(3))  # type: ignore[return-value]


def _title_card(
    request: AnimaticRequest, move: strategy.CameraMove, width: int, height: int
) -> tuple[Image.Image, Image.Image, tuple[Image.Image, tuple[int, int]]]:
    """A designed scene for text-to-video: palette gradient, glows, streaks, bokeh; the title
    layer (moves with parallax) and a fixed corner tag with its position."""
    palette = tuple(request.palette) or DEFAULT_PALETTES.get(request.mood_category, DEFAULT_PALETTES[None])
    colours = sorted({_rgb(c) for c in palette}, key=_luminance)
    if len(colours) == 1:
        colours = [_mix(colours[0], (0, 0, 0), 0.6), colours[0]]
    rng = random.Random(f"animatic:{request.seed}")
    short = min(width, height)

    # Background: a diagonal gradient between the two darkest colours, kept deep so the
    # lights and the title read on top (a light palette still tints it).
    dark_a = _mix(colours[0], (0, 0, 0), 0.35)
    dark_b = _mix(colours[1], (0, 0, 0), 0.45)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    proj = ((xx - width / 2) * math.cos(angle) + (yy - height / 2) * math.sin(angle)) / (math.hypot(width, height) / 2)
    t = np.clip(proj * 0.5 + 0.5, 0, 1)[..., None]
    img = np.array(dark_a, dtype=np.float32) * (1 - t) + np.array(dark_b, dtype=np.float32) * t

    # Large soft glows in the brighter palette colours (screen blend).
    # Soft glows in the brighter colours, one per colour, in opposite corners and behind
    # the title, so every palette colour shows while the base stays deep.
    lights = colours[1:] if len(colours) > 2 else colours[-1:]
    first = rng.randrange(len(lights))
    corner = rng.choice(((0.15, 0.12), (0.85, 0.12)))
    spots = (corner, (1 - corner[0], 0.88), (0.5, 0.46), (rng.uniform(0.2, 0.8), rng.uniform(0.6, 0.8)))
    for i, (sx, sy) in enumerate(spots[: max(3, len(lights))]):
        colour = np.array(lights[(first + i) % len(lights)], dtype=np.float32)
        cx = (sx + rng.uniform(-0.08, 0.08)) * width
        cy = (sy + rng.uniform(-0.05, 0.05)) * height
        radius = rng.uniform(0.3, 0.42) * max(width, height) * (0.8 if i == 2 else 1.0)
        fall = np.exp(-(((xx - cx) ** 2 + (yy - cy) ** 2) / (radius * radius)) * 2.5)[..., None]
        strength = 0.35 if i == 2 else rng.uniform(0.5, 0.7)
        img = 255 - (255 - img) * (1 - colour / 255.0 * fall * strength)

    base = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")

    # Light streaks: thin diagonal lines, blurred into soft beams.
    streaks = Image.new("RGB", (width, height), (0, 0, 0))
    draw = ImageDraw.Draw(streaks)
    tilt = rng.uniform(-0.5, 0.5)
    for _ in range(rng.randint(3, 5)):
        colour = _mix(lights[rng.randrange(len(lights))], (255, 255, 255), 0.4)
        x0 = rng.uniform(-0.3, 1.0) * width
        draw.line(
            [(x0, -0.1 * height), (x0 + tilt * height + rng.uniform(-0.2, 0.2) * width, 1.1 * height)],
            fill=_mix((0, 0, 0), colour, rng.uniform(0.25, 0.5)),
            width=max(1, int(short * rng.uniform(0.004, 0.012))),
        )
    streaks = streaks.filter(ImageFilter.GaussianBlur(short * 0.012))
    base = Image.fromarray(
        (255 - (255 - np.asarray(base, np.float32)) * (1 - np.asarray(streaks, np.float32) / 255.0)).astype(np.uint8), "RGB"
    )

    # Bokeh: soft discs with a brighter rim, on their own layer then blurred.
    bokeh = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    bdraw = ImageDraw.Draw(bokeh)
    sparkle = colours[-2:]  # the two brightest colours read as light, darker ones as grey
    for _ in range(rng.randint(16, 26)):
        r = short * rng.uniform(0.012, 0.065)
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        colour = _mix(sparkle[rng.randrange(len(sparkle))], (255, 255, 255), rng.uniform(0.1, 0.4))
        alpha = int(255 * rng.uniform(0.06, 0.22))
        bdraw.ellipse((x - r, y - r, x + r, y + r), fill=colour + (alpha,), outline=colour + (min(255, alpha * 2),), width=max(1, int(r * 0.08)))
    bokeh = bokeh.filter(ImageFilter.GaussianBlur(max(1.0, short * 0.004)))
    base = base.convert("RGBA")
    base.alpha_composite(bokeh)
    base = base.convert("RGB")

    text_layer, hud = _title_layer(request, move, width, height, colours, base)
    return base, text_layer, hud


def _font(path: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(path, size)
    except OSError:
        return ImageFont.load_default(size)


def _title_layer(
    request: AnimaticRequest,
    move: strategy.CameraMove,
    width: int,
    height: int,
    colours: list[tuple[int, int, int]],
    background: Image.Image,
) -> tuple[Image.Image, tuple[Image.Image, tuple[int, int]]]:
    short = min(width, height)
    title = (request.title or derive_title(request.prompt)).strip() or "Untitled"
    if request.mood_category == "high_energy":
        title = title.upper()
    bg_luma = _luminance(tuple(int(v) for v in np.asarray(background, np.float32).mean(axis=(0, 1))))  # type: ignore[arg-type]
    ink = (250, 248, 244) if bg_luma < 0.6 else (18, 18, 22)
    # The most saturated palette colour is the accent (bar, label).
    accent = max(colours, key=lambda c: max(c) - min(c) + 0.2 * _luminance(c) * 255)
    if abs(_luminance(accent) - bg_luma) < 0.25:
        accent = _mix(accent, ink, 0.5)

    max_width = width * 0.84
    size = int(short * 0.13)
    while True:
        font = _font(FONT_PATH, size)
        lines = _wrap(title, font, max_width)
        if (len(lines) <= 4 and all(font.getlength(line) <= max_width for line in lines)) or size <= 8:
            break
        size = int(size * 0.92)
    line_height = int(size * 1.12)
    block_h = line_height * len(lines)
    top = int(height * 0.46 - block_h / 2)

    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    shadow = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    sdraw = ImageDraw.Draw(shadow)
    draw = ImageDraw.Draw(layer)
    offset = max(1, int(size * 0.05))
    for i, line in enumerate(lines):
        x = (width - font.getlength(line)) / 2
        y = top + i * line_height
        sdraw.text((x + offset, y + offset * 1.5), line, font=font, fill=(0, 0, 0, 150))
        draw.text((x, y), line, font=font, fill=ink + (255,))
    shadow = shadow.filter(ImageFilter.GaussianBlur(max(1.0, size * 0.12)))

    # Accent bar above the title, a tracked label of the shot below it, a quiet tag in the corner.
    bar_w, bar_h = int(width * 0.12), max(2, int(short * 0.007))
    bar_y = top - int(size * 0.45)
    draw.rectangle(((width - bar_w) // 2, bar_y, (width + bar_w) // 2, bar_y + bar_h), fill=accent + (255,))
    light = strategy.LIGHTINGS.get(request.lighting)
    label = f"{move.label}  ·  {light.label if light else 'Natural'}".upper()
    label_font = _font(LABEL_FONT_PATH, max(8, int(short * 0.03)))
    _tracked_text(draw, label, label_font, width / 2, top + block_h + size * 0.35, ink + (200,), short * 0.006)
    tag_font = _font(LABEL_FONT_PATH, max(7, int(short * 0.022)))
    shadow.alpha_composite(layer)
    # The tag stays put on screen (it labels the preview, it is not part of the scene).
    hud = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    _tracked_text(ImageDraw.Draw(hud), "ANIMATIC PREVIEW", tag_font, width / 2, height * 0.06, ink + (150,), short * 0.005)
    hud_box = hud.getchannel("A").getbbox() or (0, 0, 1, 1)
    return shadow, (hud.crop(hud_box), (hud_box[0], hud_box[1]))


def _wrap(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, max_width: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if current and font.getlength(trial) > max_width:
            lines.append(current)
            current = word
        else:
            current = trial
    if current:
        lines.append(current)
    return lines or [text]


def _tracked_text(
    draw: ImageDraw.ImageDraw,
    text: str,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    centre_x: float,
    y: float,
    fill: tuple[int, int, int, int],
    tracking: float,
) -> None:
    widths = [font.getlength(ch) for ch in text]
    total = sum(widths) + tracking * (len(text) - 1)
    x = centre_x - total / 2
    for ch, w in zip(text, widths):
        draw.text((x, y), ch, font=font, fill=fill)
        x += w + tracking


# --- camera paths -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CameraState:
    zoom: float = 1.0  # 1.0 frames the cover-fitted source exactly
    pan_x: float = 0.0  # -1..1 of the available horizontal travel
    pan_y: float = 0.0  # -1..1 of the available vertical travel (negative is up)
    rotation: float = 0.0  # degrees
    stretch_y: float = 1.0  # extra vertical scale (dolly zoom)
    defocus: float = 0.0  # 0 sharp .. 1 fully soft
    flash: float = 0.0  # 0 .. 1 white flash


def _ease(p: float) -> float:
    return 0.5 - 0.5 * math.cos(math.pi * min(max(p, 0.0), 1.0))


def _ease_cubic(p: float) -> float:
    p = min(max(p, 0.0), 1.0)
    return 4 * p**3 if p < 0.5 else 1 - (-2 * p + 2) ** 3 / 2


def _window(p: float, start: float, length: float) -> float:
    return min(max((p - start) / length, 0.0), 1.0) if length > 0 else float(p >= start)


def camera_state(move: strategy.CameraMove, p: float, *, duration: float, seed: int) -> CameraState:
    """The camera at progress ``p`` (0..1) of a clip of ``duration`` seconds."""
    kind, amount = move.motion, move.intensity
    sign = -1.0 if move.direction in ("left", "ccw", "up") else 1.0
    t = p * duration
    rng = random.Random(f"{move.key}:{seed}")
    phases = [rng.uniform(0, 2 * math.pi) for _ in range(6)]
    if kind == "push_in":
        return CameraState(zoom=1 + 0.28 * amount * _ease(p))
    if kind == "pull_out":
        return CameraState(zoom=1 + 0.4 * amount * (1 - p) ** 2 * (1 + 2 * p))
    if kind == "dolly_zoom":
        e = _ease_cubic(p)
        return CameraState(zoom=1 + 0.35 * amount * e, stretch_y=1 + 0.06 * e)
    if kind == "vertical_travel":
        reach = min(1.0, 0.5 + 0.5 * amount)
        # crane_up: the view rises, so it goes from the bottom of the image to the top.
        return CameraState(zoom=1.25, pan_y=-sign * reach * (1 - 2 * _ease(p)))
    if kind == "horizontal_travel":
        reach = min(1.0, 0.5 + 0.5 * amount)
        return CameraState(zoom=1.3, pan_x=-sign * reach * (1 - 2 * _ease(p)))
    if kind == "whip_pan":
        length = min(0.35 / duration, 0.3)
        e = _ease_cubic(_window(p, 0.5 - length / 2, length))
        creep = 0.08 * (p - 0.5)
        return CameraState(zoom=1.45, pan_x=sign * (-0.85 + 1.7 * e + creep))
    if kind == "crash_zoom":
        start, length = 0.42, min(0.3 / duration, 0.25)
        crash = _ease_cubic(_window(p, start, length))
        return CameraState(zoom=1 + 0.06 * min(p / start, 1.0) + 0.84 * crash + 0.04 * max(0.0, p - start - length))
    if kind == "spiral_zoom":
        e = _ease(p)
        return CameraState(zoom=1 + 0.6 * amount * e, rotation=sign * 25 * amount * e)
    if kind == "orbit":
        s = 2 * _ease(p) - 1
        return CameraState(zoom=1.2 + 0.06 * math.sin(math.pi * p), pan_x=sign * 0.7 * amount * s, rotation=sign * 8 * amount * s)
    if kind == "handheld_drift":
        def wobble(a: int, b: int, c: int) -> float:
            return (math.sin(t * 1.3 + phases[a]) + 0.6 * math.sin(t * 2.9 + phases[b]) + 0.3 * math.sin(t * 5.3 + phases[c])) / 1.9

        return CameraState(zoom=1.1, pan_x=0.35 * wobble(0, 1, 2), pan_y=0.35 * wobble(3, 4, 5), rotation=0.6 * wobble(2, 5, 1))
    if kind == "fpv_rush":
        return CameraState(
            zoom=1.7**p,
            rotation=5 * math.sin(2 * math.pi * 0.9 * p + phases[0]),
            pan_x=0.45 * math.sin(2 * math.pi * 0.6 * p + phases[1]),
            pan_y=0.15 * math.sin(2 * math.pi * 1.1 * p + phases[2]),
        )
    if kind == "fly_through":
        return CameraState(zoom=3.0 ** (p**2.2), flash=max(0.0, (p - 0.88) / 0.12) ** 2 * 0.85)
    if kind == "rack_focus":
        return CameraState(zoom=1.02 + 0.04 * p, defocus=1 - _ease(min(p / 0.45, 1.0)))
    if kind == "roll":
        return CameraState(zoom=1.05 + 0.08 * p, rotation=sign * 28 * amount * _ease(p))
    if kind == "float":
        return CameraState(
            zoom=1.08 + 0.1 * _ease(p),
            pan_x=0.4 * math.sin(2 * math.pi * 0.5 * p + phases[0]),
            pan_y=0.3 * math.sin(2 * math.pi * 0.35 * p + phases[1]),
            rotation=2.5 * math.sin(2 * math.pi * 0.4 * p + phases[2]),
        )
    raise AnimaticError(f"camera move {move.key!r} has an unknown motion kind {kind!r}")


# --- frames -------------------------------------------------------------------------------------


class _FrameRenderer:
    def __init__(
        self,
        *,
        background: Image.Image,
        text_layer: Image.Image | None,
        hud: tuple[Image.Image, tuple[int, int]] | None,
        move: strategy.CameraMove,
        grade: Grade,
        width: int,
        height: int,
        fps: int,
        frame_count: int,
        seed: int,
    ) -> None:
        self.background = background
        self.text_bbox = text_layer.getchannel("A").getbbox() if text_layer is not None else None
        # Pillow resamples RGBA through premultiplied alpha; converting once here, not per frame.
        self.text_layer = text_layer.convert("RGBa") if text_layer is not None else None
        self.hud = hud
        self.move, self.grade = move, grade
        self.width, self.height, self.fps = width, height, fps
        self.frame_count, self.seed = frame_count, seed
        self.duration = frame_count / fps
        self.cover = max(width / background.width, height / background.height)
        self.mask, self.beams = _screen_layers(grade, width, height)
        self.states = [self._raw_state(i) for i in range(frame_count)]
        # Rotation needs extra zoom to keep the frame covered; one constant factor for the
        # whole clip keeps the motion's shape (a per-frame fix would make the zoom pulse).
        self.extra_zoom = max([1.0] + [self._required_zoom(s.rotation) / s.zoom for s in self.states])
        self.focus_levels: list[Image.Image] = []
        if any(s.defocus > 0 for s in self.states):
            radius = min(width, height) * 0.02
            self.focus_levels = [background] + [
                background.filter(ImageFilter.GaussianBlur(radius * f)) for f in (0.25, 0.5, 1.0)
            ]

    def _raw_state(self, frame: float) -> CameraState:
        p = frame / (self.frame_count - 1) if self.frame_count > 1 else 0.0
        return camera_state(self.move, min(max(p, 0.0), 1.0), duration=self.duration, seed=self.seed)

    def _required_zoom(self, rotation: float) -> float:
        th = math.radians(rotation)
        c, s = abs(math.cos(th)), abs(math.sin(th))
        return max(
            (self.width * c + self.height * s) / (self.cover * self.background.width),
            (self.width * s + self.height * c) / (self.cover * self.background.height),
        )

    def _view(self, state: CameraState) -> tuple[float, float, float, float, float]:
        """Background view: centre (source pixels), source pixels per output pixel, angle, stretch."""
        w, h = self.width, self.height
        zoom = state.zoom * self.extra_zoom
        theta = math.radians(state.rotation)
        cos, sin = abs(math.cos(theta)), abs(math.sin(theta))
        half_x = (w * cos + h * sin) / (2 * self.cover * zoom)
        half_y = (w * sin + h * cos) / (2 * self.cover * zoom * state.stretch_y)
        # Travel is what stays inside the source, capped at half a frame each way.
        travel_x = min(max(0.0, self.background.width / 2 - half_x), w / (2 * self.cover))
        travel_y = min(max(0.0, self.background.height / 2 - half_y), h / (2 * self.cover))
        centre_x = self.background.width / 2 + state.pan_x * travel_x
        centre_y = self.background.height / 2 + state.pan_y * travel_y
        return centre_x, centre_y, 1.0 / (self.cover * zoom), theta, state.stretch_y

    def _text_view(self, state: CameraState) -> tuple[float, float, float, float, float]:
        """The title layer (frame-sized) moves a fraction of the background's motion."""
        cx, cy, _, theta, stretch = self._view(state)
        dx = (cx - self.background.width / 2) * self.cover
        dy = (cy - self.background.height / 2) * self.cover
        zoom = 1 + (state.zoom * self.extra_zoom - 1) * TEXT_PARALLAX
        return (
            self.width / 2 + dx * TEXT_PARALLAX,
            self.height / 2 + dy * TEXT_PARALLAX,
            1.0 / zoom,
            theta * TEXT_PARALLAX,
            1 + (stretch - 1) * TEXT_PARALLAX,
        )

    def _affine(self, view: tuple[float, float, float, float, float]) -> tuple[float, float, float, float, float, float]:
        """Pillow affine data (output pixel to source pixel) for a view."""
        cx, cy, k, theta, stretch = view
        cos, sin = math.cos(theta), math.sin(theta)
        a, b = k * cos, -k * sin
        d, e = k * sin / stretch, k * cos / stretch
        w, h = self.width, self.height
        return (a, b, cx - a * w / 2 - b * h / 2, d, e, cy - d * w / 2 - e * h / 2)

    def _source(self, state: CameraState) -> Image.Image:
        if not self.focus_levels or state.defocus <= 0:
            return self.background
        pos = state.defocus * (len(self.focus_levels) - 1)
        i = min(int(pos), len(self.focus_levels) - 2)
        return Image.blend(self.focus_levels[i], self.focus_levels[i + 1], pos - i)

    def _composite(self, state: CameraState) -> Image.Image:
        view = self._view(state)
        source = self._source(state)
        cx, cy, k, theta, stretch = view
        if abs(theta) < 1e-9:
            # No rotation: a box resize is sub-pixel exact, filters properly when shrinking
            # and is about three times faster than a general affine transform.
            hw, hh = self.width * k / 2, self.height * k / (2 * stretch)
            box = (max(0.0, cx - hw), max(0.0, cy - hh), min(source.width, cx + hw), min(source.height, cy + hh))
            frame = source.resize((self.width, self.height), Image.Resampling.BILINEAR, box=box)
        else:
            frame = source.transform(
                (self.width, self.height), Image.Transform.AFFINE, self._affine(view), resample=Image.Resampling.BILINEAR
            )
        if self.text_layer is not None and self.text_bbox is not None:
            data = self._affine(self._text_view(state))
            box_out = self._text_box(data)
            if box_out is not None:
                x0, y0, x1, y1 = box_out
                a, b, c, d, e, f = data
                shifted = (a, b, c + a * x0 + b * y0, d, e, f + d * x0 + e * y0)
                patch = self.text_layer.transform(
                    (x1 - x0, y1 - y0), Image.Transform.AFFINE, shifted, resample=Image.Resampling.BILINEAR
                ).convert("RGBA")
                frame.paste(patch, (x0, y0), patch)
        return frame

    def _text_box(self, data: tuple[float, ...]) -> tuple[int, int, int, int] | None:
        """Where the title's bounding box lands in the frame (inverse of the affine map)."""
        assert self.text_bbox is not None
        a, b, c, d, e, f = data
        det = a * e - b * d
        left, top, right, bottom = self.text_bbox
        xs, ys = [], []
        for sx, sy in ((left, top), (right, top), (left, bottom), (right, bottom)):
            u, v = sx - c, sy - f
            xs.append((e * u - b * v) / det)
            ys.append((-d * u + a * v) / det)
        x0, y0 = max(0, int(min(xs)) - 2), max(0, int(min(ys)) - 2)
        x1, y1 = min(self.width, int(max(xs)) + 3), min(self.height, int(max(ys)) + 3)
        return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None

    def _state(self, frame: float) -> CameraState:
        if float(frame).is_integer() and 0 <= frame < self.frame_count:
            return self.states[int(frame)]
        return self._raw_state(frame)

    def _displacement(self, frame: float, span: float) -> float:
        """How far (output pixels) the frame's corners travel over ``span`` frames."""
        s0, s1 = self._state(frame), self._state(frame + span)
        a0, a1 = self._affine(self._view(s0)), self._affine(self._view(s1))
        scale = self.cover * self.extra_zoom * s0.zoom
        worst = 0.0
        for x, y in ((0, 0), (self.width, 0), (0, self.height), (self.width, self.height)):
            dx = (a1[0] - a0[0]) * x + (a1[1] - a0[1]) * y + a1[2] - a0[2]
            dy = (a1[3] - a0[3]) * x + (a1[4] - a0[4]) * y + a1[5] - a0[5]
            worst = max(worst, math.hypot(dx, dy) * scale)
        return worst

    def render(self, index: int) -> bytes:
        """Frame ``index`` as raw RGB24 bytes."""
        # A 180-degree shutter: average sub-frames over half a frame when the image moves fast.
        shutter = 0.5
        moved = self._displacement(index - shutter / 2, shutter) if self.frame_count > 1 else 0.0
        samples = min(16, math.ceil(moved / 2.5)) if moved > 3.0 else 1
        state = self._state(index)
        if samples == 1:
            frame = self._composite(state)
        else:
            total = np.zeros((self.height, self.width, 3), dtype=np.uint16)
            for j in range(samples):
                total += np.asarray(self._composite(self._state(index + shutter * ((j + 0.5) / samples - 0.5))))
            frame = Image.fromarray((total // samples).astype(np.uint8), "RGB")
        frame = ImageChops.multiply(frame, self.mask)
        if self.beams is not None:
            frame = ImageChops.add(frame, self.beams)
        level = _flicker(self.grade.flicker, index / self.fps, self.seed)
        if level != 1.0 or state.flash:
            lift = 255.0 * state.flash
            frame = frame.point([min(255, int(v * level + lift + 0.5)) for v in range(256)] * 3)
        if self.hud is not None:
            frame.paste(self.hud[0], self.hud[1], self.hud[0])
        return frame.tobytes()


# --- encoding -----------------------------------------------------------------------------------


class _Reporter:
    """Calls the progress callback only when the whole percent moves forward."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self.callback = callback
        self.last = -1

    def __call__(self, percent: int, message: str) -> None:
        percent = max(0, min(100, int(percent)))
        if self.callback is not None and percent > self.last:
            self.last = percent
            self.callback(percent, message)


class _ProgressReader(threading.Thread):
    """Drains ffmpeg's ``-progress`` output, keeping the latest encoded time."""

    def __init__(self, stream) -> None:  # type: ignore[no-untyped-def]
        super().__init__(daemon=True)
        self.stream = stream
        self.out_time_us = 0

    def run(self) -> None:
        for raw in iter(self.stream.readline, b""):
            key, _, value = raw.decode("ascii", "replace").strip().partition("=")
            if key == "out_time_us" and value.lstrip("-").isdigit():
                self.out_time_us = max(self.out_time_us, int(value))


class _TailReader(threading.Thread):
    def __init__(self, stream) -> None:  # type: ignore[no-untyped-def]
        super().__init__(daemon=True)
        self.stream = stream
        self.lines: deque[str] = deque(maxlen=20)

    def run(self) -> None:
        for raw in iter(self.stream.readline, b""):
            self.lines.append(raw.decode("utf-8", "replace").rstrip())


def _encode(
    renderer: _FrameRenderer,
    tmp: Path,
    *,
    width: int,
    height: int,
    fps: int,
    frame_count: int,
    report: _Reporter,
    should_cancel: CancelCheck | None,
    timeout: float,
) -> None:
    args = [
        FFMPEG_BIN, "-hide_banner", "-loglevel", "error", "-y",
        "-protocol_whitelist", "pipe,file",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-framerate", str(fps), "-i", "pipe:0",
        "-an", "-c:v", "libx264", "-preset", X264_PRESET, "-crf", str(X264_CRF), "-pix_fmt", "yuv420p",
        "-r", str(fps), "-movflags", "+faststart", "-map_metadata", "-1",
        "-progress", "pipe:1", "-nostats", "-f", "mp4", str(tmp),
    ]  # fmt: skip
    try:
        proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        raise AnimaticError(f"cannot start ffmpeg ({FFMPEG_BIN}): {exc}") from None
    progress_reader, tail = _ProgressReader(proc.stdout), _TailReader(proc.stderr)
    progress_reader.start()
    tail.start()
    total_us = frame_count / fps * 1_000_000
    deadline = time.monotonic() + timeout
    last_check = 0.0

    def poll(message: str) -> None:
        nonlocal last_check
        now = time.monotonic()
        if now - last_check < 0.2:
            return
        last_check = now
        if should_cancel is not None and should_cancel():
            raise AnimaticCancelled("animatic render was cancelled")
        if now > deadline:
            raise AnimaticError(f"animatic render took longer than {timeout:.0f} s")
        report(min(99, int(progress_reader.out_time_us / total_us * 100)), message)

    assert proc.stdin is not None
    # Pillow releases the GIL while resampling, so frames render in parallel threads;
    # a bounded window keeps memory flat, and frames are written in order.
    workers = RENDER_THREADS or max(1, min(4, os.cpu_count() or 1))
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="animatic")
    pending: deque[Future[bytes]] = deque()
    submitted = 0
    try:
        for _ in range(frame_count):
            while submitted < frame_count and len(pending) < workers * 2:
                pending.append(pool.submit(renderer.render, submitted))
                submitted += 1
            poll("rendering")
            frame = pending.popleft().result()
            try:
                proc.stdin.write(frame)
            except (BrokenPipeError, ValueError):
                break  # ffmpeg died; its exit status and stderr tell why, below
        pool.shutdown(wait=False, cancel_futures=True)
        try:
            proc.stdin.close()
        except BrokenPipeError:
            pass
        while proc.poll() is None:
            poll("encoding")
            time.sleep(0.05)
        progress_reader.join(timeout=5)
        tail.join(timeout=5)
        if proc.returncode != 0:
            detail = "; ".join(tail.lines) or "no error output"
            raise AnimaticError(f"ffmpeg failed with exit status {proc.returncode}: {detail}")
        if not tmp.exists() or tmp.stat().st_size == 0:
            raise AnimaticError("ffmpeg produced no output")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if proc.poll() is None:
            # Cancelled or failed: the partial output is discarded, so no graceful stop is
            # needed (and SIGTERM would not end an ffmpeg blocked on reading its stdin).
            proc.kill()
            proc.wait(timeout=10)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None and not stream.closed:
                try:
                    stream.close()
                except OSError:
                    pass
