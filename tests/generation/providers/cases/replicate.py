"""Contract case for Replicate: small local images go inline as data URIs; Standard Webhooks signing."""

from __future__ import annotations

from tests.fakes.replicate_server import ReplicateFake
from tests.generation.providers.harness import ProviderCase


class ReplicateCase(ProviderCase):
    identifier = "replicate"
    provider_path = "generation.providers.replicate.ReplicateProvider"
    fake_class = ReplicateFake
    t2v_model = "google/veo-3.1"
    i2v_model = "kwaivgi/kling-v2.1"
    reports_progress = True  # parsed from the tqdm lines in `logs`, as replicate-python does
    signs_webhooks = True

    def config(self, fake):
        return {"REPLICATE_API_TOKEN": ReplicateFake.api_key, "REPLICATE_BASE_URL": fake.url,
                "REPLICATE_WEBHOOK_SECRET": ReplicateFake.webhook_secret}

    def t2v_request(self, **overrides):
        return super().t2v_request(**{"duration": 8.0, **overrides})  # Veo 3.1 makes 4, 6 or 8 s

    def assert_image_sent(self, fake, request):
        created = fake.calls("POST", "/v1/models/kwaivgi/kling-v2.1/predictions")
        assert len(created) == 1 and fake.calls("POST", "/v1/files") == []
        sent = created[0].json["input"]
        assert sent["start_image"].startswith("data:image/png;base64,")
        assert sent["mode"] == "standard" and sent["duration"] == 5

    def webhook_delivery(self, provider, fake, external_id, *, valid=True, age_seconds=0):
        return fake.webhook_for(external_id, valid=valid, age_seconds=age_seconds)


CASE = ReplicateCase()
