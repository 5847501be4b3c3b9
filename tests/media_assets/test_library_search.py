"""Library search and filters as a marketer types them: accented tags and titles, and a stale
filter value in the address (a tag no file has any more) that must not undo the other filters."""

from __future__ import annotations

import pytest
from django.urls import reverse

from media_assets import services
from tests.media_assets.conftest import requires_ffmpeg

pytestmark = [pytest.mark.django_db, requires_ffmpeg]


@pytest.fixture
def library(workspace, mp4_file, mp3_file, png_file):
    video = services.asset_create_from_file(workspace=workspace, path=mp4_file, source="uploaded", title="Été café", make_previews=False)
    audio = services.asset_create_from_file(workspace=workspace, path=mp3_file, source="uploaded", title="Voiceover", make_previews=False)
    image = services.asset_create_from_file(workspace=workspace, path=png_file, source="uploaded", title="Packshot", make_previews=False)
    services.asset_update(asset=audio, tags=["Été", "vo"])
    services.asset_update(asset=image, tags=["crème brûlée"])
    return {"video": video, "audio": audio, "image": image}


def shown(client, library, params) -> list[str]:
    html = client.get(reverse("media_assets:asset-list"), params).content.decode()
    return [key for key in ("video", "audio", "image") if f'data-asset-id="{library[key].pk}"' in html]


@pytest.mark.parametrize(
    "params,expected",
    [
        ({"tag": "été"}, ["audio"]),
        ({"tag": "crème brûlée"}, ["image"]),
        ({"q": "brûlée"}, ["image"]),
        ({"q": "ÉTÉ"}, ["video", "audio"]),  # the title "Été café" and the tag "été"
        ({"q": "été café"}, ["video"]),
        ({"q": "CAFÉ"}, ["video"]),
        # The tags' JSON text (quotes, commas, escapes) is not searched, only the tags.
        ({"q": '"'}, []),
        ({"q": ","}, []),
        ({"q": "u00e9"}, []),
    ],
)
def test_it_finds_accented_tags_and_titles_whatever_their_case(client, owner, library, params, expected):
    client.force_login(owner)
    assert shown(client, library, params) == expected


def test_the_tag_link_of_the_detail_page_lists_the_files_with_that_tag(client, owner, library):
    client.force_login(owner)
    html = client.get(reverse("media_assets:asset-detail", kwargs={"pk": library["audio"].pk})).content.decode()
    assert "?tag=%C3%A9t%C3%A9" in html
    assert shown(client, library, {"tag": "été"}) == ["audio"]


def test_the_api_filters_by_an_accented_tag_and_searches_it(client, owner, library):
    client.force_login(owner)
    by_tag = client.get(reverse("api-asset-list"), {"tag": "Été"}).json()
    assert [a["id"] for a in by_tag["results"]] == [library["audio"].pk]
    searched = client.get(reverse("api-asset-list"), {"q": "brûlée"}).json()
    assert [a["id"] for a in searched["results"]] == [library["image"].pk]


def test_a_stale_filter_value_drops_only_itself(client, owner, library):
    client.force_login(owner)
    # A tag no file has any more (bookmarked, or the back button after retagging) with a type.
    assert shown(client, library, {"kind": "audio", "tag": "gone"}) == ["audio"]
    # A campaign of another workspace (after switching workspace) with a search.
    assert shown(client, library, {"q": "packshot", "campaign": "999999"}) == ["image"]
