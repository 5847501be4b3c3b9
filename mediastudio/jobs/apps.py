from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "mediastudio.jobs"
    label = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        from mediastudio.jobs import checks  # noqa: F401  (registers system checks)
