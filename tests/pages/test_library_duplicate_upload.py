"""The Library page in a real headless Chromium: dropping a file that is already in the library
adds the new tags and campaign to it and its upload row says so."""

import pytest

from tests.conftest import server_user
from tests.factories import CampaignFactory, WorkspaceFactory
from tests.pages.conftest import log_in, make_clip

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_a_duplicate_upload_row_says_what_it_added(stack, page, tmp_path):
    clip = make_clip(tmp_path / "launch-teaser.mp4")
    workspace = WorkspaceFactory(name="Dupe Co")
    campaign = CampaignFactory(workspace=workspace, name="Launch")
    server_user("dee", workspace)
    stack.start(worker=False)
    log_in(page, stack.url, "dee")
    page.goto(f"{stack.url}/library/")
    page.fill("#id_tags", "teaser")
    page.set_input_files("#id_files", str(clip))
    page.wait_for_selector(".upload-item .state:has-text('Uploaded')")

    page.fill("#id_tags", "teaser, Summer")
    page.select_option("#id_campaign", str(campaign.pk))
    page.set_input_files("#id_files", str(clip))

    state = page.locator(".upload-item:nth-child(1) .state")
    state.filter(has_text="Already in the library").wait_for()
    assert state.inner_text() == 'Already in the library: added the tag summer; linked to the campaign "Launch".'
    assert page.locator(".asset-card").count() == 1 and page.inner_text("#asset-count") == "1 file"
    assert page.locator(".asset-card .tag").all_inner_texts() == ["teaser", "summer"]
