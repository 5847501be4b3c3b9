"""A job's page in a real headless Chromium: its Cancel and Retry buttons follow the job's live
status, so a finished job offers no Cancel and a canceled one offers Retry without a reload; its
attempts and finish time follow it as well."""

import pytest

from mediastudio.jobs.models import Job
from tests.conftest import server_user
from tests.factories import WorkspaceFactory
from tests.pages.conftest import log_in

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.embedded]


def test_the_job_pages_buttons_follow_its_live_status(stack, page, tmp_path):
    workspace = WorkspaceFactory(name="Button Co")
    server_user("bo", workspace)
    stack.start(worker=False)  # the demo job waits in the queue
    log_in(page, stack.url, "bo")
    page.goto(f"{stack.url}/jobs/")
    with page.expect_navigation():
        page.click("text=Run a demo job")
    job = Job.objects.get(workspace=workspace)
    detail = f"{stack.url}/jobs/{job.pk}/"
    page.goto(detail)
    cancel, retry = page.locator("button:has-text('Cancel')"), page.locator("button:has-text('Retry')")
    assert cancel.is_visible() and not retry.is_visible()
    page.evaluate("window.__noReload = true")

    # Canceled from another tab: this one offers Retry, not Cancel, without a reload.
    other = page.context.new_page()
    other.goto(detail)
    with other.expect_navigation():
        other.click("button:has-text('Cancel')")
    page.wait_for_function("document.querySelector('[data-field=status]').textContent === 'canceled'", timeout=20_000)
    retry.wait_for(state="visible", timeout=5_000)
    assert not cancel.is_visible()
    assert page.evaluate("window.__noReload") is True

    # Retried, the worker runs it to the end: a succeeded job offers neither.
    with page.expect_navigation():
        retry.click()
    assert cancel.is_visible() and not retry.is_visible()
    stack.start(web=False)
    page.wait_for_function("document.querySelector('[data-field=status]').textContent === 'succeeded'", timeout=60_000)
    cancel.wait_for(state="hidden", timeout=5_000)
    assert not retry.is_visible()
    # Its facts follow too: the attempt the worker made after the page loaded, and when it finished.
    job.refresh_from_db()
    assert job.attempts >= 1 and page.inner_text("[data-job-facts] [data-field=attempts]") == str(job.attempts)
    assert page.inner_text("[data-job-facts] [data-field=finished]") not in ("", "—")
    # The finish time that arrived live and the creation time are written alike, and so after a reload.
    shape = "t => t.replace(/[0-9]+/g, '0')"
    times = "[...document.querySelectorAll('[data-job-facts] dd')].filter(d => /[0-9]:[0-9]/.test(d.textContent)).map(d => d.textContent.trim())"
    for _ in range(2):
        created, finished = page.evaluate(times)
        assert page.evaluate(f"({shape})({created!r})") == page.evaluate(f"({shape})({finished!r})"), (created, finished)
        page.reload()
    page.screenshot(path=str(tmp_path / "job-detail.png"))
