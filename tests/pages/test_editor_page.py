"""The editor page in a real headless Chromium: a clip whose previews are still being made gets
its thumbnail in the bin, on the timeline and behind the caption preview as soon as the ingest job
finishes, without a reload; the timeline's buttons keep keyboard focus and bad seconds are refused."""

import pytest

from media_assets.editor_services import composition_create
from media_assets.models import MediaAsset
from media_assets.services import asset_create_from_file
from tests.conftest import server_user
from tests.factories import WorkspaceFactory
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
    assert page.eval_on_selector("#caption-preview", "el => el.style.backgroundImage") == ""
    page.evaluate("window.__noReload = true")

    stack.start(web=False)  # the worker makes the previews; its job event reaches the page over the websocket

    item.locator("img.thumb").wait_for(timeout=60_000)
    assert item.locator("img.thumb").evaluate("img => img.complete && img.naturalWidth > 0"), stack.log_text()
    assert clip_on_timeline.locator("img.thumb").count() == 1
    assert f"/library/{asset.pk}/preview/thumbnail/" in page.eval_on_selector("#caption-preview", "el => el.style.backgroundImage")
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
