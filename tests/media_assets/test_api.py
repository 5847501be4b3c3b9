"""The library's REST API: list with filters and pagination, multipart upload, detail, update,
delete (409 while referenced), download URL."""

from __future__ import annotations

import pytest
from django.urls import reverse

from campaigns.models import Universe
from media_assets import services
from media_assets.models import MediaAsset
from tests.factories import CampaignFactory, ElementFactory, UniverseFactory
from tests.media_assets import hostile
from tests.media_assets.conftest import requires_ffmpeg
from tests.conftest import stored_files

pytestmark = [pytest.mark.django_db, requires_ffmpeg]


def produce(workspace, path, **kwargs):
    return services.asset_create_from_file(workspace=workspace, path=path, make_previews=False, **{"source": "generated", **kwargs})


def test_it_uploads_multipart_and_returns_the_asset(api_client, owner, workspace, mp3_file, django_capture_on_commit_callbacks):
    api_client.force_authenticate(owner)
    campaign = CampaignFactory(workspace=workspace)
    with django_capture_on_commit_callbacks(execute=True):
        with open(mp3_file, "rb") as fh:
            response = api_client.post(reverse("api-asset-list"), {"file": fh, "campaign": campaign.pk, "tags": "vo, Draft"}, format="multipart")
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["kind"], data["mime"], data["campaign"], data["tags"]) == ("audio", "audio/mpeg", campaign.pk, ["vo", "draft"])
    assert data["status"] == "ingesting" and data["ingest_job"]
    with open(mp3_file, "rb") as fh:
        again = api_client.post(reverse("api-asset-list"), {"file": fh}, format="multipart")
    assert again.status_code == 200 and again.json()["id"] == data["id"]
    detail = api_client.get(reverse("api-asset-detail", kwargs={"pk": data["id"]})).json()
    assert detail["status"] == "ready" and set(detail["previews"]) == {"waveform"} and detail["loudness_lufs"] is not None


def test_it_refuses_a_hostile_upload_with_a_reason_and_leaves_nothing(api_client, owner, workspace, tmp_path, media_root):
    api_client.force_authenticate(owner)
    fake = hostile.hls_playlist(tmp_path / "movie.mp4", segment_uri="http://127.0.0.1:9/seg.ts")
    with open(fake, "rb") as fh:
        response = api_client.post(reverse("api-asset-list"), {"file": fh}, format="multipart")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "media_rejected" and error["reason"] and "playlist" in error["message"].lower()
    assert not MediaAsset.objects.exists() and stored_files(media_root) == []


SRT = "1\n00:00:00,500 --> 00:00:02,000\n新しいボトル, now 20% off\n\n2\n00:00:02,500 --> 00:00:04,000\nOrder today\n"


def test_it_takes_an_uploaded_srt_as_a_ready_caption_track_that_a_composition_can_use(
    api_client, owner, workspace, tmp_path, django_capture_on_commit_callbacks
):
    api_client.force_authenticate(owner)
    srt = tmp_path / "launch captions.srt"
    srt.write_text(SRT, encoding="utf-8")
    with django_capture_on_commit_callbacks(execute=True):
        with open(srt, "rb") as fh:
            response = api_client.post(reverse("api-asset-list"), {"file": fh, "tags": "captions"}, format="multipart")
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["kind"], data["mime"], data["status"], data["ingest_job"]) == ("subtitle", "application/x-subrip", "ready", None)
    assert (data["original_name"], data["tags"]) == ("launch captions.srt", ["captions"])
    asset = MediaAsset.objects.get(pk=data["id"])
    with asset.file.open("rb") as fh:
        assert fh.read() == srt.read_bytes()
    created = api_client.post(reverse("api-composition-list"), {"title": "Launch", "caption_asset": asset.pk}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["caption_asset"] == asset.pk


@pytest.mark.parametrize("name,content,words", [
    ("captions.srt", None, "utf-8 text"),  # a video named .srt
    ("captions.vtt", "just some words\n", "subtitles must be srt"),
    ("captions.ass", b"\xff\xfe\x00bad", "utf-8 text"),
])
def test_it_refuses_a_subtitle_named_file_that_is_not_subtitles_and_keeps_nothing(
    api_client, owner, workspace, tmp_path, media_root, mp4_file, name, content, words
):
    api_client.force_authenticate(owner)
    path = tmp_path / name
    if content is None:
        path.write_bytes(mp4_file.read_bytes())
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with open(path, "rb") as fh:
        response = api_client.post(reverse("api-asset-list"), {"file": fh}, format="multipart")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "media_rejected" and words in error["message"].lower()
    assert not MediaAsset.objects.exists() and stored_files(media_root) == []


def test_it_refuses_an_upload_over_the_cap(api_client, owner, workspace, settings, mp4_file, media_root):
    settings.MEDIA_MAX_UPLOAD_BYTES = 1024
    api_client.force_authenticate(owner)
    with open(mp4_file, "rb") as fh:
        response = api_client.post(reverse("api-asset-list"), {"file": fh}, format="multipart")
    assert response.status_code == 400
    assert response.json()["error"]["reason"] == "too_big"
    assert not MediaAsset.objects.exists() and stored_files(media_root) == []


def test_it_lists_with_filters_and_pagination(api_client, owner, workspace, other_workspace, mp4_file, mp3_file, png_file):
    api_client.force_authenticate(owner)
    campaign = CampaignFactory(workspace=workspace)
    video = produce(workspace, mp4_file, campaign=campaign)
    audio = produce(workspace, mp3_file)
    services.asset_update(asset=audio, tags=["voice", "final"])
    image = produce(workspace, png_file, source="uploaded", title="Product shot")
    produce(other_workspace, png_file)
    url = reverse("api-asset-list")

    def ids(**params):
        return [a["id"] for a in api_client.get(url, params).json()["results"]]

    assert set(ids()) == {video.pk, audio.pk, image.pk}
    assert ids(kind="video") == [video.pk]
    assert ids(campaign=campaign.pk) == [video.pk]
    assert ids(tag="voice") == [audio.pk]
    assert ids(source="uploaded") == [image.pk]
    assert ids(q="product") == [image.pk]
    page = api_client.get(url, {"page_size": 2}).json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]


def test_it_updates_tags_and_links_within_the_workspace(api_client, owner, workspace, other_workspace, mp4_file):
    api_client.force_authenticate(owner)
    asset = produce(workspace, mp4_file)
    element = ElementFactory(universe=UniverseFactory(workspace=workspace))
    url = reverse("api-asset-detail", kwargs={"pk": asset.pk})
    response = api_client.patch(url, {"tags": ["Hero", "hero", "summer"], "element": element.pk, "title": "Opening"}, format="json")
    assert response.status_code == 200
    assert response.json()["tags"] == ["hero", "summer"] and response.json()["element"] == element.pk
    foreign = CampaignFactory(workspace=other_workspace)
    refused = api_client.patch(url, {"campaign": foreign.pk}, format="json")
    assert refused.status_code == 400 and "campaign" in refused.json()["error"]["fields"]
    unlink = api_client.patch(url, {"element": None}, format="json")
    assert unlink.json()["element"] is None


def test_delete_is_refused_while_referenced_and_works_after(
    api_client, owner, workspace, png_file, media_root, django_capture_on_commit_callbacks
):
    api_client.force_authenticate(owner)
    logo = produce(workspace, png_file)
    universe = UniverseFactory(workspace=workspace, logo=logo)
    element = ElementFactory(universe=universe)
    element.reference_assets.add(logo)
    url = reverse("api-asset-detail", kwargs={"pk": logo.pk})
    response = api_client.delete(url)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "asset_in_use" and len(error["references"]) == 2
    element.reference_assets.clear()
    assert api_client.delete(url).status_code == 409  # still the universe's logo
    Universe.objects.filter(pk=universe.pk).update(logo=None)
    with django_capture_on_commit_callbacks(execute=True):
        assert api_client.delete(url).status_code == 204
    assert not MediaAsset.objects.exists() and stored_files(media_root) == []


def test_it_gives_a_download_url_that_works_without_the_session(api_client, client, owner, workspace, mp4_file):
    api_client.force_authenticate(owner)
    asset = produce(workspace, mp4_file)
    response = api_client.get(reverse("api-asset-download", kwargs={"pk": asset.pk}))
    assert response.status_code == 200
    data = response.json()
    assert data["expires_in"] > 0 and data["variant"] == "file"
    fetched = client.get(data["url"])
    assert fetched.status_code == 200 and b"".join(fetched.streaming_content) == mp4_file.read_bytes()
    bad = api_client.get(reverse("api-asset-download", kwargs={"pk": asset.pk}), {"variant": "secret"})
    assert bad.status_code == 400
    no_poster = api_client.get(reverse("api-asset-download", kwargs={"pk": asset.pk}), {"variant": "poster"})
    assert no_poster.status_code == 404


def test_the_schema_documents_the_library_api(api_client, owner):
    api_client.force_authenticate(owner)
    schema = api_client.get(reverse("api-schema"), {"format": "json"}).json()
    paths = schema["paths"]
    assert "multipart/form-data" in paths["/api/assets/"]["post"]["requestBody"]["content"]
    assert {"get", "patch", "delete"} <= set(paths["/api/assets/{id}/"])
    assert "/api/assets/{id}/download/" in paths
