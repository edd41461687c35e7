"""Background work of the clinic app: thin wrappers around services."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from celery import shared_task
from django.conf import settings

from clinic import audit, exports
from clinic.models import FhirExport


@shared_task
def fhir_bulk_export(export_id: str) -> dict[str, int]:
    export = FhirExport.objects.get(pk=export_id)
    return exports.fhir_export_run(export=export).counts


@shared_task
def audit_anchor() -> dict[str, Any]:
    return audit.audit_anchor_publish(path=Path(settings.AUDIT_ANCHOR_PATH))
