"""Contract cases for Luma: the Agents API (ray-3.2, image inline as base64 start_frame) and the legacy
Dream Machine API (ray-2, image by public URL in keyframes.frame0)."""

from __future__ import annotations

import base64

from tests.fakes.luma_server import LumaFake
from tests.generation.providers.harness import ProviderCase


class LumaCase(ProviderCase):
    identifier = "luma"
    label = "luma-agents"
    provider_path = "generation.providers.luma.LumaProvider"
    fake_class = LumaFake
    t2v_model = "ray-3.2"
    i2v_model = "ray-3.2"

    def config(self, fake):
        return {"LUMA_API_KEY": LumaFake.agents_key, "LUMA_BASE_URL": f"{fake.url}/v1",
                "LUMA_DREAM_MACHINE_API_KEY": "", "LUMA_DREAM_MACHINE_BASE_URL": f"{fake.url}/dream-machine/v1"}

    def assert_image_sent(self, fake, request):
        body = fake.calls("POST", "/v1/generations")[-1].json
        frame = body["video"]["start_frame"]
        assert frame["media_type"] == "image/png"
        with open(request.image_path, "rb") as handle:
            assert base64.b64decode(frame["data"]) == handle.read()
        assert body["video"]["duration"] == "5s" and body["type"] == "video"


class LumaLegacyCase(ProviderCase):
    identifier = "luma"
    label = "luma-dream-machine"
    provider_path = "generation.providers.luma.LumaProvider"
    fake_class = LumaFake
    t2v_model = "ray-2"
    i2v_model = "ray-2"

    def config(self, fake):
        return {"LUMA_API_KEY": "", "LUMA_BASE_URL": f"{fake.url}/v1",
                "LUMA_DREAM_MACHINE_API_KEY": LumaFake.legacy_key, "LUMA_DREAM_MACHINE_BASE_URL": f"{fake.url}/dream-machine/v1"}

    def i2v_request(self, image_path, fake, **overrides):
        # The engine offers a signed public URL of the image; the legacy API fetches it.
        return super().i2v_request(image_path, fake, **{"image_url": f"{fake.url}/_public/{image_path.name}", **overrides})

    def assert_image_sent(self, fake, request):
        body = fake.calls("POST", "/dream-machine/v1/generations/video")[-1].json
        assert body["keyframes"] == {"frame0": {"type": "image", "url": request.image_url}}
        assert body["duration"] == "5s" and body["model"] == "ray-2"


CASES = [LumaCase(), LumaLegacyCase()]
