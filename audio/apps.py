from django.apps import AppConfig


class AudioConfig(AppConfig):
    name = "audio"

    def ready(self) -> None:
        from audio.selectors import job_subject
        from mediastudio.jobs import links
        from mediastudio.jobs.models import Job

        links.register(Job.Kind.VOICEOVER, Job.Kind.TRANSCRIPTION, Job.Kind.MUSIC, finder=job_subject)
