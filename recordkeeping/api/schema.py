"""The OpenAPI schema says what the API accepts: every operation documents the error responses
it can give, decimals their shape and range, and each query parameter whether it takes an empty
value for not given."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers


def decimal_pattern(field: serializers.DecimalField) -> str:
    """The decimals the field takes as text: at least one digit (drf-spectacular's own pattern
    also admits "", "-" and "."), and no sign when it takes no negative value."""
    whole, places = field.max_whole_digits, field.decimal_places
    sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
    if not places:
        return f"^{sign}\\d{{1,{whole}}}$"
    return f"^{sign}(?:\\d{{1,{whole}}}(?:\\.\\d{{0,{places}}})?|\\.\\d{{1,{places}}})$"


def note(spec: dict[str, Any], text: str) -> None:
    spec["description"] = f"{spec.get('description', '')} {text}".strip()


class ClinicAutoSchema(AutoSchema):
    """drf-spectacular's schema, saying more exactly what the API takes:

    - a decimal (written as text) as the API reads it, its range in words (JSON Schema bounds
      only numbers);
    - text that is trimmed and may not be blank needs a character other than a space;
    - each optional query parameter, whether an empty value (``?status=``, as an HTML form
      sends an unset field) counts as not given: yes for a list's filters, search and
      ordering, ``format``, and a view that declares ``empty_query_is_unset`` (the reports);
      no for the others (``page_size``, an action's own query), which refuse it."""

    def _get_filter_parameters(self) -> list[dict[str, Any]]:
        return [p | {"allowEmptyValue": True} for p in super()._get_filter_parameters()]

    def _get_format_parameters(self) -> list[dict[str, Any]]:
        return [p | {"allowEmptyValue": True} for p in super()._get_format_parameters()]

    def _get_parameters(self) -> list[dict[str, Any]]:
        parameters = super()._get_parameters()
        unset = getattr(self.view, "empty_query_is_unset", False)
        for parameter in parameters:
            if parameter["in"] == "query" and not parameter.get("required"):
                parameter.setdefault("allowEmptyValue", unset)
        return parameters

    def _map_serializer_field(self, field: Any, direction: str, bypass_extensions: bool = False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        trimmed = type(field) is serializers.CharField and field.trim_whitespace
        if direction == "request" and trimmed and not field.allow_blank:
            schema.setdefault("pattern", r"\S")
        if isinstance(field, serializers.DecimalField) and schema.get("format") == "decimal":
            if field.max_whole_digits is not None:
                schema["pattern"] = decimal_pattern(field)
            limits = [
                f"{word} {value}"
                for word, value in (("at least", field.min_value), ("at most", field.max_value))
                if value is not None
            ]
            if limits:
                note(schema, " and ".join(limits).capitalize() + ".")
        return schema


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
    "415": "The body is not JSON (`Content-Type: application/json`).",
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
                if "requestBody" in operation:
                    codes.append("415")
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


def refuse_unknown_fields(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Request bodies take only the fields they list (an unknown one is a 400 naming it)."""
    for name, schema in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and schema.get("type") == "object":
            schema["additionalProperties"] = False
    return result


# A record's reference to another, by the field naming it in request bodies.
REFERENCES = {"patients": "patient", "conditions": "condition", "courses": "course"}
REFERENCES |= {"sessions": "session"}


def _properties(result: dict[str, Any], content: dict[str, Any]) -> set[str]:
    schema = content.get("application/json", {}).get("schema", {})
    name = schema.get("$ref", "").rsplit("/", 1)[-1]
    return set(result["components"]["schemas"].get(name, {}).get("properties", {}))


def add_links(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """OpenAPI links from each created record to the operations on it by its id (read, change,
    its actions), and to creating the records that refer to it (a condition of the patient
    created, a course of that condition and patient, ...), for clients and for stateful
    testing."""
    paths = result.get("paths", {})
    creates = {
        path.rstrip("/").rsplit("/", 1)[-1]: operations["post"]
        for path, operations in paths.items()
        if "{" not in path and "201" in operations.get("post", {}).get("responses", {})
    }
    for path, operations in paths.items():
        created = operations.get("post", {}).get("responses", {}).get("201")
        if created is None or "{" in path:
            continue
        resource = path.rstrip("/").rsplit("/", 1)[-1]
        returned = _properties(result, created.get("content", {}))
        links = {
            operation["operationId"]: {
                "operationId": operation["operationId"],
                "parameters": {"id": "$response.body#/id"},
            }
            for other, methods in paths.items()
            if other.startswith(f"{path}{{id}}/")
            for method, operation in methods.items()
            if method in {"get", "put", "patch", "post", "delete"}
        }
        for other, target in creates.items():
            wanted = _properties(result, target.get("requestBody", {}).get("content", {}))
            if other == resource or REFERENCES.get(resource) not in wanted:
                continue
            body = {
                field: "$response.body#/id"
                if field == REFERENCES.get(resource)
                else f"$response.body#/{field}"
                for field in wanted & ({*REFERENCES.values(), "clinician"})
                if field == REFERENCES.get(resource) or field in returned
            }
            links[target["operationId"]] = {
                "operationId": target["operationId"],
                "requestBody": body,
            }
        if links:
            created["links"] = links
    return result


# Response components of the records some role reads only in part (clinic.permissions).
PARTLY_READ = {
    "Patient": "patients.patient",
    "Course": "treatments.treatmentcourse",
    "OverdueCourse": "treatments.treatmentcourse",
    "Session": "treatments.injectionsession",
}


NOT_EVERY_ROLE = "Not sent by every role."


def mark_role_fields(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """A field some role may not read is left out of that role's responses (it is described
    so, and not required) and refused by name in its requests (described so)."""
    from recordkeeping.permissions import MATRIX

    schemas = result.get("components", {}).get("schemas", {})
    for name, label in PARTLY_READ.items():
        limits = [
            grant.fields
            for grants in MATRIX.values()
            if (grant := grants.get(label)) is not None and grant.fields is not None
        ]
        for request in (f"{name}Request", f"Patched{name}Request"):
            for field, spec in schemas.get(request, {}).get("properties", {}).items():
                if any(field not in fields for fields in limits):
                    note(spec, NOT_EVERY_ROLE)
        schema = schemas.get(name, {})
        for field, spec in schema.get("properties", {}).items():
            if any(field not in fields for fields in limits):
                spec["description"] = (
                    spec.get("description", "") + " Not shown to every role."
                ).strip()
        required = [f for f in schema.get("required", []) if all(f in x for x in limits)]
        if required:
            schema["required"] = required
        else:
            schema.pop("required", None)
    return result
