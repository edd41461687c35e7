"""Bulk FHIR export of the whole clinic, in the FHIR bulk-data layout: one NDJSON file per
resource type (``Patient.ndjson``, ``Procedure.ndjson``, ...), each line one validated
resource. Practitioners are written once however many patients they saw, and questionnaires once
however many patients answered them.

An export started by a Bulk Data kick-off may ask for some resource types only (``_type``) and
for what changed after an instant only (``_since``), and may be cancelled by its client."""

from __future__ import annotations

import datetime
import json
import shutil
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from interop import fhir
from interop.models import ExportStatus, FhirExport, FhirExportRequest
from patients.models import Condition, OutcomeScore, Patient
from questionnaires.models import Answer, Response
from treatments.models import (
    FollowUp,
    Injectate,
    InjectionSession,
    InjectionSite,
    SideEffect,
    TreatmentCourse,
)

CHUNK = 200  # patients read (with their records) per round of queries
CANCELLED = "Cancelled by its client; its files were deleted."

Progress = Callable[[int, int], None]


class Cancelled(Exception):
    """The export's client cancelled it while it ran."""


def fhir_export_create(*, requested_by: Any = None) -> FhirExport:
    return FhirExport.objects.create(
        requested_by=requested_by, patients_total=Patient.objects.count()
    )


def fhir_export_request(
    *,
    requested_by: Any,
    url: str,
    types: Collection[str] = (),
    since: datetime.datetime | None = None,
) -> FhirExport:
    """An export asked for by a Bulk Data kick-off: ``types`` only (none: every type) and, with
    ``since``, only resources whose record changed after it."""
    unknown = sorted(set(types) - set(fhir.RESOURCE_TYPES))
    if unknown:
        raise ValueError(f"Not exported: {', '.join(unknown)}.")
    with transaction.atomic():
        export = fhir_export_create(requested_by=requested_by)
        FhirExportRequest.objects.create(export=export, url=url, types=list(types), since=since)
    return export


def fhir_export_fail(*, export: FhirExport, error: str) -> None:
    FhirExport.objects.filter(pk=export.pk).update(status=ExportStatus.FAILED, error=error[:2000])


def fhir_export_cancel(*, export: FhirExport) -> None:
    """Cancel a Bulk Data export, running or done, and delete its files. A running worker stops
    at its next chunk of patients; the export stays recorded, as failed, saying so."""
    with transaction.atomic():
        FhirExport.objects.select_for_update().filter(pk=export.pk).get()
        FhirExportRequest.objects.filter(export=export).update(cancelled_at=timezone.now())
        fhir_export_fail(export=export, error=CANCELLED)
    shutil.rmtree(export.directory, ignore_errors=True)


def _cancelled(export: FhirExport) -> bool:
    return FhirExportRequest.objects.filter(export=export, cancelled_at__isnull=False).exists()


def changed_since(since: datetime.datetime) -> Q:
    """Patients any of whose records changed after ``since``."""
    after = {"updated_at__gt": since}
    own = OuterRef("pk")
    return (
        Q(updated_at__gt=since)
        | Exists(Condition.objects.filter(patient=own, **after))
        | Exists(OutcomeScore.objects.filter(patient=own, **after))
        | Exists(TreatmentCourse.objects.filter(patient=own, **after))
        | Exists(InjectionSession.objects.filter(patient=own, **after))
        | Exists(Injectate.objects.filter(session__patient=own, **after))
        | Exists(InjectionSite.objects.filter(session__patient=own, **after))
        | Exists(SideEffect.objects.filter(session__patient=own, **after))
        | Exists(FollowUp.objects.filter(patient=own, **after))
        | Exists(
            Response.objects.filter(invitation__patient=own).filter(
                Q(started_at__gt=since) | Q(completed_at__gt=since)
            )
        )
        | Exists(Answer.objects.filter(response__invitation__patient=own, answered_at__gt=since))
    )


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if isinstance(value.get("reference"), str):
            yield value["reference"]
        for item in value.values():
            yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def _wanted(
    resources: list[dict[str, Any]], since: datetime.datetime | None
) -> list[dict[str, Any]]:
    """A patient's resources changed after ``since``, the practitioners these name (the
    clinic keeps no time of change for a practitioner) and the questionnaires they answer."""
    if since is None:
        return resources
    changed = {id(r) for r in resources if (stamp := fhir.last_updated(r)) and stamp > since}
    named = {ref for r in resources if id(r) in changed for ref in _references(r)}
    answered = {r["questionnaire"] for r in resources if id(r) in changed and "questionnaire" in r}
    return [
        r
        for r in resources
        if id(r) in changed
        or (r["resourceType"] == "Practitioner" and f"Practitioner/{r['id']}" in named)
        or (r["resourceType"] == "Questionnaire" and f"{r['url']}|{r['version']}" in answered)
    ]


def fhir_export_run(
    *, export: FhirExport, directory: Path | None = None, progress: Progress | None = None
) -> FhirExport:
    """Write the export's files; ``progress(done, total)`` after each chunk of patients. A
    failure is recorded on the export (and raised); a cancelled export stops and leaves no
    files."""
    request = FhirExportRequest.objects.filter(export=export).first()
    types = set(request.types if request and request.types else fhir.RESOURCE_TYPES)
    since = request.since if request else None
    directory = directory or export.directory
    directory.mkdir(parents=True, exist_ok=True)
    patients = Patient.objects.order_by("pk")
    if since is not None:
        patients = patients.filter(changed_since(since))
    ids = list(patients.values_list("pk", flat=True))
    FhirExport.objects.filter(pk=export.pk).update(
        status=ExportStatus.RUNNING, patients_total=len(ids), patients_done=0
    )
    files: dict[str, IO[str]] = {}
    counts: dict[str, int] = {}
    written: set[tuple[str, str]] = set()  # resources of the shared types written already
    try:
        for start in range(0, len(ids), CHUNK):
            if request and _cancelled(export):
                raise Cancelled
            chunk = ids[start : start + CHUNK]
            for patient in fhir.patients_for_export(Patient.objects.filter(pk__in=chunk)):
                for resource in _wanted(list(fhir.patient_resources(patient)), since):
                    kind = resource["resourceType"]
                    if kind not in types:
                        continue
                    if kind in fhir.SHARED_TYPES:
                        if (kind, resource["id"]) in written:
                            continue
                        written.add((kind, resource["id"]))
                    if kind not in files:
                        files[kind] = open(directory / f"{kind}.ndjson", "w")  # noqa: SIM115
                    files[kind].write(json.dumps(fhir.validated(resource)) + "\n")
                    counts[kind] = counts.get(kind, 0) + 1
            FhirExport.objects.filter(pk=export.pk).update(
                patients_done=F("patients_done") + len(chunk)
            )
            if progress:
                progress(start + len(chunk), len(ids))
    except Cancelled:
        pass
    except Exception as error:
        fhir_export_fail(export=export, error=f"{type(error).__name__}: {error}")
        raise
    finally:
        for handle in files.values():
            handle.close()
    with transaction.atomic():
        # Locked as a cancel locks it: a cancel comes before this, or after it and finds it done.
        FhirExport.objects.select_for_update().filter(pk=export.pk).get()
        if request and _cancelled(export):
            shutil.rmtree(directory, ignore_errors=True)
        else:
            FhirExport.objects.filter(pk=export.pk).update(
                status=ExportStatus.DONE, counts=counts, finished_at=timezone.now()
            )
    export.refresh_from_db()
    return export


def export_file(export: FhirExport, resource_type: str) -> Path | None:
    """The file of one resource type, when the export wrote one (older exports' types too)."""
    if resource_type not in export.counts or export.status != ExportStatus.DONE:
        return None
    path = export.directory / f"{resource_type}.ndjson"
    return path if path.exists() else None
