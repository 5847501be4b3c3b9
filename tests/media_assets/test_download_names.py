"""The name a file downloads under: its title as renamed (else its original name), with the stored
content's extension, safe in a Content-Disposition header."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.urls import reverse

from media_assets import services
from tests.media_assets.conftest import requires_ffmpeg

pytestmark = [pytest.mark.django_db, requires_ffmpeg]


@pytest.fixture
def clip(workspace, owner, mp4_file):
    return services.asset_create_from_file(workspace=workspace, path=mp4_file, source="uploaded", original_name="clip one.mov",
                                           title="clip one", user=owner)


def disposition(client, asset, variant="file"):
    if variant == "file":
        url = reverse("media_assets:asset-file", kwargs={"pk": asset.pk})
    else:
        url = reverse("media_assets:asset-preview", kwargs={"pk": asset.pk, "variant": variant})
    response = client.get(url)
    assert response.status_code == 200
    return response["Content-Disposition"]


def test_a_renamed_file_downloads_under_its_new_title_with_its_real_extension(client, owner, clip):
    client.force_login(owner)
    assert disposition(client, clip) == 'attachment; filename="clip one.mp4"'  # the .mov was an MP4
    client.post(reverse("media_assets:asset-edit", kwargs={"pk": clip.pk}), {"title": "Hero shot", "tags": ""})
    clip.refresh_from_db()
    assert clip.title == "Hero shot"
    assert disposition(client, clip) == 'attachment; filename="Hero shot.mp4"'
    assert disposition(client, clip, "poster") == 'inline; filename="Hero shot-poster.jpg"'
    services.asset_update(asset=clip, title="Hero shot.MP4")  # typed with its extension: not doubled
    assert disposition(client, clip) == 'attachment; filename="Hero shot.mp4"'


def test_without_a_title_the_original_name_is_used(client, owner, clip):
    client.force_login(owner)
    services.asset_update(asset=clip, title="")
    assert disposition(client, clip) == 'attachment; filename="clip one.mp4"'


def test_quotes_slashes_and_non_ascii_letters_are_safe_in_the_header(client, owner, clip):
    client.force_login(owner)
    services.asset_update(asset=clip, title='Été "final"/cut\\v2\r\nX-Evil: 1')
    header = disposition(client, clip)
    assert header == "attachment; filename*=utf-8''" + quote("Été _final_cut_v2_X-Evil_ 1.mp4")
    services.asset_update(asset=clip, title='Say "cheese"')
    assert disposition(client, clip) == 'attachment; filename="Say _cheese_.mp4"'
