"""``/healthz/``: the process answers. ``/readyz/``: the database and the broker answer too."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from kombu import Connection

from recordkeeping.api.errors import PROBLEM_CONTENT_TYPE, problem

BROKER_TIMEOUT_SECONDS = 2


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def database_ready() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # any failure means "not ready"
        return f"database: {type(error).__name__}"
    return None


def broker_ready() -> str | None:
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            transport_options=getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}),
            connect_timeout=BROKER_TIMEOUT_SECONDS,
        ) as broker:
            broker.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception as error:
        return f"broker: {type(error).__name__}"
    return None


def readyz(request: HttpRequest) -> JsonResponse:
    failures = [failure for failure in (database_ready(), broker_ready()) if failure]
    if failures:
        return JsonResponse(
            problem(503, "Not ready: " + "; ".join(failures) + "."),
            status=503,
            content_type=PROBLEM_CONTENT_TYPE,
        )
    return JsonResponse({"status": "ready", "database": "ok", "broker": "ok"})
