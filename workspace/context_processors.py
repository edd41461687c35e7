from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def clinic(request: HttpRequest) -> dict[str, Any]:
    """The clinic's name on every screen."""
    return {"clinic_name": settings.CLINIC_NAME}
