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

    def get_page_size(self, request: Request) -> int:
        """``?page_size=`` from 1 to 200; anything else is refused (not quietly replaced)."""
        asked = request.query_params.get(self.page_size_query_param)
        if asked is None:
            return self.page_size
        digits = asked.isascii() and asked.isdigit() and len(asked) <= 4
        if not digits or not 1 <= int(asked) <= self.max_page_size:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"Ask for 1 to {self.max_page_size} per page."]}
            )
        return int(asked)

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound as error:  # DRF answers 404; it is the client's input
            raise exceptions.ValidationError({self.cursor_query_param: [error.detail]}) from error
