from __future__ import annotations

import datetime
import functools
import operator
from decimal import Decimal
from typing import NamedTuple

import pgtrigger
from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone

from recordkeeping.choices import BodyRegion, Laterality
from recordkeeping.db import choices_constraint, days_from_today, years_before_today
from recordkeeping.history import track
from recordkeeping.models import TimeStamped

E164_REGEX = r"^\+[1-9][0-9]{6,14}$"
ICD10_REGEX = r"^[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$"
MAX_AGE_YEARS = 130


class NextMedicalRecordNumber(models.Func):
    """``MRN00000042``: the next value of a sequence, which never hands out a number twice,
    not even when the transaction that drew it rolls back."""

    template = "('MRN' || lpad(nextval('patients_patient_mrn_seq')::text, 8, '0'))"
    output_field = models.CharField()


class Sex(models.TextChoices):
    """FHIR administrative gender."""

    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class ReminderChannel(models.TextChoices):
    SMS = "sms", "SMS"
    EMAIL = "email", "Email"
    NONE = "none", "No reminders"


class PatientQuerySet(models.QuerySet["Patient"]):
    def active(self) -> PatientQuerySet:
        return self.filter(archived_at__isnull=True)


@track()
class Patient(TimeStamped):
    mrn = models.CharField(
        "MRN",
        max_length=16,
        db_default=NextMedicalRecordNumber(),
        editable=False,
        help_text="Medical record number, generated and never reused.",
    )
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    birth_date = models.DateField("date of birth")
    sex = models.CharField(max_length=8, choices=Sex.choices, default=Sex.UNKNOWN)
    phone = models.CharField(
        max_length=16,
        blank=True,
        validators=[RegexValidator(E164_REGEX, "Enter the phone number as +<country><number>.")],
        help_text="E.164, e.g. +447700900123.",
    )
    email = models.EmailField(blank=True)
    reminder_channel = models.CharField(
        max_length=8, choices=ReminderChannel.choices, default=ReminderChannel.NONE
    )
    reminder_consent = models.BooleanField(default=False)
    reminder_consent_on = models.DateField("reminder consent given on", null=True, blank=True)
    allergies = models.TextField(blank=True)
    local_anaesthetic_allergy = models.BooleanField(default=False)
    anticoagulant_use = models.BooleanField(
        "anticoagulant or antiplatelet use",
        default=False,
        help_text="A caution for PRP.",
    )
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["mrn"], name="patients_patient_mrn_unique"),
            models.CheckConstraint(
                condition=~models.Q(given_name="") & ~models.Q(family_name=""),
                name="patients_patient_names_present",
                violation_error_message="Given and family name are required.",
            ),
            models.CheckConstraint(
                condition=models.Q(birth_date__lte=days_from_today(1)),
                name="patients_patient_birth_date_not_future",
                violation_error_message="Date of birth cannot be in the future.",
            ),
            models.CheckConstraint(
                condition=models.Q(birth_date__gt=years_before_today(MAX_AGE_YEARS)),
                name="patients_patient_birth_date_within_130_years",
                violation_error_message="Date of birth cannot be over 130 years ago.",
            ),
            models.CheckConstraint(
                condition=models.Q(phone="") | models.Q(phone__regex=E164_REGEX),
                name="patients_patient_phone_e164",
                violation_error_message="Phone must be in E.164 form.",
            ),
            models.CheckConstraint(
                condition=models.Q(reminder_consent=False)
                | models.Q(reminder_consent_on__isnull=False),
                name="patients_patient_reminder_consent_has_date",
                violation_error_message="Reminder consent needs the date it was given.",
            ),
            models.CheckConstraint(
                condition=~models.Q(reminder_channel=ReminderChannel.SMS) | ~models.Q(phone=""),
                name="patients_patient_sms_reminders_need_phone",
                violation_error_message="SMS reminders need a phone number.",
            ),
            models.CheckConstraint(
                condition=~models.Q(reminder_channel=ReminderChannel.EMAIL) | ~models.Q(email=""),
                name="patients_patient_email_reminders_need_email",
                violation_error_message="Email reminders need an email address.",
            ),
            choices_constraint(table="patients_patient", field="sex", choices=Sex),
            choices_constraint(
                table="patients_patient", field="reminder_channel", choices=ReminderChannel
            ),
        ]
        indexes = [
            models.Index(fields=["family_name", "given_name"], name="patients_patient_name_idx"),
            models.Index(fields=["birth_date"], name="patients_patient_birth_idx"),
            # Admin and API search: an MRN matches whole but in any case, names by substring.
            models.Index(Upper("mrn"), name="patients_patient_mrn_upper_idx"),
            GinIndex(
                OpClass(Upper("family_name"), name="gin_trgm_ops"),
                name="patients_patient_family_trgm",
            ),
            GinIndex(
                OpClass(Upper("given_name"), name="gin_trgm_ops"),
                name="patients_patient_given_trgm",
            ),
        ]
        triggers = [pgtrigger.Protect(name="patient_no_delete", operation=pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name} ({self.mrn})"

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def clean(self) -> None:
        errors: dict[str, str] = {}
        today = timezone.localdate()
        if self.birth_date:
            if self.birth_date > today:
                errors["birth_date"] = "Date of birth cannot be in the future."
            elif self.birth_date <= _years_before(today, MAX_AGE_YEARS):
                errors["birth_date"] = "Date of birth cannot be over 130 years ago."
        if self.reminder_consent and not self.reminder_consent_on:
            errors["reminder_consent_on"] = "Enter the date consent to reminders was given."
        if self.reminder_channel == ReminderChannel.SMS and not self.phone:
            errors["phone"] = "SMS reminders need a phone number."
        if self.reminder_channel == ReminderChannel.EMAIL and not self.email:
            errors["email"] = "Email reminders need an email address."
        if errors:
            raise ValidationError(errors)


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


class ConditionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    RESOLVED = "resolved", "Resolved"


@track()
class Condition(TimeStamped):
    """A diagnosis the clinic treats, coded in ICD-10."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="conditions")
    icd10_code = models.CharField(
        "ICD-10 code",
        max_length=8,
        validators=[RegexValidator(ICD10_REGEX, "Enter an ICD-10 code such as M17.1.")],
    )
    label = models.CharField(max_length=200)
    body_region = models.CharField(max_length=16, choices=BodyRegion.choices)
    laterality = models.CharField(max_length=10, choices=Laterality.choices)
    onset_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=ConditionStatus.choices, default=ConditionStatus.ACTIVE
    )

    class Meta:
        ordering = ["patient", "-onset_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(icd10_code__regex=ICD10_REGEX),
                name="patients_condition_icd10_format",
                violation_error_message="ICD-10 code is not in the form M17.1.",
            ),
            models.CheckConstraint(
                condition=~models.Q(label=""),
                name="patients_condition_label_present",
                violation_error_message="A condition needs a label.",
            ),
            models.CheckConstraint(
                condition=models.Q(onset_date__isnull=True)
                | models.Q(onset_date__lte=days_from_today(1)),
                name="patients_condition_onset_not_future",
                violation_error_message="Onset cannot be in the future.",
            ),
            choices_constraint(table="patients_condition", field="body_region", choices=BodyRegion),
            choices_constraint(table="patients_condition", field="laterality", choices=Laterality),
            choices_constraint(table="patients_condition", field="status", choices=ConditionStatus),
        ]
        indexes = [models.Index(fields=["icd10_code"], name="patients_condition_icd10_idx")]
        triggers = [pgtrigger.Protect(name="condition_no_delete", operation=pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.icd10_code} {self.label} ({self.get_laterality_display().lower()})"

    def clean(self) -> None:
        if self.onset_date and self.onset_date > timezone.localdate():
            raise ValidationError({"onset_date": "Onset cannot be in the future."})


class Direction(models.TextChoices):
    LOWER_IS_BETTER = "lower", "Lower is better"
    HIGHER_IS_BETTER = "higher", "Higher is better"


class InstrumentSpec(NamedTuple):
    minimum: Decimal
    maximum: Decimal
    better: Direction


class Instrument(models.TextChoices):
    NPRS = "nprs", "NPRS pain (0-10)"
    VAS = "vas", "VAS pain (0-100 mm)"
    WOMAC = "womac", "WOMAC total (0-96)"
    KOOS_PAIN = "koos_pain", "KOOS pain (0-100)"
    KOOS_SYMPTOMS = "koos_symptoms", "KOOS symptoms (0-100)"
    KOOS_ADL = "koos_adl", "KOOS daily living (0-100)"
    KOOS_SPORT = "koos_sport", "KOOS sport and recreation (0-100)"
    KOOS_QOL = "koos_qol", "KOOS quality of life (0-100)"
    ODI = "odi", "Oswestry Disability Index (0-100)"
    QUICKDASH = "quickdash", "QuickDASH (0-100)"
    PRTEE = "prtee", "PRTEE (0-100)"
    VISA_A = "visa_a", "VISA-A (0-100)"
    VISA_P = "visa_p", "VISA-P (0-100)"
    HOOS_PAIN = "hoos_pain", "HOOS pain (0-100)"
    HOOS_SYMPTOMS = "hoos_symptoms", "HOOS symptoms (0-100)"
    HOOS_ADL = "hoos_adl", "HOOS daily living (0-100)"
    HOOS_SPORT = "hoos_sport", "HOOS sport and recreation (0-100)"
    HOOS_QOL = "hoos_qol", "HOOS quality of life (0-100)"
    GRC = "grc", "Global rating of change (-7 to +7)"


def _spec(maximum: int, better: Direction) -> InstrumentSpec:
    return InstrumentSpec(Decimal(0), Decimal(maximum), better)


LOWER, HIGHER = Direction.LOWER_IS_BETTER, Direction.HIGHER_IS_BETTER
INSTRUMENTS: dict[str, InstrumentSpec] = {
    Instrument.NPRS: _spec(10, LOWER),
    Instrument.VAS: _spec(100, LOWER),
    Instrument.WOMAC: _spec(96, LOWER),
    Instrument.KOOS_PAIN: _spec(100, HIGHER),
    Instrument.KOOS_SYMPTOMS: _spec(100, HIGHER),
    Instrument.KOOS_ADL: _spec(100, HIGHER),
    Instrument.KOOS_SPORT: _spec(100, HIGHER),
    Instrument.KOOS_QOL: _spec(100, HIGHER),
    Instrument.ODI: _spec(100, LOWER),
    Instrument.QUICKDASH: _spec(100, LOWER),
    Instrument.PRTEE: _spec(100, LOWER),
    Instrument.VISA_A: _spec(100, HIGHER),
    Instrument.VISA_P: _spec(100, HIGHER),
    Instrument.HOOS_PAIN: _spec(100, HIGHER),
    Instrument.HOOS_SYMPTOMS: _spec(100, HIGHER),
    Instrument.HOOS_ADL: _spec(100, HIGHER),
    Instrument.HOOS_SPORT: _spec(100, HIGHER),
    Instrument.HOOS_QOL: _spec(100, HIGHER),
    # A rating of the change itself, from "a very great deal worse" to "a very great deal better"
    # (Jaeschke 1989, 15 points): there is no baseline to compare it with.
    Instrument.GRC: InstrumentSpec(Decimal(-7), Decimal(7), HIGHER),
}


def _score_within_range() -> models.Q:
    return functools.reduce(
        operator.or_,
        (
            models.Q(instrument=code, score__gte=spec.minimum, score__lte=spec.maximum)
            for code, spec in INSTRUMENTS.items()
        ),
    )


class TimePoint(models.TextChoices):
    BASELINE = "baseline", "Baseline"
    WEEK_2 = "2w", "2 weeks"
    WEEK_6 = "6w", "6 weeks"
    MONTH_3 = "3m", "3 months"
    MONTH_6 = "6m", "6 months"
    MONTH_12 = "12m", "12 months"
    MONTH_24 = "24m", "24 months"
    OTHER = "date", "Other date"


@track()
class OutcomeScore(TimeStamped):
    """A patient-reported outcome measure, taken at a time point of a course."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="outcome_scores")
    course = models.ForeignKey(
        "treatments.TreatmentCourse",
        on_delete=models.PROTECT,
        related_name="outcome_scores",
        null=True,
        blank=True,
    )
    instrument = models.CharField(max_length=16, choices=Instrument.choices)
    score = models.DecimalField(max_digits=5, decimal_places=1)
    time_point = models.CharField(max_length=8, choices=TimePoint.choices)
    measured_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    patient_reported = models.BooleanField(
        default=False,
        db_default=False,
        editable=False,
        help_text="Scored from the patient's own answers to a questionnaire, not typed by staff.",
    )

    class Meta:
        ordering = ["patient", "measured_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(patient_reported=False) | models.Q(recorded_by__isnull=True),
                name="patients_outcomescore_patient_reported_not_typed",
                violation_error_message="A patient-reported score is not recorded by staff.",
            ),
            models.CheckConstraint(
                condition=_score_within_range(),
                name="patients_outcomescore_score_within_instrument_range",
                violation_error_message="Score is outside the instrument's range.",
            ),
            models.CheckConstraint(
                condition=models.Q(measured_on__lte=days_from_today(1)),
                name="patients_outcomescore_measured_not_future",
                violation_error_message="A score cannot be measured in the future.",
            ),
            models.UniqueConstraint(
                fields=["course", "instrument", "time_point"],
                condition=~models.Q(time_point=TimePoint.OTHER),
                name="patients_outcomescore_one_per_course_time_point",
                violation_error_message="This course already has that score at that time point.",
            ),
            choices_constraint(
                table="patients_outcomescore", field="instrument", choices=Instrument
            ),
            choices_constraint(
                table="patients_outcomescore", field="time_point", choices=TimePoint
            ),
        ]
        indexes = [
            models.Index(
                fields=["patient", "instrument", "measured_on"],
                name="patients_outcome_patient_idx",
            ),
            models.Index(fields=["course", "instrument"], name="patients_outcome_course_idx"),
        ]
        triggers = [pgtrigger.Protect(name="outcome_score_no_delete", operation=pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.get_instrument_display()}: {self.score} ({self.get_time_point_display()})"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        spec = INSTRUMENTS.get(self.instrument)
        if spec and self.score is not None and not spec.minimum <= self.score <= spec.maximum:
            errors["score"] = (
                f"{self.get_instrument_display()} scores run from {spec.minimum} to {spec.maximum}."
            )
        if self.measured_on and self.measured_on > timezone.localdate():
            errors["measured_on"] = "A score cannot be measured in the future."
        course = self.course if self.course_id else None
        if course and self.patient_id and course.patient_id != self.patient_id:
            errors["course"] = "This course belongs to another patient."
        if errors:
            raise ValidationError(errors)


class McidUnit(models.TextChoices):
    POINTS = "points", "Points"
    PERCENT = "percent", "% of baseline"


@track()
class InstrumentMcid(TimeStamped):
    """The minimal clinically important difference of an instrument: an improvement from
    baseline at least this large makes the patient a responder. The clinic admin keeps these."""

    instrument = models.CharField(max_length=16, choices=Instrument.choices, unique=True)
    value = models.DecimalField(max_digits=5, decimal_places=1)
    unit = models.CharField(max_length=8, choices=McidUnit.choices, default=McidUnit.POINTS)

    class Meta:
        verbose_name = "MCID"
        verbose_name_plural = "MCIDs"
        ordering = ["instrument"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(value__gt=0)
                & (~models.Q(unit=McidUnit.PERCENT) | models.Q(value__lte=100)),
                name="patients_instrumentmcid_value_positive",
                violation_error_message="An MCID is above 0 (and at most 100 %).",
            ),
            choices_constraint(
                table="patients_instrumentmcid", field="instrument", choices=Instrument
            ),
            choices_constraint(table="patients_instrumentmcid", field="unit", choices=McidUnit),
        ]

    def __str__(self) -> str:
        unit = " %" if self.unit == McidUnit.PERCENT else " points"
        return f"{self.get_instrument_display()}: {self.value}{unit}"

    @property
    def better(self) -> str:
        return INSTRUMENTS[self.instrument].better
