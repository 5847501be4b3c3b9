from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"
    verbose_name = "Video generation"

    def ready(self) -> None:
        from generation import checks  # noqa: F401  (registers system checks)
        from generation.selectors import job_subject
        from mediastudio.jobs import links
        from mediastudio.jobs.models import Job

        links.register(Job.Kind.VIDEO, finder=job_subject)
