"""Shared API pieces: pagination with a hard cap, workspace-scoped permissions."""

from rest_framework.pagination import PageNumberPagination


class StudioPagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100  # hard cap, whatever the client asks
