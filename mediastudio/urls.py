from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from campaigns import views as campaign_views
from audio.urls import api_urlpatterns as audio_api
from campaigns.urls import api_urlpatterns as campaign_api
from generation.urls import api_urlpatterns as generation_api
from media_assets.urls import api_urlpatterns as media_api
from mediastudio.jobs.urls import api_urlpatterns as job_api
from publishing.urls import api_urlpatterns as publishing_api


def healthz(request):
    return JsonResponse({"status": "ok"})


api_urlpatterns = [*campaign_api, *job_api, *media_api, *generation_api, *audio_api, *publishing_api]

urlpatterns = [
    path("", campaign_views.dashboard, name="dashboard"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", healthz, name="healthz"),
    path("", include("campaigns.urls")),
    path("jobs/", include("mediastudio.jobs.urls")),
    path("library/", include("media_assets.urls")),
    path("editor/", include("media_assets.editor_urls")),
    path("generate/", include("generation.urls")),
    path("audio/", include("audio.urls")),
    path("publishing/", include("publishing.urls")),
    path("admin/", admin.site.urls),
    path("api/", include(api_urlpatterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

handler403 = "campaigns.views.permission_denied"
