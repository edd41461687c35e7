"""One error shape for the whole API (RFC 9457 problem details, with per-field messages):

    {"type": "about:blank", "title": "Bad Request", "status": 400,
     "detail": "...", "errors": {"field": ["message"]}}

Nested fields are named by path: ``injectates.0.dextrose_pct``.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import psycopg
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from recordkeeping import audit
from recordkeeping.db import database_rules
from recordkeeping.errors import Clash, RecordLocked

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem(status_code: int, detail: str, errors: dict[str, list[str]] | None = None) -> dict:
    return {
        "type": "about:blank",
        "title": HTTPStatus(status_code).phrase,
        "status": status_code,
        "detail": detail,
        "errors": errors or {},
    }


def flatten(data: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error structure as ``{"path.to.field": [messages]}``."""
    if isinstance(data, dict):
        flat: dict[str, list[str]] = {}
        for key, value in data.items():
            name = "non_field_errors" if key in ("non_field_errors", "__all__") else str(key)
            flat |= flatten(value, f"{prefix}.{name}" if prefix else name)
        return flat
    if isinstance(data, list) and any(isinstance(item, dict | list) for item in data):
        flat = {}
        for index, value in enumerate(data):
            flat |= flatten(value, f"{prefix}.{index}" if prefix else str(index))
        return flat
    messages = [str(item) for item in data] if isinstance(data, list) else [str(data)]
    return {prefix or "non_field_errors": messages} if messages else {}


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The record changed since you read it; fetch it again and retry."
    default_code = "precondition_failed"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the stored record."
    default_code = "conflict"


def validation_error(error: DjangoValidationError) -> exceptions.ValidationError:
    """A model's ``full_clean()`` error as DRF's, keeping the field names."""
    if hasattr(error, "error_dict"):
        return exceptions.ValidationError(error.message_dict)
    return exceptions.ValidationError({"non_field_errors": error.messages})


def integrity_error(error: IntegrityError) -> exceptions.APIException:
    """A row PostgreSQL refused: 400 naming the field for a broken rule, 409 for a duplicate."""
    diag = getattr(error.__cause__, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    logger.info("Refused by the database: %s", constraint)
    field, message = database_rules().get(constraint or "", ("non_field_errors", ""))
    if isinstance(
        error.__cause__, psycopg.errors.UniqueViolation | psycopg.errors.ExclusionViolation
    ):
        conflict = Conflict(message or Conflict.default_detail)
        conflict.detail = {field: [conflict.detail]}
        return conflict
    if not message:
        return Conflict()
    return exceptions.ValidationError({field: [message]})


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = validation_error(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, IntegrityError):
        exc = integrity_error(exc)
    elif isinstance(exc, RecordLocked):
        exc = Conflict(str(exc))
    elif isinstance(exc, Clash):
        conflict = Conflict(str(exc))
        conflict.detail = {exc.field: [conflict.detail]}
        exc = conflict
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.PermissionDenied | exceptions.NotAuthenticated):
        request = context.get("request")
        if request is not None:
            audit.access_record(request=request, action="api.denied", status=response.status_code)
    if isinstance(exc, exceptions.ValidationError | Conflict) and isinstance(exc.detail, dict):
        errors = flatten(exc.detail)
        detail = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items())
        response.data = problem(response.status_code, detail or "Invalid input.", errors)
    else:
        detail = str(exc.detail if isinstance(exc, exceptions.APIException) else exc)
        response.data = problem(response.status_code, detail)
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def json_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(
        problem(404, "There is nothing at this address."),
        status=404,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def json_server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        problem(500, "The server failed to answer; the error has been logged."),
        status=500,
        content_type=PROBLEM_CONTENT_TYPE,
    )
