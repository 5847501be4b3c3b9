"""The Jobs page in a real headless Chromium: progress bars move live, without a reload."""

import pytest

from tests.conftest import server_user
from tests.factories import WorkspaceFactory
from tests.pages.conftest import log_in

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.embedded]


def test_a_demo_jobs_progress_bar_moves_live_to_done(stack, page, tmp_path):
    workspace = WorkspaceFactory(name="Browser Co")
    server_user("bea", workspace)
    stack.start()
    log_in(page, stack.url, "bea")

    page.goto(f"{stack.url}/jobs/")
    page.wait_for_selector("[data-live-status]:has-text('live')")
    page.click("text=Run a demo job")  # a form post; the page reloads once, then only the socket updates it
    row = page.locator("tr[data-job-id]").first
    row.wait_for()
    page.evaluate("window.__noReload = true")

    seen = set()
    for _ in range(200):
        width = row.locator("[data-field=bar]").evaluate("el => el.style.width")
        seen.add(width)
        if row.locator("[data-field=status]").inner_text() == "succeeded":
            break
        page.wait_for_timeout(100)
    assert row.locator("[data-field=status]").inner_text() == "succeeded", stack.log_text()
    assert page.evaluate("window.__noReload") is True  # the same document all along
    assert len(seen - {"0%", "100%"}) >= 2, seen  # intermediate widths were shown
    page.screenshot(path=str(tmp_path / "jobs.png"))


def test_the_dashboard_and_campaign_form_show_field_errors(stack, page):
    workspace = WorkspaceFactory(name="Forms Co")
    server_user("fay", workspace)
    stack.start(worker=False)
    log_in(page, stack.url, "fay")
    page.goto(f"{stack.url}/campaigns/new/")
    page.fill("#id_name", "Launch")
    page.fill("#id_budget", "-5")
    page.fill("#id_starts_on", "2026-12-10")
    page.fill("#id_ends_on", "2026-12-01")
    with page.expect_navigation():
        page.click("button.primary:has-text('Save')")
    errors = page.locator(".errorlist").all_inner_texts()
    assert any("greater than or equal to 0" in e for e in errors), errors
    assert any("cannot end before it starts" in e for e in errors), errors
    assert page.input_value("#id_name") == "Launch"  # nothing typed is lost


def test_the_audio_pages_job_list_follows_its_jobs_live(stack, page, tmp_path):
    # Back on the Audio page while a job waits for a worker, its row moves to done without a reload.
    workspace = WorkspaceFactory(name="Sound Co")
    server_user("sol", workspace)
    stack.start(worker=False)
    log_in(page, stack.url, "sol")
    page.goto(f"{stack.url}/audio/")
    page.fill("form[action$='/music/'] input[name=duration]", "3")
    page.click("form[action$='/music/'] button[type=submit]")
    page.goto(f"{stack.url}/audio/")
    row = page.locator(".audio-jobs tr[data-job-id]").first
    assert row.locator("[data-field=status]").inner_text() == "queued"
    page.evaluate("window.__noReload = true")

    stack.start(web=False)  # the worker runs it; its events reach the page over the websocket
    page.wait_for_function("document.querySelector('.audio-jobs tr[data-job-id] [data-field=status]').textContent === 'succeeded'",
                           timeout=60_000)
    assert row.locator("[data-field=progress]").inner_text() == "100"
    assert page.evaluate("window.__noReload") is True
