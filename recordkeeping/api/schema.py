"""The OpenAPI schema says what the API accepts: every operation documents the error responses
it can give, decimals their shape and range, and each query parameter whether it takes an empty
value for not given."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.request import Request


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

    def get_tags(self) -> list[str]:
        """The resource after the API's version (``patients``), not the version itself."""
        parts = [part for part in self._tokenize_path() if part != "v1"]
        return parts[:1]

    def get_summary(self) -> str | None:
        """A short name for every operation (clients and documentation list operations by
        it): a record's own verbs for a model's standard actions, else the first sentence of
        the method's own docstring, else its verb and name."""
        action = getattr(self.view, "action", None)
        model = getattr(getattr(self.view, "queryset", None), "model", None)
        if model is not None and action in STANDARD_ACTIONS:
            names = (
                model._meta.verbose_name_plural if action == "list" else model._meta.verbose_name
            )
            return STANDARD_ACTIONS[action].format(name=names)
        handler = getattr(self.view, action or self.method.lower(), None)
        own = (getattr(handler, "__doc__", None) or "").strip()
        if own:
            return re.split(r"(?<=[a-z)])[.;:] ", own.replace("\n", " "), maxsplit=1)[0].rstrip(".")
        words = (action or self.method.lower()).replace("_", " ").replace("-", " ")
        subject = model._meta.verbose_name if model is not None else self._tokenize_path()[-1]
        return f"{words.capitalize()} {subject}".replace("-", " ")

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

    def _map_serializer_field(
        self, field: Any, direction: str, bypass_extensions: bool = False
    ) -> dict[str, Any]:
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


STANDARD_ACTIONS = {
    "list": "List {name}",
    "create": "Create a {name}",
    "retrieve": "Read a {name}",
    "update": "Replace a {name}",
    "partial_update": "Change a {name}",
    "destroy": "Delete a {name}",
}


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


TAGS = {
    "auth": "API tokens: log in for a token, log out to end it.",
    "patients": "Patients, their timeline and their record as FHIR.",
    "conditions": "Diagnoses (ICD-10).",
    "courses": "Treatment courses, overdue ones and their responses.",
    "sessions": "Injection sessions with injectates and sites; signing and addenda.",
    "side-effects": "Side effects (adverse events).",
    "follow-ups": "Follow-up bookings: agenda, free slots and moving them.",
    "outcomes": "Outcome scores (patient-reported outcome measures).",
    "calendar-feed": "A clinician's secret calendar address.",
    "reports": "Reports as JSON or CSV.",
    "fhir": "FHIR Bulk Data Access: the whole clinic as NDJSON (clinic admins).",
    "fhir-exports": "The clinic's own start of a bulk FHIR export, and its files.",
}
LOCAL_SERVER = "http://127.0.0.1:8000"  # what `make run` serves


def _type_of(result: dict[str, Any], ref: str) -> str | None:
    name = ref.rsplit("/", 1)[-1]
    kind = result.get("components", {}).get("schemas", {}).get(name, {}).get("type")
    return kind if isinstance(kind, str) else None


def _for_consumers(result: dict[str, Any], node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _for_consumers(result, item)
        return
    if not isinstance(node, dict):
        return
    if str(node.get("$ref", "")).startswith("#/components/schemas/") and len(node) > 1:
        # OAS 3.0 ignores everything beside a $ref: the reference goes into an allOf.
        node["allOf"] = [{"$ref": node.pop("$ref")}]
    if node.get("nullable") and "allOf" in node and "type" not in node:
        # OAS 3.0.3: nullable counts only beside a type; strict generators drop it otherwise.
        kind = _type_of(result, node["allOf"][0].get("$ref", ""))
        if kind:
            node["type"] = kind
    for value in node.values():
        _for_consumers(result, value)


def for_consumers(
    result: dict[str, Any], request: Request | None = None, **kwargs: Any
) -> dict[str, Any]:
    """What other tools need of the document (Redocly's and Spectral's rules): a server to call
    (this one, or `make run`'s when written by ``manage.py spectacular``), contact and licence,
    every tag declared, nothing beside a ``$ref``, ``nullable`` beside a type, and paging
    examples that are URLs (DRF's cursor example ends in a stray quote)."""
    server = request.build_absolute_uri("/").rstrip("/") if request is not None else LOCAL_SERVER
    where = "This server" if request is not None else "`make run` on this machine"
    result["servers"] = [{"url": server, "description": where}]
    info = result.setdefault("info", {})
    info.setdefault("contact", {"name": settings.CLINIC_NAME})
    info.setdefault("license", {"name": "Proprietary: the clinic's own"})
    used = sorted(
        {
            tag
            for operations in result.get("paths", {}).values()
            for o in operations.values()
            for tag in o.get("tags", [])
        }
    )
    result["tags"] = [
        {"name": tag, "description": TAGS.get(tag, f"Under /api/v1/{tag}/.")} for tag in used
    ]
    for schema in result.get("components", {}).get("schemas", {}).values():
        for name in ("next", "previous"):
            example = schema.get("properties", {}).get(name, {}).get("example")
            if isinstance(example, str) and example.endswith('"'):
                schema["properties"][name]["example"] = example.rstrip('"')
    _for_consumers(result, result.get("components", {}))
    _for_consumers(result, result.get("paths", {}))
    return result
