from django.apps import AppConfig


class MediastudioConfig(AppConfig):
    name = "mediastudio"
    verbose_name = "MediaStudio"
