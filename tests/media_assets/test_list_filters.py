"""The list API's query parameters: the library page's filter rules; a bad value is a 400 in the
project's error format that names the valid values, never an empty 200 or a filter ignored."""

from __future__ import annotations

import pytest
from django.urls import reverse

from media_assets import services
from tests.factories import CampaignFactory
from tests.media_assets.conftest import requires_ffmpeg

pytestmark = [pytest.mark.django_db, requires_ffmpeg]


@pytest.mark.parametrize("params,field,named", [
    ({"kind": "bogus"}, "kind", "video, audio, image, subtitle"),
    ({"status": "bogus"}, "status", "ingesting, ready, failed"),
    ({"source": "bogus"}, "source", "uploaded, generated, rendered, fetched"),
    ({"campaign": "abc"}, "campaign", "'abc'"),
    ({"element": "abc"}, "element", "'abc'"),
    ({"workspace": "abc"}, "workspace", "whole number"),
])
def test_it_refuses_a_bad_filter_value_naming_the_valid_ones(api_client, owner, workspace, params, field, named):
    api_client.force_authenticate(owner)
    response = api_client.get(reverse("api-asset-list"), params)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and list(error["fields"]) == [field]
    assert named in error["fields"][field][0] and named in error["message"]


def test_another_workspaces_campaign_is_refused_like_an_unknown_one(api_client, owner, workspace, other_workspace):
    api_client.force_authenticate(owner)
    theirs = CampaignFactory(workspace=other_workspace)
    response = api_client.get(reverse("api-asset-list"), {"campaign": theirs.pk})
    assert response.status_code == 400 and list(response.json()["error"]["fields"]) == ["campaign"]


def test_valid_filters_still_narrow_and_an_unused_tag_matches_nothing(api_client, owner, workspace, mp3_file, png_file):
    api_client.force_authenticate(owner)
    campaign = CampaignFactory(workspace=workspace)
    audio = services.asset_create_from_file(workspace=workspace, path=mp3_file, source="uploaded", campaign=campaign, make_previews=False)
    services.asset_create_from_file(workspace=workspace, path=png_file, source="generated", make_previews=False)
    url = reverse("api-asset-list")

    def ids(**params):
        response = api_client.get(url, params)
        assert response.status_code == 200, response.content
        return [a["id"] for a in response.json()["results"]]

    assert ids(kind="audio", status="ready", campaign=campaign.pk, workspace=workspace.pk) == [audio.pk]
    assert ids(tag="never-used") == []
    assert len(ids(page_size=1)) == 1
