"""Bulk FHIR exports of the whole clinic, and their progress.

FhirExport's table and migrations belong to the app labelled "clinic" (clinic/migrations/), as
they have since it was made; the code lives with what it is for, the label stays (moving it would
rename nothing and migrate for nothing).
"""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class FhirExport(models.Model):
    """A bulk FHIR export of the whole clinic: one NDJSON file per resource type."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=8, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    patients_total = models.PositiveIntegerField(default=0)
    patients_done = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True, help_text="Resources per type.")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "clinic"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(patients_done__lte=models.F("patients_total")),
                name="clinic_fhirexport_progress_within_total",
                violation_error_message="More patients done than there are.",
            ),
        ]

    def __str__(self) -> str:
        return f"FHIR export {self.id} ({self.status})"

    @property
    def directory(self) -> Path:
        return Path(settings.VAR_DIR) / "exports" / str(self.id)


class FhirExportRequest(models.Model):
    """What a FHIR Bulk Data kick-off (``GET [base]/$export``) asked of an export, which its
    manifest repeats, and whether its client cancelled it (``DELETE`` of its status address).
    Exports started otherwise (``POST /api/v1/fhir-exports/``, ``fhir_export``) have none."""

    export = models.OneToOneField(
        FhirExport, on_delete=models.CASCADE, primary_key=True, related_name="bulk_request"
    )
    url = models.URLField(max_length=2000, help_text="The kick-off request, in full.")
    types = ArrayField(
        models.CharField(max_length=64),
        default=list,
        blank=True,
        help_text="_type: the resource types asked for; none means every type.",
    )
    since = models.DateTimeField(
        null=True, blank=True, help_text="_since: only resources changed after this instant."
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Bulk Data request of {self.export_id}"
