"""The reports' models: what PostgreSQL keeps for them.

Their tables and migrations belong to the app labelled "clinic" (clinic/migrations/), as they
have since they were made; the code lives with what it is for, the label stays (moving it would
rename nothing and migrate for nothing).
"""

from __future__ import annotations

from django.db import models


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
    patient_reported = models.BooleanField(
        default=False,
        help_text="The baseline and the reading both scored from the patient's own answers.",
    )

    class Meta:
        app_label = "clinic"
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
