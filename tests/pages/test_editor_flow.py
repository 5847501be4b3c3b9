"""The editor issue's "done when", in a real headless Chromium against daphne and a worker:
a newcomer uploads five clips and a product photo, makes a voiceover and a music bed, builds the
timeline with the editor's buttons, picks word-highlight captions and four platforms, renders,
and gets four playable cuts, each made for its platform, ending on the end card with its emoji in colour."""

import json
import subprocess
from pathlib import Path

import pytest

from audio.models import AudioRequest
from media_assets.models import Composition, Render
from tests.conftest import server_user
from tests.factories import WorkspaceFactory
from tests.pages.conftest import log_in, make_clip

pytestmark = [pytest.mark.integration, pytest.mark.browser]

SOURCES = [  # name, lavfi source, size, rate: landscape, 60 fps, vertical, square, 4:3
    ("harbour.mp4", "testsrc2", "640x360", 30),
    ("bike.mp4", "testsrc2", "480x270", 60),
    ("stairs.mp4", "smptehdbars", "360x640", 30),
    ("cup.mp4", "rgbtestsrc", "400x400", 30),
    ("street.mp4", "testsrc2", "400x300", 30),
]
SCRIPT = "Meet the bottle that keeps coffee hot all day. Order yours today."
CUTS = {"tiktok": (1080, 1920), "reels": (1080, 1920), "shorts": (1080, 1920), "youtube": (1920, 1080)}


def _make_sources(folder):
    paths = []
    for name, source, size, rate in SOURCES:
        paths.append(make_clip(folder / name, source=source, size=size, rate=rate, seconds=2))
    photo = folder / "bottle.png"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "mandelbrot=size=800x600", "-frames:v", "1", str(photo)],
                   check=True, timeout=60)
    return [*paths, photo]


def _frame(path, t):
    import numpy as np

    raw = subprocess.run(["ffmpeg", "-v", "error", "-ss", f"{t:.3f}", "-i", str(path), "-frames:v", "1", "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "pipe:1"], capture_output=True, check=True, timeout=60).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(1920, 1080, 3)


def _probe(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_type,codec_name,width,height",
                          "-of", "json", str(path)], capture_output=True, text=True, check=True, timeout=30).stdout
    return json.loads(out)


def test_a_newcomer_builds_a_timeline_in_the_editor_and_plays_four_platform_cuts(stack, page, tmp_path):
    files = _make_sources(tmp_path)
    workspace = WorkspaceFactory(name="Bottle Co")
    server_user("nia", workspace)
    stack.start()
    log_in(page, stack.url, "nia")

    page.goto(f"{stack.url}/library/")
    page.set_input_files("#id_files", [str(f) for f in files])
    page.wait_for_function("document.getElementById('asset-count').textContent.trim() === '6 files'", timeout=60_000)

    page.goto(f"{stack.url}/audio/")
    page.fill("textarea[name=script]", SCRIPT)
    page.click("form[data-voiceover-form] button[type=submit]")
    page.wait_for_selector("[data-transcript] .word", timeout=120_000)  # the request page reloads when its job ends
    page.goto(f"{stack.url}/audio/")
    page.fill("form[action$='/music/'] input[name=duration]", "12")
    page.click("form[action$='/music/'] button[type=submit]")
    page.wait_for_selector("audio", timeout=120_000)

    page.goto(f"{stack.url}/editor/")
    page.fill("#id_title", "Bottle launch")
    page.click("form.new-composition button[type=submit]")
    page.wait_for_selector("#bin-grid .bin-item")
    for button in page.locator("#bin-grid button.add-clip").all():
        button.click()
    assert page.locator("#timeline li.clip").count() == 6
    assert "Meet" not in page.inner_text("#caption-text")  # a stand-in sentence until a source is chosen
    page.select_option("#caption-source", index=1)  # the voiceover's words (and the voiceover itself)
    page.select_option("#caption-mode", "karaoke")
    assert page.inner_text("#caption-text").split()[:3] == ["Meet", "the", "bottle"]  # its words, before any save
    music = AudioRequest.objects.get(workspace=workspace, kind="music").asset_id
    page.select_option("#music", str(music))
    page.fill("#end-card", "Order today 🔥")  # its emoji in colour (Noto Color Emoji, which make test installs)
    page.check("#preset-youtube")
    for key in CUTS:
        assert page.is_checked(f"#preset-{key}")
    page.click("#render")

    page.wait_for_function(
        "[...document.querySelectorAll('#results video')].filter(v => v.readyState >= 1).length === 4", timeout=300_000)
    # Side by side in the presets' order, not the order the cuts finished in.
    assert page.eval_on_selector_all("#results figure", "cards => cards.map(c => c.dataset.preset)") == list(CUTS)
    composition = Composition.objects.get(workspace=workspace)
    assert composition.clips.count() == 6 and composition.voiceover_id and composition.music_id
    assert composition.caption_request_id and composition.caption_mode == "karaoke"
    renders = {r.preset: r for r in Render.objects.filter(composition=composition)}
    assert set(renders) == set(CUTS) and all(r.status == "succeeded" for r in renders.values()), stack.log_text()
    for key, (width, height) in CUTS.items():
        info = _probe(Path(stack.env["MEDIA_ROOT"]) / renders[key].output.file.name)
        video = next(s for s in info["streams"] if s["codec_type"] == "video")
        assert (video["width"], video["height"]) == (width, height)
        assert video["codec_name"] == "h264" and any(s["codec_type"] == "audio" for s in info["streams"])
        assert abs(float(info["format"]["duration"]) - renders[key].duration) < 0.05
    # The end card's last frame: its text, and the flame in its own colours.
    card = _frame(Path(stack.env["MEDIA_ROOT"]) / renders["tiktok"].output.file.name, renders["tiktok"].duration - 0.1)
    r, g, b = (card[..., i].astype(int) for i in range(3))
    assert ((r > 190) & (g > 40) & (g < 200) & (b < 90)).sum() > 300
    page.screenshot(path=str(tmp_path / "editor-results.png"), full_page=True)
