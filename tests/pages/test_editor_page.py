"""The editor page in a real headless Chromium: a clip whose previews are still being made gets
its thumbnail in the bin, on the timeline and behind the caption preview as soon as the ingest job
finishes, without a reload."""

import pytest

from media_assets.editor_services import composition_create
from media_assets.models import MediaAsset
from tests.conftest import server_user
from tests.factories import WorkspaceFactory
from tests.pages.conftest import make_clip, upload_with_no_worker

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
