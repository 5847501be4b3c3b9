"""System checks: bad queue configuration fails at start-up, not at 3 a.m."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def check_queue_settings(app_configs, **kwargs):
    errors = []
    q = settings.Q_CLUSTER
    if q.get("retry", 0) <= q.get("timeout", 0):
        errors.append(
            Error(
                "Q_CLUSTER['retry'] must be larger than Q_CLUSTER['timeout'], or a slow task is handed to a second worker.",
                hint="Set Q_RETRY above Q_TIMEOUT (twice is the default).",
                id="mediastudio.E001",
            )
        )
    return errors
