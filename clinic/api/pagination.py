from __future__ import annotations

from rest_framework import exceptions
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request


class ClinicCursorPagination(CursorPagination):
    """Cursor pages stay stable while rows are added; ``?page_size=`` up to 200."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound as error:  # DRF answers 404; it is the client's input
            raise exceptions.ValidationError({self.cursor_query_param: [error.detail]}) from error
