from __future__ import annotations

import pgtrigger
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from recordkeeping.db import choices_constraint
from recordkeeping.history import track
from recordkeeping.models import TimeStamped

MAX_PLANNED_SESSIONS = 12
MAX_INTERVAL_WEEKS = 26


class TreatmentKind(models.TextChoices):
    """What a course plans to inject; combinations are given in one session."""

    PRP = "prp", "PRP"
    DEXTROSE = "dextrose", "Dextrose prolotherapy"
    EXOSOME = "exosome", "Exosomes"
    PRP_DEXTROSE = "prp_dextrose", "PRP + dextrose"
    PRP_EXOSOME = "prp_exosome", "PRP + exosomes"
    OTHER = "other", "Other"


class CourseStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    STOPPED = "stopped", "Stopped"


@track()
class TreatmentCourse(TimeStamped):
    """A series of sessions for one condition, typically 3 to 6 sessions 2 to 8 weeks apart."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="courses"
    )
    condition = models.ForeignKey(
        "patients.Condition", on_delete=models.PROTECT, related_name="courses"
    )
    planned_treatment = models.CharField(max_length=16, choices=TreatmentKind.choices)
    planned_sessions = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_PLANNED_SESSIONS)]
    )
    planned_interval_weeks = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_INTERVAL_WEEKS)]
    )
    start_date = models.DateField()
    status = models.CharField(
        max_length=10, choices=CourseStatus.choices, default=CourseStatus.ACTIVE
    )
    stop_reason = models.TextField("reason stopped", blank=True)
    ended_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["patient", "-start_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(planned_sessions__range=(1, MAX_PLANNED_SESSIONS)),
                name="treatments_course_planned_sessions_range",
                violation_error_message="Planned sessions must be between 1 and 12.",
            ),
            models.CheckConstraint(
                condition=models.Q(planned_interval_weeks__range=(1, MAX_INTERVAL_WEEKS)),
                name="treatments_course_interval_weeks_range",
                violation_error_message="The interval must be between 1 and 26 weeks.",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=CourseStatus.STOPPED) | ~models.Q(stop_reason=""),
                name="treatments_course_stopped_has_reason",
                violation_error_message="A stopped course needs the reason.",
            ),
            models.CheckConstraint(
                condition=models.Q(ended_on__isnull=True)
                | models.Q(ended_on__gte=models.F("start_date")),
                name="treatments_course_ended_after_start",
                violation_error_message="A course cannot end before it starts.",
            ),
            choices_constraint(
                table="treatments_course", field="planned_treatment", choices=TreatmentKind
            ),
            choices_constraint(table="treatments_course", field="status", choices=CourseStatus),
        ]
        indexes = [
            models.Index(fields=["patient", "status"], name="treatments_course_patient_idx"),
            models.Index(fields=["status", "start_date"], name="treatments_course_status_idx"),
        ]
        triggers = [pgtrigger.Protect(name="course_no_delete", operation=pgtrigger.Delete)]

    def __str__(self) -> str:
        # No treatment or diagnosis here: the name shows wherever a course is linked, also to
        # staff who may not read clinical detail.
        return f"Course from {self.start_date:%d %b %Y}" if self.start_date else "New course"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.status == CourseStatus.STOPPED and not self.stop_reason.strip():
            errors["stop_reason"] = "Say why the course was stopped."
        if self.ended_on and self.start_date and self.ended_on < self.start_date:
            errors["ended_on"] = "A course cannot end before it starts."
        if self.condition_id and self.patient_id and self.condition.patient_id != self.patient_id:
            errors["condition"] = "This condition belongs to another patient."
        if errors:
            raise ValidationError(errors)
