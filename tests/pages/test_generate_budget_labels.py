"""The Generate page's campaign dropdown, in a browser against the real stack: each option says how
much of the campaign's budget is left, and says it again once a generation has spent some (the page
rendered the labels before the video reserved and spent its cost)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from campaigns.models import Campaign
from tests.conftest import server_user
from tests.factories import CampaignFactory, WorkspaceFactory
from tests.generation.providers.cases import all_cases
from tests.pages.conftest import log_in

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_the_campaign_options_show_the_budget_left_after_a_video_spends_some(stack, page):
    case = next(c for c in all_cases() if c.identifier == "runway")
    fake = case.start_fake()
    try:
        workspace = WorkspaceFactory(name="Labels Co")
        server_user("labels", workspace)
        campaign = CampaignFactory(workspace=workspace, name="Launch", budget=Decimal("50.00"))
        other = CampaignFactory(workspace=workspace, name="Autumn", budget=Decimal("20.00"))
        stack.env.update({k: str(v) for k, v in case.config(fake).items() if isinstance(v, (str, int))})
        stack.env["SAFE_FETCH_ALLOW_LOOPBACK"] = "true"
        stack.start()
        log_in(page, stack.url, "labels")
        page.goto(f"{stack.url}/generate/")
        option = page.locator(f"#id_campaign option[value='{campaign.pk}']")
        assert option.inner_text() == "Launch ($50.00 left)"
        page.fill("#id_prompt", "A can on a park bench")
        page.select_option("#id_tier", "standard")
        page.fill("#id_duration", "5")
        page.select_option("#id_campaign", str(campaign.pk))
        page.click("[data-submit]")
        page.wait_for_function("document.querySelector('[data-result-job] [data-field=status]').textContent === 'succeeded'",
                               timeout=90_000)

        campaign.refresh_from_db()
        assert campaign.reserved == 0 and Decimal("0") < campaign.spent < Decimal("50")  # the video cost something
        # Its "Recent videos" row, added live as "up to" the reservation, now says what it cost.
        page.wait_for_function("([sel, text]) => document.querySelector(sel).textContent === text",
                               arg=["[data-recent-videos] tbody tr [data-cost]", f"${campaign.spent:.2f}"], timeout=10_000)
        left = f"Launch (${campaign.remaining:.2f} left)"
        page.wait_for_function("([sel, text]) => document.querySelector(sel).text === text",
                               arg=[f"#id_campaign option[value='{campaign.pk}']", left], timeout=10_000)
        assert page.locator("[data-remaining]").inner_text() == f"${campaign.remaining:.2f} of $50.00"
        assert page.locator(f"#id_campaign option[value='{other.pk}']").inner_text() == "Autumn ($20.00 left)"
        assert Campaign.objects.get(pk=other.pk).remaining == Decimal("20.00")
    finally:
        fake.stop()
