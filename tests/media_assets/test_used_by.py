"""The "Used by" list of an asset's page links to what uses it, so that a marketer told "remove it
there first" can get there in one click."""

from __future__ import annotations

import pytest
from django.urls import reverse

from media_assets import services
from media_assets.models import Composition, CompositionClip
from tests.factories import ElementFactory, UniverseFactory
from tests.media_assets.conftest import requires_ffmpeg

pytestmark = [pytest.mark.django_db, requires_ffmpeg]


def test_the_used_by_list_links_to_the_element_and_the_composition(client, owner, workspace, mp4_file, mp3_file):
    client.force_login(owner)
    clip = services.asset_create_from_file(workspace=workspace, path=mp4_file, source="uploaded", title="Pour shot", make_previews=False)
    voice = services.asset_create_from_file(workspace=workspace, path=mp3_file, source="uploaded", title="VO", make_previews=False)
    element = ElementFactory(universe=UniverseFactory(workspace=workspace), name="Copper can")
    element.reference_assets.add(clip)
    teaser = Composition.objects.create(workspace=workspace, title="Summer teaser", voiceover=voice)
    CompositionClip.objects.create(composition=teaser, position=0, asset=clip)

    html = client.get(reverse("media_assets:asset-detail", kwargs={"pk": clip.pk})).content.decode()
    element_url = reverse("campaigns:element-detail", kwargs={"pk": element.pk})
    teaser_url = reverse("editor:composition-edit", kwargs={"pk": teaser.pk})
    assert f'<a href="{element_url}">Element &#x27;Copper can' in html
    assert f'<a href="{teaser_url}">Composition clip &#x27;Summer teaser #1' in html
    assert client.get(element_url).status_code == 200 and client.get(teaser_url).status_code == 200

    html = client.get(reverse("media_assets:asset-detail", kwargs={"pk": voice.pk})).content.decode()
    assert f'<a href="{teaser_url}">Composition &#x27;Summer teaser&#x27; (voiceover)</a>' in html

    # Refused delete: the page says why and still links there.
    response = client.post(reverse("media_assets:asset-delete", kwargs={"pk": clip.pk}))
    assert response.status_code == 409 and f'<a href="{teaser_url}">' in response.content.decode()
