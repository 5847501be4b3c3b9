from django.urls import path  # noqa: F401

app_name = "editor"

# The editor's pages (compositions and their renders), mounted at /editor/.
urlpatterns: list = []
