"""Contract case for Kling: JWT auth, images sent as raw base64 (no data: prefix)."""

from __future__ import annotations

import base64

from tests.fakes.kling_server import KlingFake
from tests.generation.providers.harness import ProviderCase


class KlingCase(ProviderCase):
    identifier = "kling"
    provider_path = "generation.providers.kling.KlingProvider"
    fake_class = KlingFake
    t2v_model = "kling-v2-6"
    i2v_model = "kling-v2-5-turbo"

    def config(self, fake):
        return {"KLING_ACCESS_KEY": KlingFake.access_key, "KLING_SECRET_KEY": KlingFake.secret_key,
                "KLING_BASE_URL": fake.url}

    def assert_image_sent(self, fake, request):
        body = fake.calls("POST", "/v1/videos/image2video")[-1].json
        with open(request.image_path, "rb") as handle:
            assert base64.b64decode(body["image"], validate=True) == handle.read()
        assert body["model_name"] == "kling-v2-5-turbo" and body["mode"] == "std" and body["duration"] == "5"
        assert fake.tokens and fake.tokens[-1]["iss"] == KlingFake.access_key


CASE = KlingCase()
