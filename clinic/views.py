"""Error pages: JSON problem details under /api/, Django's own pages elsewhere."""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from recordkeeping.api.errors import (
    PROBLEM_CONTENT_TYPE,
    json_not_found,
    json_server_error,
    problem,
)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_not_found(request, exception)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        return database_unavailable(request)
    if request.path.startswith("/api/"):
        return json_server_error(request)
    return defaults.server_error(request)


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """PostgreSQL restarting or out of reach: 503, and the next request connects afresh."""
    detail = "The database cannot be reached just now; nothing was saved. Try again shortly."
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            problem(503, detail), status=503, content_type=PROBLEM_CONTENT_TYPE
        )
    else:
        response = HttpResponse(
            f"<!doctype html><title>Unavailable</title><h1>Service unavailable</h1><p>{detail}</p>",
            status=503,
        )
    response["Retry-After"] = "5"
    return response
