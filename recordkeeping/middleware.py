from __future__ import annotations

import re
import time
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import patch_cache_control
from pghistory.middleware import HistoryMiddleware

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def request_id_of(request: HttpRequest) -> str:
    """The caller's X-Request-ID when it looks like one, else a new one."""
    if not hasattr(request, "request_id"):
        offered = request.headers.get("X-Request-ID", "")
        request.request_id = offered if REQUEST_ID.match(offered) else uuid.uuid4().hex  # type: ignore[attr-defined]
    return request.request_id  # type: ignore[attr-defined]


class RequestContextMiddleware(HistoryMiddleware):
    """Every change made while answering a request is recorded with the user (also one
    authenticated later by a token), the address and the request id; the id is echoed back."""

    def get_context(self, request: HttpRequest) -> dict[str, Any]:
        return super().get_context(request) | {"request_id": request_id_of(request)}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = super().__call__(request)
        response["X-Request-ID"] = request_id_of(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if isinstance(exception, PermissionDenied):
            from recordkeeping import audit

            audit.access_record(request=request, action="denied", status=403)


class SessionLifetimeMiddleware:
    """Ends a browser session a fixed time after login, however active it stays (the idle
    timeout is the session cookie's age, renewed on every request)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            started = request.session.setdefault("login_at", now)
            if now - started > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
        return self.get_response(request)


class NoStoreMiddleware:
    """No answer of the application is kept by a browser or a proxy (``Cache-Control:
    no-store``): API answers, admin pages and reports hold patient data, and nothing else the
    application answers gains from a cache. Static files are served before this runs and stay
    cacheable."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        patch_cache_control(response, no_store=True)
        return response


class RequestLimitsMiddleware:
    """A request body over DATA_UPLOAD_MAX_MEMORY_SIZE is refused with 413 before anything
    reads it (the API's parsers read the stream, which Django's own limit does not cover); a
    body sent without a length (chunked) with 411; a query parameter holding a NUL character
    (which PostgreSQL cannot store or compare) with 400 naming it."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        length = request.META.get("CONTENT_LENGTH") or "0"
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not request.META.get("CONTENT_LENGTH"):
            return refusal(request, 411, "Send the body with a Content-Length.")
        if not (length.isascii() and length.isdigit()):
            return refusal(request, 400, "The Content-Length header is not a number.")
        if limit is not None and (len(length) > 18 or int(length) > limit):
            return refusal(request, 413, f"The request body is over the limit of {limit} bytes.")
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                message = "Null characters are not allowed."
                return refusal(request, 400, f"{name}: {message}", {name: [message]})
        return self.get_response(request)


def refusal(
    request: HttpRequest, status: int, detail: str, errors: dict[str, list[str]] | None = None
) -> HttpResponse:
    from recordkeeping.api.errors import PROBLEM_CONTENT_TYPE, problem

    if request.path.startswith("/api/"):
        body = problem(status, detail, errors)
        return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)
    return HttpResponse(detail, status=status, content_type="text/plain; charset=utf-8")
