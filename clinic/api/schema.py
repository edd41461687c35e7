"""OpenAPI additions: every operation documents the error responses it can give."""

from __future__ import annotations

from typing import Any

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details, with messages per field.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "Messages per field; nested fields by path, e.g. sites.0.volume_ml.",
        },
    },
    "required": ["type", "title", "status", "detail", "errors"],
}
DESCRIPTIONS = {
    "400": "Invalid input; `errors` names each field.",
    "401": "Not logged in, or the token is missing or wrong.",
    "403": "Logged in but not allowed.",
    "404": "No such record.",
    "409": "Conflicts with a stored record.",
    "412": "`If-Match` does not match the record's current `ETag`.",
    "429": "Too many failed logins for this account; locked for a while.",
}


def add_error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            codes = ["401", "403"]
            if "{" in path:
                codes.append("404")
            if method in {"post", "put", "patch"}:
                codes += ["400", "409"]
            elif any(p.get("in") == "query" for p in operation.get("parameters", [])):
                codes.append("400")  # a filter value that is not one of its choices
            if method in {"put", "patch"}:
                codes.append("412")
            if path.endswith("/auth/token/"):
                codes = ["400", "429"] if method == "post" else ["401"]
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(code, {"description": DESCRIPTIONS[code], "content": problem})
    return result
