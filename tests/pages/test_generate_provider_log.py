"""The Generate page's panel, in a browser against the real stack: after a provider fails and the
job falls back, the panel keeps which providers were tried or skipped and why, after the job is done
(the job's message moves on at once); its Cancel button shows only while the job can be canceled."""

from __future__ import annotations

import pytest

from tests.conftest import server_user
from tests.factories import WorkspaceFactory
from tests.generation.providers.cases import all_cases
from tests.pages.conftest import log_in

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_the_panel_keeps_why_each_provider_was_passed_over(stack, page):
    case = next(c for c in all_cases() if c.identifier == "runway")
    fake = case.start_fake()
    try:
        fake.inject(401, times=50, method="POST", message="Invalid API key")  # Runway refuses the key: permanent
        server_user("fallback", WorkspaceFactory(name="Fallback Co"))
        stack.env.update({k: str(v) for k, v in case.config(fake).items() if isinstance(v, (str, int))})
        stack.env["SAFE_FETCH_ALLOW_LOOPBACK"] = "true"
        stack.start()
        log_in(page, stack.url, "fallback")
        page.goto(f"{stack.url}/generate/")
        page.fill("#id_prompt", "A can on a park bench")
        page.select_option("#id_tier", "standard")
        page.fill("#id_duration", "2")
        page.click("[data-submit]")

        status = page.locator("[data-result-job] [data-field=status]")
        page.wait_for_function("document.querySelector('[data-result-job] [data-field=status]').textContent === 'succeeded'",
                               timeout=90_000)
        log = page.locator("[data-provider-log]")
        page.wait_for_function("document.querySelector('[data-provider-log] li.status-succeeded')", timeout=15_000)
        text = log.inner_text()
        assert status.inner_text() == "succeeded"
        assert "runway (gen4.5) failed" in text and "Invalid API key" in text and "Moved on to animatic." in text
        assert "veo skipped: not enabled: set GEMINI_API_KEY" in text
        assert "animatic (animatic-v1) succeeded" in text
        assert not page.locator("[data-cancel]").is_visible()  # a finished job offers no cancel
    finally:
        fake.stop()
