"""identifier -> adapter class (dotted path, imported lazily). A new provider is one line here."""

from mediastudio.lib.providers import Registry

video_providers = Registry()
video_providers.register("animatic", "generation.providers.animatic.AnimaticProvider")
video_providers.register("diffusers", "generation.providers.diffusers_local.DiffusersProvider")
video_providers.register("runway", "generation.providers.runway.RunwayProvider")
video_providers.register("veo", "generation.providers.veo.VeoProvider")
video_providers.register("kling", "generation.providers.kling.KlingProvider")
video_providers.register("luma", "generation.providers.luma.LumaProvider")
video_providers.register("fal", "generation.providers.fal.FalProvider")
video_providers.register("replicate", "generation.providers.replicate.ReplicateProvider")
video_providers.register("openai_video", "generation.providers.openai_video.OpenAIVideoProvider")


def get_video_provider(identifier, *, config=None, require_enabled=True):
    return video_providers.get(identifier, config=config, require_enabled=require_enabled)
