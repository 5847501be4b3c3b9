"""HEAD on the streaming views: the headers a GET would have (size, ranges, type, name), no body,
and the file is not read for it."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse

from media_assets import services, views
from tests.media_assets.conftest import requires_ffmpeg

pytestmark = [pytest.mark.django_db, requires_ffmpeg]

SAME = ("Content-Type", "Content-Length", "Accept-Ranges", "Content-Disposition", "Content-Range", "Cache-Control",
        "Content-Security-Policy", "X-Content-Type-Options")


@pytest.fixture
def clip(workspace, owner, mp4_file):
    return services.asset_create_from_file(workspace=workspace, path=mp4_file, source="uploaded", original_name="clip.mp4", user=owner)


@pytest.mark.parametrize("range_header", [None, "bytes=100-199"])
def test_head_answers_the_headers_of_get(client, owner, clip, mp4_file, range_header):
    client.force_login(owner)
    url = reverse("media_assets:asset-file", kwargs={"pk": clip.pk})
    extra = {"HTTP_RANGE": range_header} if range_header else {}
    got = client.get(url, **extra)
    head = client.head(url, **extra)
    assert head.status_code == got.status_code == (206 if range_header else 200)
    assert {h: head.get(h) for h in SAME} == {h: got.get(h) for h in SAME}
    assert head["Content-Length"] == ("100" if range_header else str(mp4_file.stat().st_size))
    assert head["Accept-Ranges"] == "bytes"


def test_head_works_for_previews_and_signed_urls(client, clip):
    preview = reverse("media_assets:asset-preview", kwargs={"pk": clip.pk, "variant": "poster"})
    assert client.head(preview).status_code == 302  # anonymous: to the login page, as GET
    signed = services.asset_stream_url(asset=clip, variant="file")
    response = client.head(signed)
    assert response.status_code == 200 and int(response["Content-Length"]) == clip.size


def test_the_view_itself_sends_no_body_for_head(owner, clip, monkeypatch):
    monkeypatch.setattr("media_assets.ranges.iter_file_range", lambda *a, **k: pytest.fail("the file was read for a HEAD"))
    request = RequestFactory().head(reverse("media_assets:asset-file", kwargs={"pk": clip.pk}))
    request.user = owner
    response = views.asset_file(request, pk=clip.pk)
    assert response.status_code == 200 and not response.streaming and response.content == b""
    assert int(response["Content-Length"]) == clip.size
