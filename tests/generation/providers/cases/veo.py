"""Contract case for Veo (Gemini API): images go inline as base64, downloads need the API key."""

from __future__ import annotations

import base64

from tests.fakes.veo_server import VeoFake
from tests.generation.providers.harness import ProviderCase


class VeoCase(ProviderCase):
    identifier = "veo"
    provider_path = "generation.providers.veo.VeoProvider"
    fake_class = VeoFake
    t2v_model = "veo-3.1-fast-generate-preview"
    i2v_model = "veo-3.1-fast-generate-preview"

    def config(self, fake):
        return {"GEMINI_API_KEY": VeoFake.api_key, "GEMINI_BASE_URL": fake.url}

    def t2v_request(self, **overrides):
        return super().t2v_request(**{"duration": 8.0, **overrides})

    def i2v_request(self, image_path, fake, **overrides):
        return super().i2v_request(image_path, fake, **{"duration": 6.0, **overrides})

    def assert_image_sent(self, fake, request):
        body = fake.calls("POST", "/v1beta/models/")[-1].json
        image = body["instances"][0]["image"]
        assert image["mimeType"] == "image/png"
        with open(request.image_path, "rb") as handle:
            assert base64.b64decode(image["bytesBase64Encoded"]) == handle.read()
        assert body["parameters"] == {"aspectRatio": "16:9", "durationSeconds": 6, "resolution": "720p", "sampleCount": 1}


CASE = VeoCase()
