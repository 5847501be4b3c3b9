from django.urls import path

from mediastudio.jobs.consumers import JobProgressConsumer

websocket_urlpatterns = [
    path("ws/jobs/", JobProgressConsumer.as_asgi()),
    path("ws/jobs/<uuid:job_id>/", JobProgressConsumer.as_asgi()),
]
