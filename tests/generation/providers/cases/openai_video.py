"""Contract case for the OpenAI video protocol at a gateway: the image goes as a multipart file part;
the download is authenticated (/content); Standard Webhooks signing."""

from __future__ import annotations

from tests.fakes.openai_video_server import OpenAIVideoFake, parse_form
from tests.generation.providers.harness import ProviderCase


class OpenAIVideoCase(ProviderCase):
    identifier = "openai_video"
    provider_path = "generation.providers.openai_video.OpenAIVideoProvider"
    fake_class = OpenAIVideoFake
    t2v_model = "gateway-default"
    i2v_model = "gateway-default"
    reports_progress = True
    signs_webhooks = True

    def config(self, fake):
        return {"OPENAI_VIDEO_API_KEY": OpenAIVideoFake.api_key, "OPENAI_VIDEO_BASE_URL": f"{fake.url}/v1",
                "OPENAI_VIDEO_MODEL": "gw-video-1", "OPENAI_VIDEO_WEBHOOK_SECRET": OpenAIVideoFake.webhook_secret}

    def t2v_request(self, **overrides):
        return super().t2v_request(**{"duration": 4.0, **overrides})  # seconds are "4", "8" or "12"

    def i2v_request(self, image_path, fake, **overrides):
        return super().i2v_request(image_path, fake, **{"duration": 4.0, **overrides})

    def assert_image_sent(self, fake, request):
        created = fake.calls("POST", "/v1/videos")
        assert len(created) == 1 and created[0].header("content-type").startswith("multipart/form-data")
        fields, files = parse_form(created[0])
        assert files["input_reference"][1].startswith(b"\x89PNG")
        assert fields == {"prompt": request.prompt, "seconds": "4", "size": "1280x720", "model": "gw-video-1"}

    def webhook_delivery(self, provider, fake, external_id, *, valid=True, age_seconds=0):
        return fake.webhook_for(external_id, valid=valid, age_seconds=age_seconds)


CASE = OpenAIVideoCase()
