from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from clinic.db import choices_constraint
from clinic.history import track
from clinic.models import TimeStamped


class FollowUpKind(models.TextChoices):
    POST_INJECTION_CHECK = "post_injection_check", "Post-injection check"
    NEXT_INJECTION = "next_injection", "Next injection"
    REVIEW = "review", "Review"
    PHONE_CALL = "phone_call", "Phone call"


class FollowUpStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    SCHEDULED = "scheduled", "Scheduled"
    CONFIRMED = "confirmed", "Confirmed"
    CHECKED_IN = "checked_in", "Checked in"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"


@track()
class FollowUp(TimeStamped):
    """An appointment after a session or within a course."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="follow_ups"
    )
    course = models.ForeignKey(
        "treatments.TreatmentCourse",
        on_delete=models.PROTECT,
        related_name="follow_ups",
        null=True,
        blank=True,
    )
    session = models.ForeignKey(
        "treatments.InjectionSession",
        on_delete=models.PROTECT,
        related_name="follow_ups",
        null=True,
        blank=True,
        help_text="The session this follows.",
    )
    kind = models.CharField(max_length=24, choices=FollowUpKind.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="follow_ups"
    )
    status = models.CharField(
        max_length=12, choices=FollowUpStatus.choices, default=FollowUpStatus.SCHEDULED
    )
    notes = models.TextField("notes for the front desk", blank=True)

    class Meta:
        verbose_name = "follow-up"
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="treatments_followup_ends_after_start",
                violation_error_message="A follow-up must end after it starts.",
            ),
            choices_constraint(table="treatments_followup", field="kind", choices=FollowUpKind),
            choices_constraint(table="treatments_followup", field="status", choices=FollowUpStatus),
        ]
        indexes = [
            models.Index(fields=["clinician", "starts_at"], name="treatments_fu_clin_idx"),
            models.Index(fields=["starts_at"], name="treatments_fu_start_idx"),
            models.Index(fields=["patient", "starts_at"], name="treatments_fu_patient_idx"),
        ]
        triggers = [pgtrigger.Protect(name="follow_up_no_delete", operation=pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.starts_at:%d %b %Y %H:%M}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = "A follow-up must end after it starts."
        for field in ("course", "session"):
            related = getattr(self, field) if getattr(self, f"{field}_id") else None
            if related and self.patient_id and related.patient_id != self.patient_id:
                errors[field] = f"This {field} belongs to another patient."
        if errors:
            raise ValidationError(errors)
