from django.urls import path

from media_assets import editor_apis, editor_views

app_name = "editor"

# The editor's pages (compositions and their renders), mounted at /editor/.
urlpatterns = [
    path("", editor_views.composition_list, name="composition-list"),
    path("new/", editor_views.composition_new, name="composition-new"),
    path("<int:pk>/", editor_views.composition_edit, name="composition-edit"),
    path("<int:pk>/subtitles/", editor_views.composition_subtitles, name="composition-subtitles"),
    path("<int:pk>/delete/", editor_views.composition_delete, name="composition-delete"),
]

# API routes, mounted under /api/ (appended to media_assets.urls.api_urlpatterns).
api_urlpatterns = [
    path("compositions/", editor_apis.CompositionListApi.as_view(), name="api-composition-list"),
    path("compositions/<int:pk>/", editor_apis.CompositionDetailApi.as_view(), name="api-composition-detail"),
    path("compositions/<int:pk>/renders/", editor_apis.CompositionRenderListApi.as_view(), name="api-composition-renders"),
    path("renders/<int:pk>/", editor_apis.RenderDetailApi.as_view(), name="api-render-detail"),
    path("render-presets/", editor_apis.PresetListApi.as_view(), name="api-render-presets"),
]
