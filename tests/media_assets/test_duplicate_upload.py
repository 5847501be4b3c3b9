"""Uploading bytes already in the workspace: the existing asset gets the upload's tags (a union,
normalised) and its campaign when it had none, never moved from one campaign to another, and the
answer says so; in another workspace the same bytes are a new asset and change nothing here."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from media_assets import services
from media_assets.models import MediaAsset
from tests.factories import CampaignFactory, MembershipFactory
from tests.media_assets.conftest import requires_ffmpeg

pytestmark = [pytest.mark.django_db, requires_ffmpeg]


def test_the_api_adds_tags_and_a_missing_campaign_to_the_existing_asset(api_client, owner, workspace, mp3_file):
    api_client.force_authenticate(owner)
    launch = CampaignFactory(workspace=workspace, name="Launch")
    url = reverse("api-asset-list")
    with open(mp3_file, "rb") as fh:
        first = api_client.post(url, {"file": fh, "tags": "vo, Draft"}, format="multipart").json()
    assert first["duplicate"] is False and first["note"] == ""

    with open(mp3_file, "rb") as fh:
        again = api_client.post(url, {"file": fh, "tags": " DRAFT,  Summer  Sale", "campaign": launch.pk}, format="multipart")
    assert again.status_code == 200, again.content
    data = again.json()
    assert data["id"] == first["id"] and data["duplicate"] is True
    assert data["tags"] == ["vo", "draft", "summer sale"] and data["campaign"] == launch.pk
    assert "summer sale" in data["note"] and "Launch" in data["note"]
    asset = MediaAsset.objects.get(pk=first["id"])
    assert (asset.tags, asset.campaign_id) == (["vo", "draft", "summer sale"], launch.pk)


def test_a_duplicate_is_never_moved_to_another_campaign(api_client, owner, workspace, mp3_file):
    api_client.force_authenticate(owner)
    launch = CampaignFactory(workspace=workspace, name="Launch")
    spring = CampaignFactory(workspace=workspace, name="Spring")
    url = reverse("api-asset-list")
    with open(mp3_file, "rb") as fh:
        first = api_client.post(url, {"file": fh, "campaign": launch.pk}, format="multipart").json()
    with open(mp3_file, "rb") as fh:
        again = api_client.post(url, {"file": fh, "campaign": spring.pk, "tags": "spring"}, format="multipart").json()
    assert again["campaign"] == launch.pk and again["tags"] == ["spring"]
    assert "kept in the campaign \"Launch\", not moved to \"Spring\"" in again["note"]
    assert MediaAsset.objects.get(pk=first["id"]).campaign_id == launch.pk


def test_the_library_page_answers_the_same_for_a_duplicate(client, owner, workspace, png_file):
    client.force_login(owner)
    launch = CampaignFactory(workspace=workspace, name="Launch")
    url = reverse("media_assets:asset-upload")

    def upload(**fields):
        with open(png_file, "rb") as fh:
            response = client.post(url, {"files": fh, **fields}, HTTP_ACCEPT="application/json")
        assert response.status_code == 200, response.content
        return response.json()["assets"][0]

    first = upload(tags="product")
    assert first["duplicate"] is False
    again = upload(tags="product, Hero", campaign=launch.pk)
    assert again["id"] == first["id"] and again["duplicate"] is True
    assert again["note"] == 'Already in the library: added the tag hero; linked to the campaign "Launch".'
    assert 'class="tag">hero<' in again["card_html"]
    asset = MediaAsset.objects.get(pk=first["id"])
    assert (asset.tags, asset.campaign_id) == (["product", "hero"], launch.pk)
    assert upload(tags="hero")["note"] == "Already in the library."


def test_the_same_bytes_in_another_workspace_change_nothing_here(owner, workspace, other_workspace, mp3_file):
    MembershipFactory(workspace=other_workspace, user=owner, role="owner")
    theirs_campaign = CampaignFactory(workspace=other_workspace)

    def upload(ws, **kwargs):
        return services.asset_ingest_upload(workspace=ws, uploaded_file=SimpleUploadedFile("vo.mp3", mp3_file.read_bytes()),
                                            user=owner, **kwargs)

    ours = upload(workspace, tags=["ours"]).asset
    theirs = upload(other_workspace, tags=["theirs"], campaign=theirs_campaign)
    assert theirs.created and theirs.asset.pk != ours.pk and theirs.asset.tags == ["theirs"]
    ours.refresh_from_db()
    assert (ours.tags, ours.campaign_id) == (["ours"], None)
