from django.apps import AppConfig


class MediaAssetsConfig(AppConfig):
    name = "media_assets"
    verbose_name = "Media library"

    def ready(self) -> None:
        from media_assets.selectors import ingest_job_subject, render_job_subject
        from mediastudio.jobs import links
        from mediastudio.jobs.models import Job

        links.register(Job.Kind.RENDER, finder=render_job_subject)
        links.register(Job.Kind.INGEST, finder=ingest_job_subject)
