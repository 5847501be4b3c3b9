"""The compositions API: create, read, edit the timeline, delete, start renders, list presets;
bad input is a 400 naming each field; the schema documents it."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from media_assets.compositions import Composition, Render
from media_assets.services import asset_create_from_file
from mediastudio.jobs.models import Job
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api_client, owner):
    api_client.force_authenticate(owner)
    return api_client


def _create(api, library, **extra):
    body = {"title": "Launch", "presets": ["tiktok", "youtube"],
            "clips": [{"asset": library["red"].pk, "out_point": 1.0, "transition": "crossfade", "transition_duration": 0.4},
                      {"asset": library["photo"].pk, "duration": 2.0, "motion": "drift"}], **extra}
    return api.post(reverse("api-composition-list"), body, format="json")


def test_it_creates_reads_edits_and_deletes_a_composition(api, library, workspace):
    campaign = CampaignFactory(workspace=workspace)
    created = _create(api, library, campaign=campaign.pk, music=library["music"].pk, music_level_db=-10,
                      caption_asset=library["srt"].pk, caption_mode="phrase", end_card_text="Shop now")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["workspace"] == workspace.pk and body["campaign"] == campaign.pk
    assert [c["asset"] for c in body["clips"]] == [library["red"].pk, library["photo"].pk]
    assert body["clips"][1]["duration"] == 2.0 and body["clips"][1]["asset_info"]["kind"] == "image"
    assert body["duration"] == pytest.approx(1.0 + 2.0 - 0.4 + 2.5)  # the last clip cuts to the end card
    url = reverse("api-composition-detail", kwargs={"pk": body["id"]})

    patched = api.patch(url, {"clips": [{"asset": library["photo"].pk}, {"asset": library["blue"].pk, "in_point": 0.5}],
                              "music_duck": False, "watermark_position": "bottom_left"}, format="json")
    assert patched.status_code == 200, patched.json()
    assert [c["asset"] for c in patched.json()["clips"]] == [library["photo"].pk, library["blue"].pk]
    assert patched.json()["music_duck"] is False and patched.json()["caption_asset"] == library["srt"].pk
    assert api.get(url).json()["watermark_position"] == "bottom_left"
    listed = api.get(reverse("api-composition-list")).json()
    assert [c["id"] for c in listed["results"]] == [body["id"]]

    assert api.delete(url).status_code == 204
    assert not Composition.objects.exists()


@pytest.mark.parametrize("clip,field,words", [
    ({"in_point": 1.0, "out_point": 0.5}, "clips.0.out_point", "after the in point"),
    ({"asset": "VOICE"}, "clips.0.asset", "video or an image"),
    ({"asset": 999999}, "clips.0.asset", "no longer in the library"),
    ({"fit": "stretch"}, "clips.0.fit", "not a valid choice"),
    ({"transition": "spin"}, "clips.0.transition", "not a valid choice"),
])
def test_bad_clips_are_400_with_field_messages(api, library, clip, field, words):
    item = {"asset": library["red"].pk, **clip}
    if item["asset"] == "VOICE":
        item["asset"] = library["voice"].pk
    response = api.post(reverse("api-composition-list"), {"title": "Bad", "clips": [item]}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"], error
    assert words in " ".join(error["fields"][field])
    assert not Composition.objects.exists()


def test_another_workspaces_asset_is_refused_on_its_field(api, library, owner, other_workspace, media):
    from tests.factories import MembershipFactory

    theirs = asset_create_from_file(workspace=other_workspace, path=media["testsrc.mp4"], source="uploaded", make_previews=False)
    response = _create(api, library, music=theirs.pk)
    assert response.status_code == 400 and "music" in response.json()["error"]["fields"]
    # A member of both workspaces still cannot mix them in one composition.
    MembershipFactory(workspace=other_workspace, user=owner, role="owner")
    response = api.post(reverse("api-composition-list"),
                        {"title": "Mixed", "workspace": library["red"].workspace_id, "clips": [{"asset": theirs.pk}]}, format="json")
    assert response.status_code == 400
    assert "another workspace" in response.json()["error"]["fields"]["clips.0.asset"][0]


def test_other_bad_fields_are_named(api, library):
    response = _create(api, library, presets=["myspace"], music_level_db=40, caption_asset=library["red"].pk)
    assert response.status_code == 400
    assert {"presets", "music_level_db", "caption_asset"} <= set(response.json()["error"]["fields"])


def test_it_starts_one_render_job_for_the_chosen_presets(api, library, django_capture_on_commit_callbacks):
    composition_id = _create(api, library).json()["id"]
    url = reverse("api-composition-renders", kwargs={"pk": composition_id})
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.post(url, {"presets": ["tiktok", "square"]}, format="json")
    assert response.status_code == 202, response.json()
    body = response.json()
    job = Job.objects.get(pk=body["job"])
    assert job.kind == "render" and job.status == "queued" and len(callbacks) >= 1  # enqueued after commit
    assert [r["preset"] for r in body["renders"]] == ["tiktok", "square"]
    assert {r.job_id for r in Render.objects.filter(composition_id=composition_id)} == {job.pk}
    listed = api.get(url).json()
    assert {r["preset"] for r in listed["results"]} == {"tiktok", "square"}
    render_url = reverse("api-render-detail", kwargs={"pk": body["renders"][0]["id"]})
    assert api.get(render_url).json()["status"] == "queued"


def test_a_render_that_cannot_run_is_refused_with_reasons(api, library):
    composition_id = api.post(reverse("api-composition-list"), {"title": "Empty", "presets": []}, format="json").json()["id"]
    response = api.post(reverse("api-composition-renders", kwargs={"pk": composition_id}), {}, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"presets", "clips"}
    response = api.post(reverse("api-composition-renders", kwargs={"pk": composition_id}), {"presets": ["nope"]}, format="json")
    assert "presets" in response.json()["error"]["fields"]
    assert not Job.objects.exists()


def test_it_lists_the_presets(api):
    presets = {p["key"]: p for p in api.get(reverse("api-render-presets")).json()}
    assert {"tiktok", "reels", "shorts", "youtube", "square", "feed"} <= set(presets)
    assert (presets["tiktok"]["width"], presets["tiktok"]["height"]) == (1080, 1920)
    assert presets["tiktok"]["safe"]["bottom"] > 300


def test_the_schema_documents_the_editor_api(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out), stderr=io.StringIO())
    text = out.read_text()
    for path in ("/api/compositions/", "/api/compositions/{id}/", "/api/compositions/{id}/renders/", "/api/renders/{id}/",
                 "/api/render-presets/"):
        assert f"{path}:" in text, path
