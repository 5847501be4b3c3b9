"""A universe's font names are at most 80 characters each, in the form as in the API (one rule: Universe.clean)."""

import pytest
from rest_framework.test import APIClient

from campaigns.models import FONT_NAME_MAX_LENGTH, Universe

pytestmark = pytest.mark.django_db

LONG = "A" * (FONT_NAME_MAX_LENGTH + 1)


def test_it_refuses_a_font_name_over_80_characters_in_the_form(client, owner):
    client.force_login(owner)
    response = client.post("/universes/new/", {"name": "Aurora", "fonts": f"DejaVu Sans, {LONG}"})
    assert response.status_code == 400
    assert response.context["form"].errors["fonts"] == [
        f"A font name has at most 80 characters; '{LONG[:30]}…' has 81."
    ]
    assert not Universe.objects.exists()


def test_it_accepts_a_font_name_of_80_characters_in_the_form(client, owner):
    client.force_login(owner)
    response = client.post("/universes/new/", {"name": "Aurora", "fonts": "B" * FONT_NAME_MAX_LENGTH})
    assert response.status_code == 302
    assert Universe.objects.get().fonts == ["B" * FONT_NAME_MAX_LENGTH]


def test_it_refuses_the_same_in_the_api(owner):
    api = APIClient()
    api.force_authenticate(owner)
    response = api.post("/api/universes/", {"name": "Aurora", "fonts": ["DejaVu Sans", LONG]}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"fonts": [f"A font name has at most 80 characters; '{LONG[:30]}…' has 81."]}
    assert not Universe.objects.exists()
