"""The Generate page's "Recent videos" table: what a video cost, or what is held for it."""

from decimal import Decimal

import pytest

from generation.models import VideoGeneration

pytestmark = pytest.mark.django_db


def test_it_shows_what_a_finished_video_cost_and_what_a_running_one_may_cost(client, owner):
    # The estimate said $0.72 on the first provider; the table showed the $2.40 reserved for the
    # worst fallback as the video's "Cost (est.)", before and after it was made for $0.72.
    client.force_login(owner)
    for prompt in ("Finished can", "Running can"):
        client.post("/generate/", {"prompt": prompt, "mood": 50, "aspect_ratio": "9:16", "duration": 6,
                                   "resolution": "720p", "tier": "draft"})
    VideoGeneration.objects.filter(prompt="Finished can").update(estimated_cost=Decimal("2.40"), actual_cost=Decimal("0.72"))
    VideoGeneration.objects.filter(prompt="Running can").update(estimated_cost=Decimal("2.40"), actual_cost=None)

    html = client.get("/generate/").content.decode()

    finished = html[html.index("Finished can"):]
    running = html[html.index("Running can"):]
    assert '<td class="small" data-cost>$0.72</td>' in finished.split("</tr>")[0]
    assert '<td class="small" data-cost>up to $2.40</td>' in running.split("</tr>")[0]
    assert "Cost (est.)" not in html
