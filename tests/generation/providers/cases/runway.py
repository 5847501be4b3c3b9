"""Contract case for Runway: local images go through an ephemeral upload, passed as runway:// URI."""

from __future__ import annotations

from tests.fakes.runway_server import RunwayFake
from tests.generation.providers.harness import ProviderCase


class RunwayCase(ProviderCase):
    identifier = "runway"
    provider_path = "generation.providers.runway.RunwayProvider"
    fake_class = RunwayFake
    t2v_model = "gen4.5"
    i2v_model = "gen4_turbo"
    reports_progress = True

    def config(self, fake):
        return {"RUNWAY_API_KEY": RunwayFake.api_key, "RUNWAY_BASE_URL": fake.url}

    def assert_image_sent(self, fake, request):
        uploads = fake.calls("POST", "/_storage/uploads")
        assert len(uploads) == 1 and "authorization" not in uploads[0].headers
        created = fake.calls("POST", "/v1/image_to_video")[-1].json
        uri = created["promptImage"]
        assert uri.startswith("runway://") and fake.uploads[uri]["data"].startswith(b"\x89PNG")
        assert created["ratio"] == "1280:720" and created["duration"] == 5


CASE = RunwayCase()
