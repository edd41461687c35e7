"""Background work of the clinic app: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task

from clinic import exports
from clinic.models import FhirExport


@shared_task
def fhir_bulk_export(export_id: str) -> dict[str, int]:
    export = FhirExport.objects.get(pk=export_id)
    return exports.fhir_export_run(export=export).counts
