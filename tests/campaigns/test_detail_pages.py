"""What the universe and campaign pages show: platforms by their names, the logo as a picture."""

import pytest

from media_assets.models import MediaAsset
from tests.factories import CampaignFactory, UniverseFactory

pytestmark = pytest.mark.django_db


def test_it_names_the_campaigns_platforms_as_the_choices_label_them(client, owner, workspace):
    client.force_login(owner)
    campaign = CampaignFactory(workspace=workspace, target_platforms=["tiktok", "reels", "shorts"])
    html = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "TikTok, Instagram Reels, YouTube Shorts" in html
    assert "tiktok, reels, shorts" not in html


def test_it_shows_the_universes_logo_as_a_thumbnail_linked_to_the_library(client, owner, workspace):
    client.force_login(owner)
    logo = MediaAsset.objects.create(workspace=workspace, kind="image", file="x/logo.png", sha256="logo",
                                     original_name="aurora-logo.png", thumbnail="previews/logo.jpg")
    universe = UniverseFactory(workspace=workspace, logo=logo)
    html = client.get(f"/universes/{universe.pk}/").content.decode()
    assert f'<a class="logo-link" href="/library/{logo.pk}/"><img class="logo-thumb" src="/library/{logo.pk}/preview/thumbnail/" alt="aurora-logo.png"' in html


def test_it_links_the_logos_name_while_its_thumbnail_is_not_made_yet(client, owner, workspace):
    client.force_login(owner)
    logo = MediaAsset.objects.create(workspace=workspace, kind="image", file="x/logo.png", sha256="logo", original_name="aurora-logo.png")
    universe = UniverseFactory(workspace=workspace, logo=logo)
    html = client.get(f"/universes/{universe.pk}/").content.decode()
    assert f'<a class="logo-link" href="/library/{logo.pk}/">aurora-logo.png</a>' in html
    assert "/preview/thumbnail/" not in html
