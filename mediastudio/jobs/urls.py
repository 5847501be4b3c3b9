from django.urls import path

from mediastudio.jobs import apis, views

app_name = "jobs"

urlpatterns = [
    path("", views.job_list, name="list"),
    path("demo/", views.job_demo_view, name="demo"),
    path("<uuid:job_id>/", views.job_detail, name="detail"),
    path("<uuid:job_id>/cancel/", views.job_cancel_view, name="cancel"),
    path("<uuid:job_id>/retry/", views.job_retry_view, name="retry"),
]

api_urlpatterns = [
    path("jobs/", apis.JobListApi.as_view(), name="api-job-list"),
    path("jobs/<uuid:job_id>/", apis.JobDetailApi.as_view(), name="api-job-detail"),
    path("jobs/<uuid:job_id>/cancel/", apis.JobCancelApi.as_view(), name="api-job-cancel"),
    path("jobs/<uuid:job_id>/retry/", apis.JobRetryApi.as_view(), name="api-job-retry"),
]
