from django.urls import path, re_path

from audio import apis, views

app_name = "audio"

# Pages, mounted at /audio/.
urlpatterns = [
    path("", views.audio_home, name="home"),
    path("voiceover/", views.voiceover_create, name="voiceover-create"),
    path("music/", views.music_create, name="music-create"),
    path("transcribe/", views.transcribe, name="transcribe"),
    path("<int:pk>/", views.audio_detail, name="detail"),
    path("<int:pk>/words/", views.audio_words, name="words"),
    re_path(r"^(?P<pk>\d+)/captions\.(?P<fmt>srt|vtt|ass)$", views.audio_captions, name="captions"),
]

# API routes, mounted under /api/.
api_urlpatterns = [
    path("audio/generate", apis.AudioGenerateApi.as_view(), name="api-audio-generate"),
    path("audio/transcribe", apis.AudioTranscribeApi.as_view(), name="api-audio-transcribe"),
    path("audio/jobs", apis.AudioJobListApi.as_view(), name="api-audio-job-list"),
    path("audio/jobs/<int:pk>", apis.AudioJobDetailApi.as_view(), name="api-audio-job-detail"),
    re_path(r"^audio/jobs/(?P<pk>\d+)/captions\.(?P<fmt>srt|vtt|ass)$", apis.AudioCaptionsApi.as_view(),
            name="api-audio-captions"),
    path("audio/voices", apis.AudioVoiceListApi.as_view(), name="api-audio-voices"),
]
