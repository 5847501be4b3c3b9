"""The editor page in a real headless Chromium, open in two tabs: the later save from the tab that
read the older version changes nothing and asks what to keep (the other version, or this one over
it); and a cut rendered before the latest save says it is out of date, so nobody downloads it as
the current version."""

import pytest

from media_assets.compositions import Render
from media_assets.editor_services import composition_create, composition_update
from media_assets.services import asset_create_from_file
from tests.conftest import server_user
from tests.factories import WorkspaceFactory
from tests.pages.conftest import log_in, make_clip

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_a_save_from_a_stale_tab_asks_before_undoing_the_other_tab(stack, page, tmp_path):
    workspace = WorkspaceFactory(name="Tabs Co")
    server_user("tess", workspace)
    one, two = (asset_create_from_file(workspace=workspace, path=make_clip(tmp_path / f"{name}.mp4", source=source),
                                       source="uploaded", title=name, make_previews=False)
                for name, source in (("one", "testsrc2"), ("two", "smptebars")))
    composition = composition_create(workspace=workspace, title="Tabs", clips=[{"asset": one}, {"asset": two}])
    stack.start(worker=False)
    log_in(page, stack.url, "tess")
    other = page.context.new_page()
    url = f"{stack.url}/editor/{composition.pk}/"
    page.goto(url)
    other.goto(url)

    page.click('#timeline button[aria-label="Remove clip 2"]')
    page.fill("#end-card", "Shop now")
    page.click("#save")
    page.wait_for_selector("#save-state:has-text('Saved')")

    other.select_option("#caption-position", "top")
    other.click("#save")
    other.wait_for_selector("#errors li.conflict")
    assert "saved elsewhere" in other.inner_text("#errors") and other.inner_text("#save-state") == "Not saved"
    composition.refresh_from_db()
    assert (composition.clips.count(), composition.end_card_text, composition.caption_position) == (1, "Shop now", "bottom")

    other.click("#errors button:has-text('Save mine over it')")
    other.wait_for_selector("#save-state:has-text('Saved')")
    composition.refresh_from_db()
    assert (composition.clips.count(), composition.end_card_text, composition.caption_position) == (2, "", "top")

    page.select_option("#caption-mode", "phrase")  # the first tab is the stale one now
    page.click("#save")
    page.wait_for_selector("#errors li.conflict")
    page.click("#errors button:has-text('Load the other version')")
    page.wait_for_function("document.querySelector('#caption-position').value === 'top'")
    assert page.locator("#timeline li.clip[data-index]").count() == 2


def test_a_cut_made_before_the_latest_save_says_it_is_out_of_date(stack, page, tmp_path):
    workspace = WorkspaceFactory(name="Cuts Co")
    server_user("cal", workspace)
    source = asset_create_from_file(workspace=workspace, path=make_clip(tmp_path / "one.mp4"), source="uploaded",
                                    title="one", make_previews=False)
    composition = composition_create(workspace=workspace, title="Cuts", presets=["tiktok", "youtube"], clips=[{"asset": source}])
    cut = asset_create_from_file(workspace=workspace, path=make_clip(tmp_path / "cut.mp4", size="180x320"), source="rendered",
                                 title="Cuts · TikTok", make_previews=False)
    Render.objects.create(composition=composition, preset="tiktok", status="succeeded", output=cut, width=180, height=320, duration=1)
    Render.objects.create(composition=composition, preset="youtube", status="succeeded", output=cut, width=180, height=320, duration=1)
    Render.objects.create(composition=composition, preset="youtube", status="canceled")
    stack.start(worker=False)
    log_in(page, stack.url, "cal")
    page.goto(f"{stack.url}/editor/{composition.pk}/")
    page.wait_for_selector('#results .result[data-preset="tiktok"] video')
    assert page.locator('#results .result[data-preset="tiktok"] .outdated-note').count() == 0  # nothing changed since
    youtube = page.locator('#results .result[data-preset="youtube"]')
    assert youtube.locator(".outdated-note").inner_text() == "The latest render was canceled: this is an earlier cut."

    page.select_option("#caption-position", "top")
    page.click("#save")
    note = page.locator('#results .result[data-preset="tiktok"] .outdated-note')
    note.wait_for()
    assert note.inner_text() == "Made before the latest changes: render again to update it."

    composition_update(composition=composition, caption_mode="phrase")  # saved elsewhere: a fresh page says so too
    page.goto(f"{stack.url}/editor/{composition.pk}/")
    page.locator('#results .result[data-preset="tiktok"] .outdated-note').wait_for()
