"""The compositions API's refusals read as sentences on the right field: a clip shorter than its
transitions (the way into the end card counts) on that clip, a deleted library file on its clip,
a whole clips list that is not a list on ``clips``; platform framings take only a fit and a focus
point of numbers."""

from __future__ import annotations

import pytest
from django.urls import reverse

from media_assets.compositions import Composition
from media_assets.services import asset_delete

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api_client, owner):
    api_client.force_authenticate(owner)
    return api_client


def _post(api, **body):
    return api.post(reverse("api-composition-list"), {"title": "Launch", **body}, format="json")


def _fields(response):
    assert response.status_code == 400, response.json()
    return response.json()["error"]["fields"]


def test_a_short_last_clip_also_counts_the_transition_into_the_end_card(api, library):
    # red lasts 1.5 s: 1.0 s in from the first clip and 0.8 s into the end card overlap it.
    response = _post(api, end_card_text="Shop now", clips=[
        {"asset": library["blue"].pk, "transition": "crossfade", "transition_duration": 1.0},
        {"asset": library["red"].pk, "transition": "crossfade", "transition_duration": 0.8}])
    assert _fields(response) == {"clips.1": [
        "Clip 2 lasts 1.50 s, less than its transitions (1.00 s in + 0.80 s into the end card): shorten a transition, "
        "use a cut or keep more of the clip."]}
    assert not Composition.objects.exists()
    # Without an end card that transition leads nowhere: the same timeline is fine.
    assert _post(api, clips=[{"asset": library["blue"].pk, "transition": "crossfade", "transition_duration": 1.0},
                             {"asset": library["red"].pk, "transition": "crossfade", "transition_duration": 0.8}]).status_code == 201


def test_an_end_card_shorter_than_the_transition_into_it_is_named(api, library):
    response = _post(api, end_card_text="Shop now", end_card_duration=1.0, clips=[
        {"asset": library["photo"].pk, "duration": 5, "transition": "crossfade", "transition_duration": 2.0}])
    assert _fields(response) == {"end_card_duration": ["The transition into the end card (2.00 s) is longer than the end card (1.00 s)."]}


def test_a_file_deleted_from_the_library_meanwhile_says_so_on_its_clip(api, library):
    gone = library["blue"].pk
    asset_delete(asset=library["blue"])
    fields = _fields(_post(api, clips=[{"asset": library["red"].pk}, {"asset": gone}]))
    assert fields == {"clips.1.asset": ["This file is no longer in the library (deleted?): remove the clip or pick another file."]}
    assert "deleted" in _fields(_post(api, music=gone))["music"][0]


def test_clips_that_are_not_a_list_are_an_error_on_clips(api, library):
    assert _fields(_post(api, clips={"asset": library["red"].pk})) == {"clips": ['Expected a list of items but got type "dict".']}


def test_sound_of_the_wrong_kind_is_named_in_good_english(api, library):
    fields = _fields(_post(api, voiceover=library["red"].pk, caption_asset=library["music"].pk))
    assert fields["voiceover"] == ["Choose an audio file, not video."]
    assert fields["caption_asset"] == ["Choose a subtitle file, not audio."]


@pytest.mark.parametrize("layout,field,words", [
    ({"focus": [True, False]}, "clips.0.layouts.tiktok.focus", "each 0 to 1"),
    ({"zoom": 3, "fit": "cover"}, "clips.0.layouts.tiktok", "not zoom"),
])
def test_a_platform_framing_takes_only_a_fit_and_a_focus_point(api, library, layout, field, words):
    fields = _fields(_post(api, clips=[{"asset": library["red"].pk, "layouts": {"tiktok": layout}}]))
    assert field in fields and words in " ".join(fields[field]), fields
    assert not Composition.objects.exists()



def test_one_save_names_a_malformed_field_and_an_out_of_range_one_together(api, library, workspace):
    from media_assets import editor_services as services

    composition = services.composition_create(workspace=workspace, title="Launch", clips=[{"asset": library["red"]}])
    url = reverse("api-composition-detail", args=[composition.pk])
    response = api.patch(url, {"caption_mode": "sparkles", "music_level_db": 50, "watermark_opacity": 2,
                               "voiceover": library["red"].pk,
                               "clips": [{"asset": library["red"].pk, "in_point": 5, "out_point": 1}]}, format="json")
    fields = _fields(response)
    assert set(fields) == {"caption_mode", "music_level_db", "watermark_opacity", "voiceover", "clips.0.out_point"}, fields
    assert "between" in fields["music_level_db"][0] and "Choose an audio file" in fields["voiceover"][0]
    composition.refresh_from_db()
    assert composition.music_level_db != 50 and composition.caption_mode != "sparkles"  # nothing was saved


def test_a_create_names_a_malformed_field_and_an_out_of_range_one_together(api, library):
    response = _post(api, caption_mode="sparkles", end_card_duration=60,
                     clips=[{"asset": library["red"].pk, "in_point": 5, "out_point": 1}])
    assert set(_fields(response)) == {"caption_mode", "end_card_duration", "clips.0.out_point"}
    assert not Composition.objects.exists()


def test_a_create_somewhere_it_may_not_write_gets_no_more_than_its_malformed_fields(api_client, viewer, workspace, library):
    api_client.force_authenticate(viewer)
    response = _post(api_client, workspace=workspace.pk, caption_mode="sparkles", end_card_duration=60)
    assert set(_fields(response)) == {"caption_mode"}  # the rest is not checked for a workspace it cannot write to
