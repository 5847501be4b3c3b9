import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import chromium_path


@pytest.fixture(scope="session")
def browser():
    # Playwright's sync API keeps an event loop in this thread; Django's ORM calls made by the test
    # itself are still synchronous (the documented setting for driving a browser from tests).
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    path = chromium_path()
    if path is None:
        pytest.fail("chromium is not installed: `make test` installs it (apt-get install chromium chromium-driver)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def log_in(page, base_url: str, username: str, password: str = "pw-for-tests-123") -> None:
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def upload_with_no_worker(stack, page, path, username: str) -> None:
    """Start the web process alone, log ``username`` in and upload ``path`` on the Library page: its
    previews wait for an ingest job that no worker runs until the test starts one."""
    stack.env["MEDIA_SYNC_PREVIEW_MAX_BYTES"] = "0"  # every upload's previews are made by an ingest job
    stack.start(worker=False)
    log_in(page, stack.url, username)
    page.goto(f"{stack.url}/library/")
    page.set_input_files("#id_files", str(path))


def make_clip(path: Path, *, source: str = "testsrc2", size: str = "320x180", rate: int = 24, seconds: float = 1) -> Path:
    """A short H.264 clip made by ffmpeg from one of its test sources."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"{source}=size={size}:rate={rate}:duration={seconds}",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)], check=True, timeout=60)
    return path
