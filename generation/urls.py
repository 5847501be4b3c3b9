from django.urls import path

from generation import apis, views

app_name = "generation"

# Pages, mounted at /generate/.
urlpatterns = [
    path("", views.generate, name="generate"),
    path("jobs/<uuid:job_id>/", views.job_detail, name="job"),
    path("providers/", views.providers, name="providers"),
]

# API routes, mounted under /api/.
api_urlpatterns = [
    path("video/generate", apis.VideoGenerateApi.as_view(), name="api-video-generate"),
    path("video/jobs", apis.VideoJobListApi.as_view(), name="api-video-job-list"),
    path("video/jobs/<uuid:job_id>", apis.VideoJobDetailApi.as_view(), name="api-video-job-detail"),
    path("video/jobs/<uuid:job_id>/cancel", apis.VideoJobCancelApi.as_view(), name="api-video-job-cancel"),
    path("video/jobs/<uuid:job_id>/retry", apis.VideoJobRetryApi.as_view(), name="api-video-job-retry"),
    path("video/jobs/<uuid:job_id>/download", apis.VideoJobDownloadApi.as_view(), name="api-video-job-download"),
    path("video/batch", apis.VideoBatchApi.as_view(), name="api-video-batch"),
    path("video/variants", apis.VideoVariantsApi.as_view(), name="api-video-variants"),
    path("video/broll", apis.VideoBrollApi.as_view(), name="api-video-broll"),
    path("video/product", apis.VideoProductApi.as_view(), name="api-video-product"),
    path("video/transition", apis.VideoTransitionApi.as_view(), name="api-video-transition"),
    path("video/providers", apis.VideoProvidersApi.as_view(), name="api-video-providers"),
    path("video/providers/<slug:provider>/jobs", apis.VideoProviderJobsApi.as_view(), name="api-video-provider-jobs"),
    path("video/models", apis.VideoModelsApi.as_view(), name="api-video-models"),
    path("video/estimate-cost", apis.VideoEstimateApi.as_view(), name="api-video-estimate-cost"),
    path("video/strategy", apis.VideoStrategyApi.as_view(), name="api-video-strategy"),
    path("video/remix", apis.VideoRemixApi.as_view(), name="api-video-remix"),
    path("webhooks/<slug:provider>", apis.VideoWebhookApi.as_view(), name="api-video-webhook"),
]
