"""Bulk FHIR export of the whole clinic, in the FHIR bulk-data layout: one NDJSON file per
resource type (``Patient.ndjson``, ``Procedure.ndjson``, ...), each line one validated
resource. Practitioners are written once however many patients they saw."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from interop import fhir
from interop.models import ExportStatus, FhirExport
from patients.models import Patient

CHUNK = 200  # patients read (with their records) per round of queries

Progress = Callable[[int, int], None]


def fhir_export_create(*, requested_by: Any = None) -> FhirExport:
    return FhirExport.objects.create(
        requested_by=requested_by, patients_total=Patient.objects.count()
    )


def fhir_export_fail(*, export: FhirExport, error: str) -> None:
    FhirExport.objects.filter(pk=export.pk).update(status=ExportStatus.FAILED, error=error[:2000])


def fhir_export_run(
    *, export: FhirExport, directory: Path | None = None, progress: Progress | None = None
) -> FhirExport:
    """Write the export's files; ``progress(done, total)`` after each chunk of patients. A
    failure is recorded on the export (and raised)."""
    directory = directory or export.directory
    directory.mkdir(parents=True, exist_ok=True)
    ids = list(Patient.objects.order_by("pk").values_list("pk", flat=True))
    FhirExport.objects.filter(pk=export.pk).update(
        status=ExportStatus.RUNNING, patients_total=len(ids), patients_done=0
    )
    files: dict[str, IO[str]] = {}
    counts: dict[str, int] = {}
    practitioners: set[str] = set()
    try:
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            for patient in fhir.patients_for_export(Patient.objects.filter(pk__in=chunk)):
                for resource in fhir.patient_resources(patient):
                    kind = resource["resourceType"]
                    if kind == "Practitioner":
                        if resource["id"] in practitioners:
                            continue
                        practitioners.add(resource["id"])
                    if kind not in files:
                        files[kind] = open(directory / f"{kind}.ndjson", "w")  # noqa: SIM115
                    files[kind].write(json.dumps(fhir.validated(resource)) + "\n")
                    counts[kind] = counts.get(kind, 0) + 1
            FhirExport.objects.filter(pk=export.pk).update(
                patients_done=F("patients_done") + len(chunk)
            )
            if progress:
                progress(start + len(chunk), len(ids))
    except Exception as error:
        fhir_export_fail(export=export, error=f"{type(error).__name__}: {error}")
        raise
    finally:
        for handle in files.values():
            handle.close()
    with transaction.atomic():
        FhirExport.objects.filter(pk=export.pk).update(
            status=ExportStatus.DONE, counts=counts, finished_at=timezone.now()
        )
    export.refresh_from_db()
    return export


def export_file(export: FhirExport, resource_type: str) -> Path | None:
    """The file of one resource type, when the export wrote one."""
    if resource_type not in fhir.RESOURCE_TYPES or export.status != ExportStatus.DONE:
        return None
    path = export.directory / f"{resource_type}.ndjson"
    return path if path.exists() else None
