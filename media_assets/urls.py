from django.urls import path  # noqa: F401

app_name = "media_assets"

# Pages, mounted by mediastudio/urls.py under the app's prefix.
urlpatterns: list = []

# API routes, mounted under /api/.
api_urlpatterns: list = []
