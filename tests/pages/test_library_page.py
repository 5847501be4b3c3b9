"""The Library page in a real headless Chromium: an upload shows its card and the file count at once."""

import pytest

from tests.conftest import server_user
from tests.factories import WorkspaceFactory
from tests.pages.conftest import log_in, make_clip

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_an_uploaded_clip_appears_with_the_count_updated_without_a_reload(stack, page, tmp_path):
    clip = make_clip(tmp_path / "launch-teaser.mp4")
    workspace = WorkspaceFactory(name="Library Co")
    server_user("lia", workspace)
    stack.start(worker=False)
    log_in(page, stack.url, "lia")
    page.goto(f"{stack.url}/library/")
    assert page.inner_text("#asset-count") == "0 files"
    page.evaluate("window.__noReload = true")

    page.set_input_files("#id_files", str(clip))

    page.wait_for_selector(".asset-card:has-text('launch-teaser')")
    assert page.inner_text("#asset-count") == "1 file"
    assert page.evaluate("window.__noReload") is True
