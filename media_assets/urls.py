from django.urls import path

from media_assets import apis, views

app_name = "media_assets"

# Pages, mounted at /library/.
urlpatterns = [
    path("", views.asset_list, name="asset-list"),
    path("upload/", views.asset_upload, name="asset-upload"),
    path("<int:pk>/", views.asset_detail, name="asset-detail"),
    path("<int:pk>/card/", views.asset_card, name="asset-card"),
    path("<int:pk>/edit/", views.asset_edit, name="asset-edit"),
    path("<int:pk>/delete/", views.asset_delete, name="asset-delete"),
    path("<int:pk>/file/", views.asset_file, name="asset-file"),
    path("<int:pk>/preview/<str:variant>/", views.asset_preview, name="asset-preview"),
]

# API routes, mounted under /api/.
api_urlpatterns = [
    path("assets/", apis.AssetListApi.as_view(), name="api-asset-list"),
    path("assets/<int:pk>/", apis.AssetDetailApi.as_view(), name="api-asset-detail"),
    path("assets/<int:pk>/download/", apis.AssetDownloadApi.as_view(), name="api-asset-download"),
]

from media_assets.editor_urls import api_urlpatterns as _editor_api  # noqa: E402

api_urlpatterns += _editor_api
