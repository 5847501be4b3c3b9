"""The Library page in a real headless Chromium: a file over the upload cap is refused at once,
before any of its bytes are sent; the other files of the same drop still upload."""

import os

import pytest

from tests.conftest import server_user
from tests.factories import WorkspaceFactory
from tests.pages.conftest import log_in, make_clip

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_a_file_over_the_cap_is_refused_without_being_sent(stack, page, tmp_path):
    big = tmp_path / "shoot-raw.mp4"
    big.write_bytes(os.urandom(3 * 1024**2 // 2))  # 1.5 MiB: its content is never looked at
    clip = make_clip(tmp_path / "teaser.mp4")
    server_user("max", WorkspaceFactory(name="Cap Co"))
    stack.env["MEDIA_MAX_UPLOAD_BYTES"] = str(1024**2)
    stack.start(worker=False)
    log_in(page, stack.url, "max")
    page.goto(f"{stack.url}/library/")
    assert "up to 1 MiB each" in page.inner_text("#dropzone")
    sent = []
    page.on("request", lambda request: sent.append(request.url) if request.method == "POST" else None)

    page.set_input_files("#id_files", [str(big), str(clip)])

    refused = page.locator(".upload-item.refused")
    refused.wait_for()
    assert refused.locator(".state").inner_text() == "Refused: shoot-raw.mp4: the file is larger than the 1 MiB upload limit."
    page.wait_for_selector(".asset-card:has-text('teaser')")
    assert page.inner_text("#asset-count") == "1 file"
    assert sent == [f"{stack.url}/library/upload/"]  # the clip's upload only
