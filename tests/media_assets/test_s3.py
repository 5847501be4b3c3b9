"""The S3 path against a real S3-protocol server (moto's standalone server, started here):
objects stored and read back over HTTP, private, served by signed URLs, dedup, atomicity."""

from __future__ import annotations

import boto3
import httpx
import pytest
from django.urls import reverse

from media_assets import services
from media_assets.models import MediaAsset
from media_assets.storage import is_remote, media_storage
from tests.conftest import free_port
from tests.media_assets.conftest import requires_ffmpeg

pytestmark = [pytest.mark.django_db, requires_ffmpeg]
BUCKET = "studio-media"
CREDS = {"aws_access_key_id": "test-key", "aws_secret_access_key": "test-secret", "region_name": "us-east-1"}


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint, settings, tmp_path):
    client = boto3.client("s3", endpoint_url=s3_endpoint, **CREDS)
    client.create_bucket(Bucket=BUCKET)
    settings.MEDIA_TEMP_DIR = tmp_path / "tmp"
    settings.AWS_QUERYSTRING_EXPIRE = 120
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "access_key": CREDS["aws_access_key_id"],
                "secret_key": CREDS["aws_secret_access_key"],
                "region_name": "us-east-1",
                "default_acl": None,
                "querystring_auth": True,
                "querystring_expire": 120,
                "file_overwrite": False,
                "signature_version": "s3v4",
                "addressing_style": "path",
            },
        },
    }
    yield client
    for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    client.delete_bucket(Bucket=BUCKET)


def keys(client) -> list[str]:
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_it_round_trips_an_asset_and_its_previews_through_s3(s3, workspace, owner, mp4_file, client):
    assert is_remote()
    asset = services.asset_create_from_file(workspace=workspace, path=mp4_file, source="uploaded", original_name="clip.mp4", user=owner)
    assert asset.status == "ready" and asset.poster and asset.scrub_strip and asset.waveform
    assert set(keys(s3)) == set(asset.stored_names)
    head = s3.head_object(Bucket=BUCKET, Key=asset.file.name)
    assert head["ContentLength"] == mp4_file.stat().st_size
    # Private: an unsigned GET is refused by the server.
    plain = httpx.get(f"{s3.meta.endpoint_url}/{BUCKET}/{asset.file.name}")
    assert plain.status_code == 403

    client.force_login(owner)
    response = client.get(reverse("media_assets:asset-file", kwargs={"pk": asset.pk}))
    assert response.status_code == 302
    signed = response["Location"]
    assert "X-Amz-Signature=" in signed and "X-Amz-Expires=120" in signed
    fetched = httpx.get(signed)
    assert fetched.status_code == 200 and fetched.content == mp4_file.read_bytes()
    assert fetched.headers["content-type"] == "video/mp4"
    assert fetched.headers["content-disposition"].startswith("attachment;")
    ranged = httpx.get(signed, headers={"Range": "bytes=10-19"})
    assert ranged.status_code == 206 and ranged.content == mp4_file.read_bytes()[10:20]

    preview = client.get(reverse("media_assets:asset-preview", kwargs={"pk": asset.pk, "variant": "poster"}))
    poster = httpx.get(preview["Location"])
    assert poster.status_code == 200 and poster.content[:3] == b"\xff\xd8\xff"


def test_another_workspace_is_refused_before_any_signed_url(s3, workspace, owner, outsider, png_file, client):
    asset = services.asset_create_from_file(workspace=workspace, path=png_file, source="uploaded", user=owner)
    client.force_login(outsider)
    assert client.get(reverse("media_assets:asset-file", kwargs={"pk": asset.pk})).status_code == 404


def test_the_api_download_url_is_a_signed_s3_url(s3, workspace, owner, mp3_file, api_client):
    asset = services.asset_create_from_file(workspace=workspace, path=mp3_file, source="generated", make_previews=False)
    api_client.force_authenticate(owner)
    url = api_client.get(reverse("api-asset-download", kwargs={"pk": asset.pk})).json()["url"]
    fetched = httpx.get(url)
    assert fetched.status_code == 200 and fetched.content == mp3_file.read_bytes()


def test_it_stores_the_same_bytes_once_on_s3(s3, workspace, png_file):
    first = services.asset_create_from_file(workspace=workspace, path=png_file, source="generated", make_previews=False)
    second = services.asset_create_from_file(workspace=workspace, path=png_file, source="generated", make_previews=False)
    assert first.pk == second.pk and keys(s3) == [first.file.name]


def test_a_fault_before_commit_leaves_no_object_in_the_bucket(s3, workspace, mp4_file, monkeypatch):
    real = services._asset_row_create

    def insert_then_fail(asset):
        real(asset)
        assert media_storage().exists(asset.file.name)
        raise RuntimeError("lost the database")

    monkeypatch.setattr(services, "_asset_row_create", insert_then_fail)
    with pytest.raises(RuntimeError):
        services.asset_create_from_file(workspace=workspace, path=mp4_file, source="generated")
    assert keys(s3) == [] and not MediaAsset.objects.exists()


def test_delete_removes_every_object_after_commit(s3, workspace, mp4_file, django_capture_on_commit_callbacks):
    asset = services.asset_create_from_file(workspace=workspace, path=mp4_file, source="generated")
    assert len(keys(s3)) == 5
    with django_capture_on_commit_callbacks(execute=True):
        services.asset_delete(asset=asset)
    assert keys(s3) == []


def test_the_ingest_job_reads_from_s3(s3, workspace, owner, mp3_file, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    with django_capture_on_commit_callbacks(execute=True):
        asset = services.asset_ingest_upload(
            workspace=workspace, uploaded_file=SimpleUploadedFile("vo.mp3", mp3_file.read_bytes()), user=owner
        ).asset
    asset.refresh_from_db()
    assert asset.status == "ready" and asset.waveform and asset.loudness_lufs is not None
    assert asset.waveform.name in keys(s3)
