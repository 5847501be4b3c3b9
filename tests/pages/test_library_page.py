"""The Library page in a real headless Chromium: an upload shows its card and the file count at once."""

import pytest

from tests.conftest import server_user
from tests.factories import WorkspaceFactory
from tests.pages.conftest import log_in, make_clip, upload_with_no_worker

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
    assert page.inner_text(".upload-item .state") == "Uploaded · making previews"  # no worker: its ingest job waits

    page.set_input_files("#id_files", str(clip))  # the same bytes again: one card, said so
    page.wait_for_selector(".upload-item:nth-child(1) .state:has-text('Already in the library')")
    assert page.inner_text("#asset-count") == "1 file" and page.locator(".asset-card").count() == 1


def test_an_upload_row_says_ready_when_its_ingest_job_has_made_the_previews(stack, page, tmp_path):
    server_user("hal", WorkspaceFactory(name="Harbour Co"))
    upload_with_no_worker(stack, page, make_clip(tmp_path / "harbour.mp4"), "hal")
    page.wait_for_selector(".upload-item .state:has-text('Uploaded · making previews')")

    stack.start(web=False)  # the worker runs the job; its end reaches the page over the websocket

    page.wait_for_selector(".upload-item .state:has-text('Uploaded · ready')", timeout=60_000)



@pytest.mark.parametrize(("breakage", "said"), [
    ("no ffmpeg", "Uploaded · ready, some previews not made (see its card)"),  # the job ends, saying what it could not make
    ("file lost", "Uploaded · previews not made (see its card)"),  # the job fails: its result names no asset
])
def test_an_upload_row_says_what_its_ingest_job_could_not_do(stack, page, tmp_path, breakage, said):
    server_user("dru", WorkspaceFactory(name="Dunes Co"))
    upload_with_no_worker(stack, page, make_clip(tmp_path / "dunes.mp4"), "dru")
    page.wait_for_selector(".upload-item .state:has-text('Uploaded · making previews')")

    if breakage == "no ffmpeg":
        stack.env["PATH"] = str(tmp_path / "no-tools")
    else:
        for stored in (tmp_path / "media").rglob("*.mp4"):
            stored.unlink()
    stack.start(web=False)

    page.wait_for_selector(f".upload-item .state:text-is('{said}')", timeout=60_000)
