"""Two editors (two tabs, or two colleagues) on one composition: a save made from a page that read
an older version is refused with 409 and changes nothing, instead of silently undoing the other
save; without the version (an integrator overwriting on purpose) the update goes through."""

from __future__ import annotations

import pytest
from django.urls import reverse

from media_assets.compositions import Composition

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api_client, owner):
    api_client.force_authenticate(owner)
    return api_client


def test_it_refuses_a_save_based_on_a_version_saved_over_since(api, library):
    created = api.post(reverse("api-composition-list"), {"title": "Two tabs", "clips": [
        {"asset": library["red"].pk}, {"asset": library["blue"].pk}]}, format="json").json()
    url = reverse("api-composition-detail", kwargs={"pk": created["id"]})
    opened_at = created["updated_at"]  # both tabs read this version

    first = api.patch(url, {"clips": [{"asset": library["red"].pk}], "end_card_text": "Tab one",
                            "expected_updated_at": opened_at}, format="json")
    assert first.status_code == 200, first.json()

    stale = api.patch(url, {"caption_position": "top", "clips": [{"asset": library["red"].pk}, {"asset": library["blue"].pk}],
                            "expected_updated_at": opened_at}, format="json")
    assert stale.status_code == 409, stale.json()
    error = stale.json()["error"]
    assert error["code"] == "edit_conflict" and "saved elsewhere" in error["message"]
    assert error["updated_at"] == first.json()["updated_at"]
    kept = Composition.objects.get(pk=created["id"])
    assert (kept.end_card_text, kept.caption_position, kept.clips.count()) == ("Tab one", "bottom", 1)  # tab one's save stands

    fresh = api.patch(url, {"caption_position": "top", "expected_updated_at": first.json()["updated_at"]}, format="json")
    assert fresh.status_code == 200 and fresh.json()["caption_position"] == "top"
    forced = api.patch(url, {"caption_position": "middle"}, format="json")  # no version: overwrite
    assert forced.status_code == 200 and forced.json()["caption_position"] == "middle"


def test_a_version_that_is_not_a_time_is_a_field_error(api, library):
    created = api.post(reverse("api-composition-list"), {"title": "T", "clips": [{"asset": library["red"].pk}]}, format="json").json()
    response = api.patch(reverse("api-composition-detail", kwargs={"pk": created["id"]}),
                         {"title": "U", "expected_updated_at": "yesterday"}, format="json")
    assert response.status_code == 400 and "expected_updated_at" in response.json()["error"]["fields"]
    assert Composition.objects.get(pk=created["id"]).title == "T"
