"""Contract case for fal: local images go inline as data URIs in `image_url`; Ed25519-signed webhooks."""

from __future__ import annotations

from tests.fakes.fal_server import FalFake
from tests.generation.providers.harness import ProviderCase


class FalCase(ProviderCase):
    identifier = "fal"
    provider_path = "generation.providers.fal.FalProvider"
    fake_class = FalFake
    t2v_model = "pika-2.2"
    i2v_model = "kling-2.1-standard"
    reports_progress = True  # from the tqdm lines fal apps print into their logs
    signs_webhooks = True

    def config(self, fake):
        return {"FAL_KEY": FalFake.api_key, "FAL_BASE_URL": fake.url, "FAL_JWKS_URL": fake.jwks_url}

    def assert_image_sent(self, fake, request):
        created = fake.calls("POST", "/fal-ai/kling-video/v2.1/standard/image-to-video")
        assert len(created) == 1
        body = created[0].json
        assert body["image_url"].startswith("data:image/png;base64,")
        assert body["duration"] == "5" and body["prompt"] == request.prompt

    def webhook_delivery(self, provider, fake, external_id, *, valid=True, age_seconds=0):
        return fake.webhook_for(external_id.rpartition(":")[2], valid=valid, age_seconds=age_seconds)


CASE = FalCase()
