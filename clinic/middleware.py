from __future__ import annotations

import re
import time
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from pghistory.middleware import HistoryMiddleware

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def request_id_of(request: HttpRequest) -> str:
    """The caller's X-Request-ID when it looks like one, else a new one."""
    if not hasattr(request, "request_id"):
        offered = request.headers.get("X-Request-ID", "")
        request.request_id = offered if REQUEST_ID.match(offered) else uuid.uuid4().hex  # type: ignore[attr-defined]
    return request.request_id  # type: ignore[attr-defined,no-any-return]


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
            from clinic import audit

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
