from __future__ import annotations

import datetime

import pgtrigger
from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from clinic.db import choices_constraint
from clinic.history import track
from clinic.models import TimeStamped

OVERLAP_RULE = "treatments_followup_no_overlap_per_clinician"


class TsTzRange(models.Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


def outside_clinic_hours(starts_at: datetime.datetime, ends_at: datetime.datetime) -> str | None:
    """Why a booking falls outside the clinic's opening hours (settings), or None."""
    start, end = timezone.localtime(starts_at), timezone.localtime(ends_at)
    opens, closes = settings.CLINIC_OPENS, settings.CLINIC_CLOSES
    if start.date() != end.date():
        return "A booking must start and end on the same day."
    if start.isoweekday() not in settings.CLINIC_DAYS:
        return f"The clinic is closed on {start:%A}s."
    if start.time() < opens or end.time() > closes:
        return f"Bookings must fall within clinic hours, {opens:%H:%M} to {closes:%H:%M}."
    return None


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
            # A clinician is never booked twice at once; cancelled bookings free their time.
            ExclusionConstraint(
                name=OVERLAP_RULE,
                expressions=[
                    ("clinician", RangeOperators.EQUAL),
                    (TsTzRange("starts_at", "ends_at"), RangeOperators.OVERLAPS),
                ],
                condition=~models.Q(status=FollowUpStatus.CANCELLED),
                violation_error_message="The clinician already has a booking at that time.",
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

    def describe_as_clash(self) -> str:
        who = self.clinician.get_full_name() or self.clinician.get_username()
        start, end = timezone.localtime(self.starts_at), timezone.localtime(self.ends_at)
        return (
            f"{who} is already booked from {start:%d %b %Y %H:%M} to {end:%H:%M} "
            f"({self.get_kind_display().lower()}, follow-up {self.pk})."
        )

    def clashing_booking(self) -> FollowUp | None:
        """Another live booking of the same clinician that overlaps this one."""
        return (
            FollowUp.objects.exclude(pk=self.pk)
            .exclude(status=FollowUpStatus.CANCELLED)
            .filter(
                clinician_id=self.clinician_id,
                starts_at__lt=self.ends_at,
                ends_at__gt=self.starts_at,
            )
            .select_related("clinician")
            .first()
        )

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = "A follow-up must end after it starts."
        elif self.starts_at and self.ends_at:
            outside = outside_clinic_hours(self.starts_at, self.ends_at)
            if outside:
                errors["starts_at"] = outside
            elif self.clinician_id and self.status != FollowUpStatus.CANCELLED:
                clash = self.clashing_booking()
                if clash:
                    errors["starts_at"] = clash.describe_as_clash()
        for field in ("course", "session"):
            related = getattr(self, field) if getattr(self, f"{field}_id") else None
            if related and self.patient_id and related.patient_id != self.patient_id:
                errors[field] = f"This {field} belongs to another patient."
        if errors:
            raise ValidationError(errors)
