"""The project shell, the top floor: settings, URLs, WSGI/ASGI, the Celery app and `serve`; it
may import every other package."""

from __future__ import annotations

from clinic.celery import app as celery_app

__all__ = ["celery_app"]
