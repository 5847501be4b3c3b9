"""Start-up checks of provider configuration: a provider switched on without its key is an error."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def check_enabled_providers_have_keys(app_configs, **kwargs):
    from generation.providers.registry import video_providers

    errors = []
    for identifier in video_providers.entries:
        flag = getattr(settings, f"{identifier.upper()}_ENABLED", None)
        if flag is not True:
            continue
        try:
            cls = video_providers.load(identifier)
        except ImportError:
            continue
        missing = [key for key in cls.settings_keys if not getattr(settings, key, "")]
        if missing and not cls.is_enabled():
            errors.append(
                Error(
                    f"{identifier.upper()}_ENABLED is true but {', '.join(missing)} is not set.",
                    hint=f"Set {', '.join(missing)} or remove {identifier.upper()}_ENABLED.",
                    id="generation.E001",
                )
            )
    return errors
