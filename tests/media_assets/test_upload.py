"""Uploads and produced media through the library services: validation by content, nothing left
behind on refusal, content-addressed dedup, atomic store, previews made by the ingest job."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import stored_files
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from media_assets import services
from media_assets.models import MediaAsset
from media_assets.storage import media_storage
from media_assets.validation import MediaRejected
from mediastudio.jobs.models import Job
from tests.factories import CampaignFactory, ElementFactory, UniverseFactory
from tests.media_assets import hostile
from tests.media_assets.conftest import requires_ffmpeg

pytestmark = [pytest.mark.django_db, requires_ffmpeg]


def temp_files(settings) -> list[Path]:
    tmp = Path(settings.MEDIA_TEMP_DIR)
    return [p for p in tmp.rglob("*")] if tmp.exists() else []


def upload(client, path: Path, name: str | None = None, **extra):
    with open(path, "rb") as fh:
        return client.post(
            reverse("media_assets:asset-upload"),
            {"file": SimpleUploadedFile(name or path.name, fh.read()), **extra},
            HTTP_ACCEPT="application/json",
        )


def hostile_files(tmp_path: Path, mp4: Path, server_base: str) -> dict[str, tuple[Path, str]]:
    return {
        "hls playlist as .mp4": (hostile.hls_playlist(tmp_path / "movie.mp4", segment_uri=f"{server_base}/seg.ts"), "playlist"),
        "ffconcat list as .mp4": (hostile.ffconcat_list(tmp_path / "cat.mp4", target=str(mp4)), ""),
        "svg as .png": (hostile.svg_as_png(tmp_path / "logo.png"), "its content is not a video, sound or image"),
        "html as .png": (hostile.html_as_png(tmp_path / "page.png"), "its content is not a video, sound or image"),
        "truncated mp4": (hostile.truncate(mp4, tmp_path / "cut.mp4", keep=0.4), ""),
        "decompression bomb": (hostile.png_bomb(tmp_path / "bomb.png"), "pixels"),
    }


HOSTILE = ["hls playlist as .mp4", "ffconcat list as .mp4", "svg as .png", "html as .png", "truncated mp4", "decompression bomb"]


@pytest.mark.parametrize("case", HOSTILE)
def test_it_refuses_hostile_media_through_the_page_and_leaves_nothing_behind(
    client, owner, workspace, settings, media_root, tmp_path, mp4_file, recording_server, case
):
    client.force_login(owner)
    (tmp_path / "in").mkdir()
    path, words = hostile_files(tmp_path / "in", mp4_file, recording_server.base)[case]
    response = upload(client, path)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["message"] and error["reason"]
    assert words.lower() in error["message"].lower()
    body = response.content.decode()
    assert "/etc/passwd" not in body and str(tmp_path) not in body  # no local paths or file bytes echoed
    assert not MediaAsset.objects.exists()
    assert not Job.objects.exists()
    assert stored_files(media_root) == []
    assert temp_files(settings) == []
    assert recording_server.connections == []  # the playlist's segment was never fetched


def test_it_refuses_a_disguised_playlist_with_a_readable_reason_on_the_html_page(client, owner, workspace, tmp_path, media_root):
    client.force_login(owner)
    fake = hostile.hls_playlist(tmp_path / "phone-video.mp4", segment_uri="http://169.254.169.254/latest/meta-data")
    with open(fake, "rb") as fh:
        response = client.post(reverse("media_assets:asset-upload"), {"files": [SimpleUploadedFile("phone-video.mp4", fh.read())]})
    assert response.status_code == 400
    text = response.content.decode()
    assert "phone-video.mp4" in text and "playlist" in text.lower()
    assert not MediaAsset.objects.exists() and stored_files(media_root) == []


def test_a_subtitle_file_dropped_in_the_library_is_kept_as_a_ready_caption_track(client, owner, workspace, tmp_path, media_root):
    client.force_login(owner)
    vtt = tmp_path / "launch.vtt"
    vtt.write_text("WEBVTT\n\n00:00.500 --> 00:02.000\n지금 주문하세요\n", encoding="utf-8")
    response = upload(client, vtt)
    assert response.status_code in (200, 201), response.content
    asset = MediaAsset.objects.get(workspace=workspace)
    assert (asset.kind, asset.mime, asset.status, asset.ingest_job) == ("subtitle", "text/vtt", "ready", None)
    assert not Job.objects.exists() and len(stored_files(media_root)) == 1


def test_it_stops_an_upload_over_the_size_cap_while_it_streams(client, owner, workspace, settings, media_root, mp4_file):
    settings.MEDIA_MAX_UPLOAD_BYTES = 2048
    client.force_login(owner)
    response = upload(client, mp4_file)
    assert response.status_code == 400
    assert response.json()["errors"][0]["reason"] == "too_big"
    assert "upload limit" in response.json()["errors"][0]["message"]
    assert not MediaAsset.objects.exists() and stored_files(media_root) == [] and temp_files(settings) == []


def test_it_stores_an_upload_and_its_ingest_job_makes_previews(
    client, owner, workspace, settings, media_root, mp4_file, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    campaign = CampaignFactory(workspace=workspace)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, mp4_file, name="Phone Video.MOV", campaign=campaign.pk, tags="hero, Summer")
    assert response.status_code == 200, response.content
    asset = MediaAsset.objects.get()
    assert (asset.kind, asset.mime, asset.source) == ("video", "video/mp4", "uploaded")
    assert asset.file.name.endswith(f"{asset.sha256}.mp4")  # the extension comes from the content
    assert asset.campaign == campaign and asset.tags == ["hero", "summer"]
    job = asset.ingest_job
    assert job.kind == Job.Kind.INGEST and job.status == Job.Status.SUCCEEDED and job.progress == 100
    assert asset.status == MediaAsset.Status.READY and asset.preview_error == ""
    assert asset.loudness_lufs is not None and -40 < asset.loudness_lufs < 0
    assert (asset.width, asset.height, round(asset.duration)) == (160, 90, 1)
    storage = media_storage()
    with storage.open(asset.scrub_strip.name) as fh, Image.open(fh) as strip:
        assert strip.height == 90 and strip.width > 5 * 150  # ten 160x90 frames side by side
    with storage.open(asset.thumbnail.name) as fh, Image.open(fh) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) <= 320
    with storage.open(asset.waveform.name) as fh, Image.open(fh) as wave:
        assert wave.format == "PNG"
    assert storage.open(asset.poster.name).read(3) == b"\xff\xd8\xff"
    assert temp_files(settings) == [] or all(not p.is_file() for p in temp_files(settings))


def test_it_makes_a_waveform_for_audio_and_strips_image_metadata(
    owner, workspace, mp3_file, jpeg_exif_file, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with open(mp3_file, "rb") as fh:
            audio = services.asset_ingest_upload(workspace=workspace, uploaded_file=SimpleUploadedFile("tone.mp3", fh.read()), user=owner).asset
        with open(jpeg_exif_file, "rb") as fh:
            image = services.asset_ingest_upload(workspace=workspace, uploaded_file=SimpleUploadedFile("photo.jpg", fh.read()), user=owner).asset
    audio.refresh_from_db()
    image.refresh_from_db()
    assert audio.kind == "audio" and audio.waveform and not audio.thumbnail and audio.status == "ready"
    assert image.kind == "image" and image.thumbnail and image.reencoded
    with media_storage().open(image.file.name) as fh, Image.open(fh) as stored:
        exif = stored.getexif()
        assert 0x010F not in exif and 0x0131 not in exif  # camera make, software: gone
        assert stored.size == (40, 80)  # orientation applied
    assert image.sha256 != __import__("hashlib").sha256(jpeg_exif_file.read_bytes()).hexdigest()


def test_it_stores_the_same_bytes_once_per_workspace(owner, workspace, other_workspace, media_root, mp4_file):
    first = services.asset_create_from_file(workspace=workspace, path=mp4_file, source="generated", make_previews=False)
    again = services.asset_create_from_file(workspace=workspace, path=mp4_file, source="rendered", title="other", make_previews=False)
    theirs = services.asset_create_from_file(workspace=other_workspace, path=mp4_file, source="generated", make_previews=False)
    assert again.pk == first.pk and again.source == "generated"
    assert theirs.pk != first.pk and theirs.sha256 == first.sha256
    assert MediaAsset.objects.count() == 2
    assert len(stored_files(media_root)) == 2  # one object per workspace


def test_a_fault_between_storage_write_and_row_commit_leaves_no_orphan_and_no_dangling_row(
    workspace, media_root, mp4_file, monkeypatch
):
    real = services._asset_row_create

    def insert_then_fail(asset):
        real(asset)  # the row is written inside the transaction...
        assert media_storage().exists(asset.file.name)  # ...after the object was stored
        raise RuntimeError("database connection lost before commit")

    monkeypatch.setattr(services, "_asset_row_create", insert_then_fail)
    with pytest.raises(RuntimeError):
        services.asset_create_from_file(workspace=workspace, path=mp4_file, source="generated")
    assert not MediaAsset.objects.exists()
    assert stored_files(media_root) == []
    monkeypatch.setattr(services, "_asset_row_create", real)
    asset = services.asset_create_from_file(workspace=workspace, path=mp4_file, source="generated", make_previews=False)
    assert media_storage().exists(asset.file.name)


def test_a_fault_in_storage_leaves_no_row(workspace, media_root, mp4_file, monkeypatch):
    def broken_put(*, src, name, storage=None):
        raise OSError("disk full")

    monkeypatch.setattr(services, "storage_put", broken_put)
    with pytest.raises(OSError):
        services.asset_create_from_file(workspace=workspace, path=mp4_file, source="generated")
    assert not MediaAsset.objects.exists() and stored_files(media_root) == []


def test_it_creates_assets_from_produced_files_with_previews_now(workspace, owner, mp4_file, tmp_path):
    universe = UniverseFactory(workspace=workspace)
    element = ElementFactory(universe=universe)
    asset = services.asset_create_from_file(
        workspace=workspace, path=mp4_file, source="generated", kind="video", element=element,
        title="Shot 1", user=owner, metadata={"provider": "animatic"},
    )
    assert asset.status == "ready" and asset.poster and asset.scrub_strip and asset.waveform
    assert asset.metadata["provider"] == "animatic" and asset.element == element and asset.created_by == owner
    assert asset.loudness_lufs is not None
    assert mp4_file.exists()  # the caller's file is not consumed
    with pytest.raises(MediaRejected) as refused:
        services.asset_create_from_file(workspace=workspace, path=mp4_file, source="generated", kind="audio")
    assert refused.value.reason_code == "kind_mismatch"
    srt = tmp_path / "captions.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:01,000\nHello\n")
    subs = services.asset_create_from_file(workspace=workspace, path=srt, source="generated", kind="subtitle")
    assert (subs.kind, subs.mime, subs.file.name.endswith(".srt")) == ("subtitle", "application/x-subrip", True)


def test_it_hands_large_produced_files_to_an_ingest_job(workspace, settings, mp4_file, django_capture_on_commit_callbacks):
    settings.MEDIA_SYNC_PREVIEW_MAX_BYTES = 10
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        asset = services.asset_create_from_file(workspace=workspace, path=mp4_file, source="rendered")
    assert asset.status == "ingesting" and not asset.poster
    assert asset.ingest_job.status == Job.Status.QUEUED and callbacks


def test_it_refuses_links_to_another_workspaces_campaign(workspace, other_workspace, mp4_file, media_root):
    foreign = CampaignFactory(workspace=other_workspace)
    with pytest.raises(services.ApplicationError):
        services.asset_create_from_file(workspace=workspace, path=mp4_file, source="generated", campaign=foreign)
    assert stored_files(media_root) == []


def test_a_failed_ingest_marks_the_asset_failed(workspace, owner, mp4_file, monkeypatch, django_capture_on_commit_callbacks):
    def explode(*, asset, progress=None):
        raise RuntimeError("storage unreachable")

    monkeypatch.setattr(services, "asset_ingest", explode)
    with django_capture_on_commit_callbacks(execute=True):
        with open(mp4_file, "rb") as fh:
            asset = services.asset_ingest_upload(workspace=workspace, uploaded_file=SimpleUploadedFile("a.mp4", fh.read()), user=owner).asset
    asset.refresh_from_db()
    assert asset.status == "failed" and "storage unreachable" in asset.preview_error
    assert asset.ingest_job.status in (Job.Status.FAILED, Job.Status.QUEUED)
