from __future__ import annotations

from rest_framework.pagination import CursorPagination


class ClinicCursorPagination(CursorPagination):
    """Cursor pages stay stable while rows are added; ``?page_size=`` up to 200."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"
