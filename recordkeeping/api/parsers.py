"""The API's JSON request parser: DRF's, with a limit on how deeply a body may nest."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# The deepest body the API takes is a session with its injectates and sites (three levels);
# nothing of the clinic's nests deeper than this.
MAX_DEPTH = 32


def nesting_depth(data: Any) -> int:
    """How many arrays and objects deep ``data`` goes (walked without recursion, so any depth
    the decoder produced can be measured)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = value.values()
        elif not isinstance(value, list):
            continue
        deepest = max(deepest, depth)
        stack.extend((item, depth + 1) for item in value)
    return deepest


class DepthLimitedJSONParser(JSONParser):
    """A body nested deeper than MAX_DEPTH is refused with 400. Python's decoder recurses
    once per level, so thousands of levels would otherwise end in RecursionError (a 500)."""

    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        message = f"JSON parse error - nested deeper than {MAX_DEPTH} levels."
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError(message) from error
        if nesting_depth(data) > MAX_DEPTH:
            raise ParseError(message)
        return data
