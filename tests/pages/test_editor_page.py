"""The editor page in a real headless Chromium: a clip whose previews are still being made gets
its thumbnail in the bin, on the timeline and behind the caption preview as soon as the ingest job
finishes, without a reload; the timeline's buttons keep keyboard focus and bad seconds are refused;
a click on a clip's picture sets what each platform's crop keeps, shown on the timeline and in the
preview with the logo; Korean and emoji typed in the end card show as glyphs, not boxes."""

import subprocess

import pytest

from media_assets.editor_services import composition_create
from media_assets.models import MediaAsset
from media_assets.services import asset_create_from_file
from tests.conftest import server_user
from tests.factories import UniverseFactory, WorkspaceFactory
from tests.pages.conftest import log_in, make_clip, upload_with_no_worker

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_a_clip_still_ingesting_gets_its_thumbnail_in_the_bin_when_its_job_ends(stack, page, tmp_path):
    workspace = WorkspaceFactory(name="Editor Co")
    server_user("eda", workspace)
    upload_with_no_worker(stack, page, make_clip(tmp_path / "beach-run.mp4"), "eda")
    page.wait_for_selector(".asset-card:has-text('beach-run')")
    asset = MediaAsset.objects.get(workspace=workspace)
    assert asset.status == MediaAsset.Status.INGESTING and not asset.thumbnail  # no worker yet: the job waits

    composition = composition_create(workspace=workspace, title="Summer", clips=[])
    page.goto(f"{stack.url}/editor/{composition.pk}/")
    item = page.locator(f'#bin-grid .bin-item[data-asset-id="{asset.pk}"]')
    item.locator(".thumb.placeholder").wait_for()
    item.locator("button.add-clip").click()  # on the timeline too, and so behind the caption preview
    clip_on_timeline = page.locator("#timeline li.clip").first
    clip_on_timeline.locator(".thumb.placeholder").wait_for()
    assert page.eval_on_selector("#preview-picture", "el => el.style.backgroundImage") == ""
    page.evaluate("window.__noReload = true")

    stack.start(web=False)  # the worker makes the previews; its job event reaches the page over the websocket

    item.locator("img.thumb").wait_for(timeout=60_000)
    assert item.locator("img.thumb").evaluate("img => img.complete && img.naturalWidth > 0"), stack.log_text()
    assert clip_on_timeline.locator("img.thumb").count() == 1
    assert f"/library/{asset.pk}/preview/thumbnail/" in page.eval_on_selector("#preview-picture", "el => el.style.backgroundImage")
    assert page.evaluate("window.__noReload") is True
    asset.refresh_from_db()
    assert asset.thumbnail


def test_the_timeline_keeps_keyboard_focus_on_a_moved_clip_and_refuses_a_zero_second_transition(stack, page, tmp_path):
    workspace = WorkspaceFactory(name="Keys Co")
    server_user("kim", workspace)
    one, two = (asset_create_from_file(workspace=workspace, path=make_clip(tmp_path / f"{name}.mp4", source=source),
                                       source="uploaded", title=name, make_previews=False)
                for name, source in (("one", "testsrc2"), ("two", "smptebars")))
    composition = composition_create(workspace=workspace, title="Keys", clips=[
        {"asset": one, "transition": "crossfade", "transition_duration": 0.5}, {"asset": two}])
    stack.start(worker=False)
    log_in(page, stack.url, "kim")
    page.goto(f"{stack.url}/editor/{composition.pk}/")
    focused = "document.activeElement.getAttribute('aria-label')"
    titles = "[...document.querySelectorAll('#timeline .clip-title')].map(t => t.textContent)"

    page.focus('#timeline button[aria-label="Move clip 1 later"]')
    page.keyboard.press("Enter")
    assert page.evaluate(titles) == ["1. two", "2. one"] and page.evaluate(focused) == "Move clip 2 later"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")  # "Move clip 2 earlier": back where it was, focus still on it
    assert page.evaluate(titles) == ["1. one", "2. two"] and page.evaluate(focused) == "Move clip 1 earlier"

    page.fill("#timeline .transition-duration", "0")
    page.dispatch_event("#timeline .transition-duration", "change")
    page.click("#save")
    page.wait_for_selector("#errors li")
    assert "0.1" in page.inner_text("#errors")  # a refusal, not a silent 0.5
    assert composition.clips.get(position=0).transition_duration == 0.5


def test_a_click_on_a_clip_sets_what_each_platform_keeps_and_the_preview_shows_it(stack, page, tmp_path, media_root):
    from media_assets.compositions import CompositionClip

    workspace = WorkspaceFactory(name="Frames Co")  # files stored here are the server's (media_root is its MEDIA_ROOT)
    server_user("fay", workspace)
    wide = asset_create_from_file(workspace=workspace, path=make_clip(tmp_path / "wide.mp4", size="640x360"),
                                  source="uploaded", title="wide")
    logo_png = tmp_path / "logo.png"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=magenta:s=80x40", "-frames:v", "1", str(logo_png)],
                   check=True, timeout=60)
    logo = asset_create_from_file(workspace=workspace, path=logo_png, source="uploaded", title="logo")
    universe = UniverseFactory(workspace=workspace, name="Framed", logo=logo)
    composition = composition_create(workspace=workspace, title="Frames", universe=universe, clips=[{"asset": wide}],
                                     presets=["tiktok", "youtube"], watermark=True, watermark_position="bottom_right")
    stack.start(worker=False)
    log_in(page, stack.url, "fay")
    page.goto(f"{stack.url}/editor/{composition.pk}/")
    frame = page.locator("#timeline li.clip .frame").first
    picture = frame.locator(".picture").bounding_box()
    assert picture["width"] / picture["height"] == pytest.approx(16 / 9, rel=0.03)  # the whole picture, not a crop

    # In TikTok's 9:16 cut (the first chosen platform) a click near the right edge keeps the right of the picture.
    page.mouse.click(picture["x"] + picture["width"] * 0.9, picture["y"] + picture["height"] * 0.3)
    frame.press("ArrowLeft")
    focus = [float(v) for v in frame.get_attribute("data-focus").split(",")]
    assert focus == pytest.approx([0.85, 0.3], abs=0.011)  # the click, to a pixel, then 5 % to the left
    assert "85% across" in frame.get_attribute("aria-label")
    window = page.eval_on_selector("#timeline .crop-window", "w => [w.style.left, w.style.width]")
    assert window == ["68%", "32%"]  # 9:16 of 16:9 is 0.32 of the width, its centre at 0.85 clamped to the right edge
    assert page.eval_on_selector("#preview-picture", "p => p.style.backgroundPosition") == "100% 50%"

    # A square cut framed on its own: the left of the picture, and then fitted whole.
    page.select_option("#view-preset", "square")
    frame = page.locator("#timeline li.clip .frame").first
    page.check("#timeline .own-layout")
    picture = frame.locator(".picture").bounding_box()
    page.mouse.click(picture["x"] + picture["width"] * 0.2, picture["y"] + picture["height"] * 0.5)
    assert page.eval_on_selector("#preview-picture", "p => p.style.backgroundPosition") == "0% 50%"
    page.select_option("#timeline li.clip select:not(.transition-kind) >> nth=-1", "contain_blur")
    assert frame.is_disabled() and page.is_visible("#preview-fill")

    # The logo is drawn from its file in the bottom-right corner of the preview.
    logo_box = page.locator("#preview-logo").bounding_box()
    preview = page.locator("#caption-preview").bounding_box()
    assert page.eval_on_selector("#preview-logo", "img => img.complete && img.naturalWidth") == 80
    assert logo_box["x"] > preview["x"] + preview["width"] / 2 and logo_box["y"] > preview["y"] + preview["height"] / 2
    assert logo_box["width"] == pytest.approx(preview["width"] * 0.15, abs=1.5)

    page.click("#save")
    page.wait_for_selector("#save-state:has-text('Saved')")
    clip = CompositionClip.objects.get(composition=composition)
    assert [clip.focus_x, clip.focus_y] == focus  # TikTok (and every platform without its own framing)
    assert list(clip.layouts) == ["square"] and clip.layouts["square"]["fit"] == "contain_blur"
    assert clip.layouts["square"]["focus"] == pytest.approx([0.2, 0.5], abs=0.011)


def test_korean_and_emoji_in_the_end_card_show_as_glyphs_not_boxes(stack, page, tmp_path):
    workspace = WorkspaceFactory(name="Glyph Co")
    server_user("gus", workspace)
    composition = composition_create(workspace=workspace, title="Glyphs", clips=[])
    stack.start(worker=False)
    log_in(page, stack.url, "gus")
    page.goto(f"{stack.url}/editor/{composition.pk}/")

    def drawn(text: str) -> bytes:
        page.fill("#end-card", text)
        page.evaluate("document.fonts.ready")
        page.wait_for_timeout(300)
        return page.locator("#end-card").screenshot()

    # Characters no font has are drawn as the missing-glyph box; text drawn as glyphs looks different.
    boxes = drawn("\u0378\u0379")  # unassigned: no font has them
    assert drawn("\u0380\u0381") == boxes  # the box is the box, whichever character is missing
    assert drawn("지금") != boxes
    assert drawn("🚀🎉") != boxes
    assert drawn("今日") != boxes
