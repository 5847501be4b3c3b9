"""Shared API pieces: pagination with a hard cap, list filters read from the query string."""

from collections.abc import Sequence

from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination


class StudioPagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100  # hard cap, whatever the client asks


def query_filters(request, *, choices: dict[str, Sequence[str]] | None = None, ids: Sequence[str] = ()) -> dict:
    """The list filters given in ``request``'s query string: each field of ``choices`` one of its
    values, each of ``ids`` a whole number (returned as an int). Absent or empty ones are left out;
    a bad one is a 400 naming the field (and, for a choice, the valid values)."""
    params, found = request.query_params, {}
    for field, allowed in (choices or {}).items():
        value = params.get(field, "")
        if value and value not in allowed:
            raise serializers.ValidationError({field: [f"'{value}' is not a {field}: one of {', '.join(allowed)}."]})
        if value:
            found[field] = value
    for field in ids:
        value = params.get(field, "")
        if value and not value.isdigit():
            raise serializers.ValidationError({field: ["Must be an integer."]})
        if value:
            found[field] = int(value)
    return found
