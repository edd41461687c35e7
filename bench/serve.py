"""What `make bench` serves under gunicorn: the app, with each response's query count in an
``X-Queries`` header, and bench/floor.py under ``/floor/`` in the same processes."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

from django.db import connection  # noqa: E402
from floor import application as floor_app  # noqa: E402 (bench/floor.py)

from clinic.wsgi import application as django_app  # noqa: E402


def application(environ, start_response):
    if environ.get("PATH_INFO", "").startswith("/floor/"):
        return floor_app(environ, start_response)
    count = 0

    def counted(execute, sql, params, many, context):
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    def start_counted(status, headers, exc_info=None):
        return start_response(status, [*headers, ("X-Queries", str(count))], exc_info)

    with connection.execute_wrapper(counted):
        return django_app(environ, start_counted)
