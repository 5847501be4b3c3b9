"""The Library page in a real headless Chromium: a vertical (9:16) clip's player fits in the
window, its controls and scrub strip visible without scrolling."""

import pytest

from tests.conftest import server_user
from tests.factories import WorkspaceFactory
from tests.pages.conftest import log_in, make_clip

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_a_vertical_clip_plays_within_the_window(stack, page, tmp_path):
    clip = make_clip(tmp_path / "reel-cut.mp4", size="360x640", seconds=2)
    server_user("vic", WorkspaceFactory(name="Vertical Co"))
    stack.start()
    log_in(page, stack.url, "vic")
    page.goto(f"{stack.url}/library/")
    page.set_input_files("#id_files", str(clip))
    page.wait_for_selector(".asset-card:not(.status-ingesting) .asset-title:has-text('reel-cut')", timeout=60_000)

    page.click(".asset-title:has-text('reel-cut')")
    page.wait_for_function("document.getElementById('player').readyState >= 1")

    window_height = page.viewport_size["height"]
    player = page.locator("#player").bounding_box()
    assert player["y"] + player["height"] <= window_height  # its controls sit at its bottom edge
    assert page.locator("img.scrub").bounding_box()["y"] < window_height
    assert page.evaluate("getComputedStyle(document.getElementById('player')).objectFit") == "contain"  # letterboxed, not cropped
