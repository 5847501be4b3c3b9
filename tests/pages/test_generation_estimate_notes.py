"""The Generate page's estimate box: it says why a chosen provider is passed over, and shows the
campaign's remaining budget as it is once the video's reservation is settled."""

from decimal import Decimal

import pytest

from tests.conftest import server_user
from tests.factories import CampaignFactory, WorkspaceFactory
from tests.pages.conftest import log_in

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_it_says_why_the_chosen_provider_cannot_make_the_clip(stack, page):
    # Veo makes 4, 6 or 8 s: asked for 5 s the estimate quietly read "$0.00 on Animatic".
    server_user("vee", WorkspaceFactory(name="Veo Co"))
    stack.env.update({"GEMINI_API_KEY": "gemini-test-key", "GEMINI_BASE_URL": "http://127.0.0.1:9"})
    stack.start(worker=False)
    log_in(page, stack.url, "vee")
    page.goto(f"{stack.url}/generate/")
    page.fill("#id_duration", "5")
    with page.expect_response(lambda r: "/api/video/estimate-cost" in r.url and "provider=veo" in r.url):
        page.select_option("#id_provider", "veo")

    notes = page.locator("[data-lifecycle-warnings]")
    notes.wait_for(state="visible")
    assert "'veo' cannot make this" in notes.inner_text() and "not 5 s" in notes.inner_text()
    assert "it would go to Animatic" in notes.inner_text()


def test_it_shows_the_remaining_budget_again_when_the_video_is_done(stack, page):
    # The box kept the remaining budget read while the job's reservation was held.
    workspace = WorkspaceFactory(name="Budget Co")
    server_user("bud", workspace)
    campaign = CampaignFactory(workspace=workspace, name="Launch", budget=Decimal("50.00"))
    stack.start()
    log_in(page, stack.url, "bud")
    page.goto(f"{stack.url}/generate/")
    page.fill("#id_prompt", "A can on a bench")
    page.select_option("#id_campaign", str(campaign.pk))
    page.locator("#id_prompt").blur()
    page.wait_for_selector("[data-remaining]:has-text('$50.00 of $50.00')")
    page.wait_for_timeout(500)  # the estimate the blur asked for has come back
    page.evaluate("() => { document.querySelector('[data-remaining]').textContent = 'stale'; }")
    page.click("[data-submit]")
    page.wait_for_selector("[data-result-job] [data-field=status]:has-text('succeeded')", timeout=60_000)

    page.wait_for_selector("[data-remaining]:has-text('$50.00 of $50.00')", timeout=10_000)
