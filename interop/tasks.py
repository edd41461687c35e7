"""Background work of bulk FHIR exports: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task

from interop import bulk
from interop.models import FhirExport


# Named as before the code moved: queued messages and the beat schedule name tasks.
@shared_task(name="clinic.tasks.fhir_bulk_export")
def fhir_bulk_export(export_id: str) -> dict[str, int]:
    export = FhirExport.objects.get(pk=export_id)
    return bulk.fhir_export_run(export=export).counts
