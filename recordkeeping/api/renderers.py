"""The API's JSON, written by orjson, and the reports' CSV downloads."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

import orjson
from rest_framework.renderers import BaseRenderer, JSONRenderer


class FastJSONRenderer(JSONRenderer):
    """DRF's JSONRenderer, the same bytes for the API's answers, from orjson (compiled):
    serializing a page of sessions costs a tenth of the standard library's encoder.

    Values orjson does not write as DRF would (times, decimals, lazy strings, querysets, ...)
    go through DRF's encoder, as before; indented output (``Accept: application/json;
    indent=2``), or anything orjson refuses (integers beyond 64 bits), is left to DRF whole.
    """

    options = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None or self.get_indent(accepted_media_type or "", renderer_context or {}):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            written = orjson.dumps(data, default=self.encoder_class().default, option=self.options)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        # As DRF: line and paragraph separators escaped, so the JSON is also valid JavaScript.
        return written.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")


# A spreadsheet reads a cell starting with one of these as a formula (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula (``=HYPERLINK(...)``, ``+SUM(1+1)``,
    ``-2+3``, ``@cmd``) with a single quote in front, so it is shown as the text it is.

    Only text is quoted: numbers (a negative median change, a count) are written as numbers.
    A lot number or name typed as ``-12`` is text, and is quoted like any other text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class CSVRenderer(BaseRenderer):
    """A report's rows (``{"columns": [...], "rows": [{...}]}``) as CSV, every text cell made
    safe to open in a spreadsheet. Anything else (errors, OPTIONS) is answered as JSON by the
    view before it gets here."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=data["columns"])  # the report's own names
        writer.writeheader()
        for row in data["rows"]:
            writer.writerow({name: spreadsheet_safe(value) for name, value in row.items()})
        return out.getvalue().encode()
