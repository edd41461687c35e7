"""Patients waiting for an earlier visit, and what each person at the desk chose to see.

A waitlist entry is not tracked by the change history (its table would have to join the audit
chain, which recordkeeping keeps); every write of one goes through the workspace, whose access
log names the patient, and a booking made from it is a follow-up, which is tracked."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from recordkeeping.db import choices_constraint
from recordkeeping.models import TimeStamped
from treatments.models.follow_ups import MAX_RULE_MINUTES, FollowUpKind
from treatments.models.rules import clinician_errors

MIN_VISIT_MINUTES = 5


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    BOOKED = "booked", "Booked"
    WITHDRAWN = "withdrawn", "Withdrawn"


class WaitlistEntry(TimeStamped):
    """A patient who would come earlier: for a clinician (or any), a kind of visit of a length,
    on a day between ``earliest`` and ``latest``. A freed slot that fits offers the entries in
    the order they were added."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="waitlist_entries"
    )
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="waitlist_entries",
        null=True,
        blank=True,
        help_text="Leave empty for any clinician.",
    )
    kind = models.CharField(max_length=24, choices=FollowUpKind.choices)
    minutes = models.PositiveSmallIntegerField(
        "length in minutes",
        default=30,
        validators=[MinValueValidator(MIN_VISIT_MINUTES), MaxValueValidator(MAX_RULE_MINUTES)],
    )
    earliest = models.DateField("from")
    latest = models.DateField("until")
    notes = models.CharField("notes for the front desk", max_length=500, blank=True)
    status = models.CharField(
        max_length=10, choices=WaitlistStatus.choices, default=WaitlistStatus.WAITING
    )
    follow_up = models.OneToOneField(
        "treatments.FollowUp",
        on_delete=models.PROTECT,
        related_name="waitlist_entry",
        null=True,
        blank=True,
        editable=False,
        help_text="The booking made from this entry.",
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        editable=False,
    )

    class Meta:
        verbose_name = "waitlist entry"
        verbose_name_plural = "waitlist entries"
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latest__gte=models.F("earliest")),
                name="treatments_waitlistentry_dates_in_order",
                violation_error_message="The last day cannot be before the first.",
            ),
            models.CheckConstraint(
                condition=models.Q(minutes__range=(MIN_VISIT_MINUTES, MAX_RULE_MINUTES)),
                name="treatments_waitlistentry_minutes_range",
                violation_error_message=(
                    f"Length must be {MIN_VISIT_MINUTES} to {MAX_RULE_MINUTES} minutes."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(status=WaitlistStatus.BOOKED, follow_up__isnull=False)
                | (~models.Q(status=WaitlistStatus.BOOKED) & models.Q(follow_up__isnull=True)),
                name="treatments_waitlistentry_booked_names_its_booking",
                violation_error_message="A booked entry names its booking, and only it does.",
            ),
            choices_constraint(
                table="treatments_waitlistentry", field="kind", choices=FollowUpKind
            ),
            choices_constraint(
                table="treatments_waitlistentry", field="status", choices=WaitlistStatus
            ),
        ]
        indexes = [
            # The entries a freed slot may offer: those still waiting, by the days they take.
            models.Index(
                fields=["earliest", "latest"],
                condition=models.Q(status=WaitlistStatus.WAITING),
                name="treatments_waitlist_open_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.earliest:%d %b} to {self.latest:%d %b %Y}"

    def clean(self) -> None:
        errors: dict[str, str] = clinician_errors(self)
        if self.earliest and self.latest and self.latest < self.earliest:
            errors["latest"] = "The last day cannot be before the first."
        if errors:
            raise ValidationError(errors)


class DayViewChoice(models.Model):
    """The clinicians a person chose to see on the day's grid, kept from one sign-in to the
    next; without one, the grid shows who works that day."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="day_view_choice"
    )
    clinician_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Day view of {self.user}"
