from __future__ import annotations

import uuid
from pathlib import Path

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AccessLogEntry(models.Model):
    """A read of patient data, a failed login or a refusal: who, what, when, from where."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    username = models.CharField(max_length=150, blank=True)
    ip = models.GenericIPAddressField("client IP", null=True, blank=True)
    action = models.CharField(max_length=80)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    status = models.PositiveSmallIntegerField()
    patient_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name_plural = "access log"
        ordering = ["-at", "-id"]
        indexes = [
            GinIndex(fields=["patient_ids"], name="clinic_access_patients_idx"),
            models.Index(fields=["user", "at"], name="clinic_access_user_idx"),
        ]
        triggers = [
            pgtrigger.Protect(
                name="access_log_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            )
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username or '-'} {self.action}"


class AuditChainEntry(models.Model):
    """One link of the hash chain over every audit and history row (see clinic.audit).

    An entry covers the rows one statement inserted into one table: their keys and digests.
    """

    position = models.BigIntegerField(unique=True)
    table_name = models.CharField(max_length=63)
    row_keys = ArrayField(models.BigIntegerField())
    row_digests = ArrayField(models.CharField(max_length=64))
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["position"]
        indexes = [models.Index(fields=["table_name"], name="clinic_chain_table_idx")]
        triggers = [
            pgtrigger.Protect(
                name="audit_chain_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            )
        ]

    def __str__(self) -> str:
        return f"#{self.position} {self.table_name} ({len(self.row_keys)} rows)"


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


class CourseChange(models.Model):
    """Per course, instrument and time point: the reading that counts there and its change from
    the course's baseline, with what the reports filter courses by (a row of the view
    clinic_course_changes). Written by PostgreSQL only: triggers on outcome scores, sessions,
    courses and conditions refresh their courses' rows in the same transaction
    (clinic_course_changes_refresh). Read by the outcomes reports."""

    course = models.ForeignKey(
        "treatments.TreatmentCourse", on_delete=models.DO_NOTHING, related_name="+"
    )
    patient = models.ForeignKey("patients.Patient", on_delete=models.DO_NOTHING, related_name="+")
    treatment = models.CharField("the course's planned treatment", max_length=16)
    icd10_code = models.CharField("the course's condition", max_length=8)
    body_region = models.CharField(max_length=16)
    instrument = models.CharField(max_length=16)
    time_point = models.CharField(max_length=8)
    baseline = models.DecimalField(max_digits=5, decimal_places=1)
    baseline_on = models.DateField()
    score = models.DecimalField(max_digits=5, decimal_places=1)
    measured_on = models.DateField()
    change = models.DecimalField(max_digits=6, decimal_places=1)
    improvement = models.DecimalField(
        max_digits=6, decimal_places=1, help_text="The change in the instrument's better direction."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["course", "instrument", "time_point"], name="clinic_coursechange_unique"
            )
        ]
        indexes = [
            # The outcomes report counts distinct patients per instrument and time point from
            # this index alone, filters included.
            models.Index(
                fields=["instrument", "time_point", "patient"],
                include=["treatment", "icd10_code", "body_region", "measured_on", "course"],
                name="clinic_coursechange_pts_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"course {self.course_id}: {self.instrument} at {self.time_point} {self.change:+}"


ADDED_TO_GROUP = "group.add"
REMOVED_FROM_GROUP = "group.remove"
PASSWORD_CHANGED = "password.change"  # noqa: S105 - an event's label, not a password


# Staff accounts and their groups are tracked through proxies of Django's own models, so the
# triggers and event tables live in this app's migrations. Passwords and login times are not
# copied: no password hash belongs in an audit table, and a login is not a change of the account.
@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    pghistory.ManualEvent(PASSWORD_CHANGED),  # clinic.staff.PasswordChangeEndsAccess
    exclude=["password", "last_login"],
    model_name="StaffAccountEvent",
    append_only=True,
    level=pgtrigger.Statement,
)
class StaffAccount(User):
    """A staff member's login account (Django's user), as its change history sees it."""

    class Meta:
        proxy = True
        verbose_name = "staff account"


@pghistory.track(
    pghistory.InsertEvent(ADDED_TO_GROUP),
    pghistory.DeleteEvent(REMOVED_FROM_GROUP),
    obj_field=None,  # a membership row is gone once removed; the event names user and group
    model_name="StaffGroupEvent",
    append_only=True,
    level=pgtrigger.Statement,
)
class StaffGroupMembership(User.groups.through):  # type: ignore[name-defined,misc]
    """A staff account's membership of a group (a role): added (insert) or removed (delete)."""

    class Meta:
        proxy = True
        verbose_name = "group membership"
