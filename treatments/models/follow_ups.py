from __future__ import annotations

import datetime

import pgtrigger
from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from recordkeeping.db import choices_constraint
from recordkeeping.history import track
from recordkeeping.models import TimeStamped
from treatments.models.courses import TreatmentKind
from treatments.models.rules import clinician_errors, clinician_is_a_clinician

OVERLAP_RULE = "treatments_followup_no_overlap_per_clinician"
MAX_RULE_DAYS = 365
MAX_RULE_MINUTES = 240


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


# Booked: the patient is expected and is reminded. Proposed entries and cancelled bookings hold
# no time in the clinician's day.
BOOKED = (FollowUpStatus.SCHEDULED, FollowUpStatus.CONFIRMED)
HOLDS_NO_TIME = (FollowUpStatus.PROPOSED, FollowUpStatus.CANCELLED)
# What a new follow-up may be; the actions (check-in, no-show, ...) move it on from there.
BOOKABLE = (FollowUpStatus.PROPOSED, *BOOKED)


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
    rule = models.ForeignKey(
        "treatments.FollowUpRule",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        editable=False,
        help_text="The rule that proposed it.",
    )
    due_on = models.DateField(
        null=True,
        blank=True,
        editable=False,
        help_text="The day a proposed follow-up falls due under its rule.",
    )
    cancelled_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancel_reason = models.CharField(
        "reason for cancelling", max_length=500, blank=True, editable=False
    )

    class Meta:
        verbose_name = "follow-up"
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="treatments_followup_ends_after_start",
                violation_error_message="A follow-up must end after it starts.",
            ),
            # A clinician is never booked twice at once; proposals and cancelled bookings hold
            # no time.
            ExclusionConstraint(
                name=OVERLAP_RULE,
                expressions=[
                    ("clinician", RangeOperators.EQUAL),
                    (TsTzRange("starts_at", "ends_at"), RangeOperators.OVERLAPS),
                ],
                condition=~models.Q(status__in=HOLDS_NO_TIME),
                violation_error_message="The clinician already has a booking at that time.",
            ),
            choices_constraint(table="treatments_followup", field="kind", choices=FollowUpKind),
            choices_constraint(table="treatments_followup", field="status", choices=FollowUpStatus),
        ]
        indexes = [
            models.Index(fields=["clinician", "starts_at"], name="treatments_fu_clin_idx"),
            models.Index(fields=["starts_at"], name="treatments_fu_start_idx"),
            models.Index(fields=["patient", "starts_at"], name="treatments_fu_patient_idx"),
            # The front desk's list of proposals to book, soonest due first.
            models.Index(
                fields=["starts_at"],
                condition=models.Q(status=FollowUpStatus.PROPOSED),
                name="treatments_fu_proposed_idx",
            ),
        ]
        triggers = [
            pgtrigger.Protect(name="follow_up_no_delete", operation=pgtrigger.Delete),
            clinician_is_a_clinician(table="treatments_followup"),
        ]

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
            .exclude(status__in=HOLDS_NO_TIME)
            .filter(
                clinician_id=self.clinician_id,
                starts_at__lt=self.ends_at,
                ends_at__gt=self.starts_at,
            )
            .select_related("clinician")
            .first()
        )

    def clean(self) -> None:
        errors: dict[str, str] = clinician_errors(self)
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = "A follow-up must end after it starts."
        elif self.starts_at and self.ends_at:
            outside = outside_clinic_hours(self.starts_at, self.ends_at)
            if outside:
                errors["starts_at"] = outside
            elif self.clinician_id and self.status not in HOLDS_NO_TIME:
                clash = self.clashing_booking()
                if clash:
                    errors["starts_at"] = clash.describe_as_clash()
        for field in ("course", "session"):
            related = getattr(self, field) if getattr(self, f"{field}_id") else None
            if related and self.patient_id and related.patient_id != self.patient_id:
                errors[field] = f"This {field} belongs to another patient."
        if errors:
            raise ValidationError(errors)


@track()
class FollowUpRule(TimeStamped):
    """A follow-up the clinic proposes after a completed session; the clinic admin keeps these.

    The follow-up falls ``days_after`` the session, or one course interval after it; a rule
    ``while_sessions_remain`` applies only while the course has planned sessions still to give.
    """

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=24, choices=FollowUpKind.choices)
    treatment = models.CharField(
        max_length=16,
        choices=TreatmentKind.choices,
        blank=True,
        help_text="Only for courses of this treatment; blank for every session.",
    )
    days_after = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_RULE_DAYS)],
        help_text="Days after the session. Leave blank to use the course's interval.",
    )
    at_course_interval = models.BooleanField(
        "at the course's interval",
        default=False,
        help_text="One planned interval of the course after the session.",
    )
    while_sessions_remain = models.BooleanField(
        default=False, help_text="Only while the course has planned sessions left to give."
    )
    minutes = models.PositiveSmallIntegerField(
        "length in minutes",
        default=30,
        validators=[MinValueValidator(5), MaxValueValidator(MAX_RULE_MINUTES)],
    )
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = "follow-up rule"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(days_after__isnull=True, at_course_interval=True)
                | models.Q(days_after__isnull=False, at_course_interval=False),
                name="treatments_followuprule_one_timing",
                violation_error_message=(
                    "Give either a number of days or the course's interval, not both."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(days_after__isnull=True)
                | models.Q(days_after__range=(1, MAX_RULE_DAYS)),
                name="treatments_followuprule_days_after_range",
                violation_error_message=f"Days after must be between 1 and {MAX_RULE_DAYS}.",
            ),
            models.CheckConstraint(
                condition=models.Q(minutes__range=(5, MAX_RULE_MINUTES)),
                name="treatments_followuprule_minutes_range",
                violation_error_message=f"Length must be 5 to {MAX_RULE_MINUTES} minutes.",
            ),
            choices_constraint(table="treatments_followuprule", field="kind", choices=FollowUpKind),
            choices_constraint(
                table="treatments_followuprule",
                field="treatment",
                choices=TreatmentKind,
                blank=True,
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if (self.days_after is None) == (not self.at_course_interval):
            raise ValidationError(
                {"days_after": "Give either a number of days or the course's interval, not both."}
            )
