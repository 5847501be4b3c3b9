"""The streaming view: HTTP ranges through Django, headers, workspace checks, signed token URLs."""

from __future__ import annotations

import pytest
from django.urls import reverse

from media_assets import services
from tests.media_assets.conftest import requires_ffmpeg

pytestmark = [pytest.mark.django_db, requires_ffmpeg]


@pytest.fixture
def video(workspace, owner, mp4_file):
    return services.asset_create_from_file(workspace=workspace, path=mp4_file, source="uploaded", original_name="clip.mov", user=owner)


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def file_url(asset):
    return reverse("media_assets:asset-file", kwargs={"pk": asset.pk})


def test_it_serves_the_whole_file_with_accept_ranges(client, owner, video, mp4_file):
    client.force_login(owner)
    response = client.get(file_url(video))
    assert response.status_code == 200
    assert body(response) == mp4_file.read_bytes()
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "video/mp4"
    assert response["X-Content-Type-Options"] == "nosniff"
    # Uploaded bytes were not written by us: a download, never rendered by the browser as a page.
    assert response["Content-Disposition"].startswith("attachment;") and 'clip.mp4' in response["Content-Disposition"]
    assert "sandbox" in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    "header,start,end",
    [("bytes=0-99", 0, 99), ("bytes=100-199", 100, 199), ("bytes=-50", None, None), ("bytes=500-", 500, None)],
)
def test_it_answers_range_requests_with_206(client, owner, video, mp4_file, header, start, end):
    client.force_login(owner)
    data = mp4_file.read_bytes()
    size = len(data)
    if start is None:
        start, end = size - 50, size - 1
    end = size - 1 if end is None else end
    response = client.get(file_url(video), HTTP_RANGE=header)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end}/{size}"
    assert int(response["Content-Length"]) == end - start + 1
    assert body(response) == data[start : end + 1]


@pytest.mark.parametrize("header", ["bytes=999999999-", "bytes=abc", "bytes=10-5"])
def test_it_refuses_unsatisfiable_ranges_with_416(client, owner, video, mp4_file, header):
    client.force_login(owner)
    response = client.get(file_url(video), HTTP_RANGE=header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{mp4_file.stat().st_size}"


def test_it_serves_previews_inline_as_images(client, owner, video):
    client.force_login(owner)
    for variant, mime in [("poster", "image/jpeg"), ("thumbnail", "image/jpeg"), ("scrub_strip", "image/jpeg"), ("waveform", "image/png")]:
        response = client.get(reverse("media_assets:asset-preview", kwargs={"pk": video.pk, "variant": variant}))
        assert response.status_code == 200, variant
        assert response["Content-Type"] == mime
        assert response["Content-Disposition"].startswith("inline;")
        assert body(response)[:2] in (b"\xff\xd8", b"\x89P")
    assert client.get(reverse("media_assets:asset-preview", kwargs={"pk": video.pk, "variant": "file"})).status_code == 404


def test_a_reencoded_image_is_served_inline(client, owner, workspace, png_file):
    client.force_login(owner)
    image = services.asset_create_from_file(workspace=workspace, path=png_file, source="uploaded")
    response = client.get(file_url(image))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline;")


def test_another_workspace_gets_404_and_anonymous_goes_to_login(client, outsider, video):
    client.force_login(outsider)
    assert client.get(file_url(video)).status_code == 404
    assert client.get(file_url(video), HTTP_RANGE="bytes=0-10").status_code == 404
    client.logout()
    response = client.get(file_url(video))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_signed_stream_url_works_without_a_session_and_only_for_its_asset(client, video, workspace, png_file, mp4_file):
    url = services.asset_stream_url(asset=video)
    response = client.get(url, HTTP_RANGE="bytes=0-9")
    assert response.status_code == 206 and body(response) == mp4_file.read_bytes()[:10]
    other = services.asset_create_from_file(workspace=workspace, path=png_file, source="uploaded")
    token = url.split("token=")[1]
    assert client.get(f"{file_url(other)}?token={token}").status_code == 302  # not valid for another asset
    poster = reverse("media_assets:asset-preview", kwargs={"pk": video.pk, "variant": "poster"})
    assert client.get(f"{poster}?token={token}").status_code == 302  # nor for another variant
    assert client.get(f"{file_url(video)}?token={token[:-2]}xx").status_code == 302


def test_a_signed_stream_url_expires(client, video, settings, monkeypatch):
    url = services.asset_stream_url(asset=video, expire=30)
    import time as time_module

    real = time_module.time
    monkeypatch.setattr(time_module, "time", lambda: real() + 31)
    assert client.get(url).status_code == 302
