from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request


class ClinicCursorPagination(CursorPagination):
    """Cursor pages stay stable while rows are added; ``?page_size=`` up to 200."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"

    @property
    def page_size_refused(self) -> str:
        return f"Ask for 1 to {self.max_page_size} per page."

    def get_page_size(self, request: Request) -> int:
        """``?page_size=`` from 1 to 200; anything else is refused (not quietly replaced)."""
        asked = request.query_params.get(self.page_size_query_param)
        if asked is None:
            return self.page_size
        digits = asked.isascii() and asked.isdigit() and len(asked) <= 4
        if not digits or not 1 <= int(asked) <= self.max_page_size:
            raise exceptions.ValidationError({self.page_size_query_param: [self.page_size_refused]})
        return int(asked)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] |= {"minimum": 1, "maximum": self.max_page_size}
            # An empty cursor is the first page; an empty page size is refused.
            parameter["allowEmptyValue"] = parameter["name"] == self.cursor_query_param
        return parameters

    def other_parameters(self, request: Request) -> dict[str, str]:
        """The query without the paging parameters: what a paginated action's own query
        serializer reads (a strict one would take ``cursor`` for an unknown field)."""
        paging = {self.cursor_query_param, self.page_size_query_param}
        return {k: v for k, v in request.query_params.dict().items() if k not in paging}

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound as error:  # DRF answers 404; it is the client's input
            raise exceptions.ValidationError({self.cursor_query_param: [error.detail]}) from error
