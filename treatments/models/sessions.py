from __future__ import annotations

import datetime
import functools
import operator
from decimal import Decimal
from typing import Any

import pgtrigger
from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone

from recordkeeping.choices import BodyRegion, Laterality
from recordkeeping.db import choices_constraint
from recordkeeping.history import track
from recordkeeping.models import TimeStamped
from stock.choices import (  # the words of what is injected, shared with presets
    Activation,
    Anaesthetic,
    Anticoagulant,
    ExosomeSource,
    InjectateKind,
    RichOrPoor,
)
from treatments.models.rules import check_violation, clinician_errors, clinician_is_a_clinician

MAX_INJECTATE_ML = Decimal(60)
MAX_WHOLE_BLOOD_ML = Decimal(240)
MAX_DEXTROSE_PCT = Decimal(50)
MAX_ANAESTHETIC_PCT = Decimal(2)
SNOMED_REGEX = r"^[1-9][0-9]{5,17}$"
COMPLETION_CLOCK_SLACK = datetime.timedelta(minutes=15)  # a device clock a little ahead

# The earliest calendar day a session can fall on in any time zone. Database triggers compare
# with it so they never refuse a correct row; the forms compare with the exact local day.
SESSION_EARLIEST_DAY_SQL = "((s.performed_at AT TIME ZONE 'UTC')::date - 1)"


SIGNED_RULE = "treatments_session_signed_is_final"
STATUS_RULE = "treatments_session_status_moves_forward"


def signed_parts_are_final(table: str) -> pgtrigger.Trigger:
    """Injectates and sites of a signed session can be neither added, changed nor removed."""
    return pgtrigger.Trigger(
        name=f"{table}_of_signed_session_final",
        operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
        when=pgtrigger.Before,
        func=f"""
        IF EXISTS (
            SELECT 1 FROM treatments_injectionsession s
            WHERE s.signed_at IS NOT NULL AND s.id IN (
                CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.session_id END,
                CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.session_id END
            )
        ) THEN
            {check_violation(SIGNED_RULE, "the session is signed; add an addendum instead")}
        END IF;
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
        """,
    )


# What a session's injectates add up to (a TreatmentKind value; "" without injectates),
# computed by the database function created in migration 0008.
TREATMENT_OF_SESSION = "treatments_session_treatment"


def session_treatment_follows(operation: pgtrigger.Operation, tables: tuple[str, ...]) -> Any:
    """After injectates change, their sessions' ``treatment`` is computed again."""
    names = {"new_rows": "new", "old_rows": "old"}
    rows = " UNION ".join(f"SELECT session_id FROM {table}" for table in tables)
    label = "_".join(str(operation).lower().split())
    return pgtrigger.Trigger(
        name=f"session_treatment_after_{label}",
        operation=operation,
        when=pgtrigger.After,
        level=pgtrigger.Statement,
        referencing=pgtrigger.Referencing(**{names[table]: table for table in tables}),
        func=f"""
        UPDATE treatments_injectionsession s
        SET treatment = {TREATMENT_OF_SESSION}(s.id)
        WHERE s.id IN ({rows})
          AND s.treatment IS DISTINCT FROM {TREATMENT_OF_SESSION}(s.id);
        RETURN NULL;
        """,
    )


class SessionStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class Guidance(models.TextChoices):
    LANDMARK = "landmark", "None / landmark"
    ULTRASOUND = "ultrasound", "Ultrasound"
    FLUOROSCOPY = "fluoroscopy", "Fluoroscopy"


# A session's parts, for many sessions at once (the order each part is listed in).
INJECTATES_SQL = (
    "SELECT * FROM treatments_injectate WHERE session_id = ANY(%s) ORDER BY session_id, line"
)
SITES_SQL = (  # each site with its injectate's line, not the whole injectate
    "SELECT s.*, i.line AS injectate_line FROM treatments_injectionsite s "
    "JOIN treatments_injectate i ON i.id = s.injectate_id "
    "WHERE s.session_id = ANY(%s) ORDER BY s.session_id, s.line"
)
ADDENDA_SQL = (
    "SELECT * FROM treatments_addendum WHERE session_id = ANY(%s) "
    "ORDER BY session_id, created_at, id"
)


class SessionsWithParts(models.query.ModelIterable):
    """Sessions, each with its injectates, sites and addenda as lists in
    ``prefetched_injectates``, ``prefetched_sites`` and ``prefetched_addenda``: one query per
    part for all the sessions. Plain SQL by session ids (raw querysets): Django's prefetch
    costs more in building and matching than the rows it loads."""

    def __iter__(self) -> Any:
        sessions = list(super().__iter__())
        if sessions:
            ids = [session.pk for session in sessions]
            using = self.queryset.db
            parts: dict[str, models.query.RawQuerySet[Any]] = {
                "prefetched_injectates": Injectate.objects.raw(INJECTATES_SQL, [ids]),
                "prefetched_sites": InjectionSite.objects.raw(SITES_SQL, [ids]),
                "prefetched_addenda": Addendum.objects.raw(ADDENDA_SQL, [ids]),
            }
            for attribute, rows in parts.items():
                by_session: dict[int, list[Any]] = {pk: [] for pk in ids}
                for row in rows.using(using):
                    by_session[row.session_id].append(row)
                for session in sessions:
                    setattr(session, attribute, by_session[session.pk])
        yield from sessions


class InjectionSessionQuerySet(models.QuerySet["InjectionSession"]):
    def completed(self) -> InjectionSessionQuerySet:
        return self.filter(status=SessionStatus.COMPLETED)

    def with_parts(self) -> InjectionSessionQuerySet:
        """Loaded with their injectates, sites and addenda (SessionsWithParts): four queries
        however many sessions."""
        clone = self._chain()  # type: ignore[attr-defined]
        clone._iterable_class = SessionsWithParts
        return clone


STATUS_IS_FINAL = (
    "The session is {status}; its status no longer changes (planned sessions are completed or "
    "cancelled)."
)


@track()
class InjectionSession(TimeStamped):
    """One visit at which injections are given: a procedure."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="sessions"
    )
    course = models.ForeignKey(
        "treatments.TreatmentCourse",
        on_delete=models.PROTECT,
        related_name="sessions",
        null=True,
        blank=True,
    )
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sessions"
    )
    performed_at = models.DateTimeField("date and time")
    status = models.CharField(
        max_length=10, choices=SessionStatus.choices, default=SessionStatus.PLANNED
    )
    guidance = models.CharField(
        "image guidance", max_length=12, choices=Guidance.choices, default=Guidance.LANDMARK
    )
    consent_obtained = models.BooleanField(default=False)
    treatment = models.CharField(
        "treatment given",
        max_length=16,
        blank=True,
        editable=False,
        help_text="What the injectates add up to (PRP, dextrose, exosomes or a combination); "
        "kept by the database.",
    )
    pre_pain_score = models.PositiveSmallIntegerField(
        "pre-procedure pain (NPRS 0-10)",
        null=True,
        blank=True,
        validators=[MaxValueValidator(10)],
    )
    notes = models.TextField(blank=True)
    cancel_reason = models.TextField(blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        editable=False,
    )
    signed_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = InjectionSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-performed_at", "-id"]
        permissions = [("reassign_injectionsession", "Can reassign a session to another clinician")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pre_pain_score__isnull=True)
                | models.Q(pre_pain_score__range=(0, 10)),
                name="treatments_session_pre_pain_score_range",
                violation_error_message="Pain score must be between 0 and 10.",
            ),
            models.CheckConstraint(
                condition=models.Q(signed_by__isnull=True, signed_at__isnull=True)
                | models.Q(signed_by__isnull=False, signed_at__isnull=False),
                name="treatments_session_signed_by_and_at_together",
                violation_error_message="A signature needs both the signer and the time.",
            ),
            models.CheckConstraint(
                condition=models.Q(signed_at__isnull=True)
                | models.Q(status=SessionStatus.COMPLETED),
                name="treatments_session_signed_only_when_completed",
                violation_error_message="Only a completed session can be signed.",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=SessionStatus.COMPLETED)
                | models.Q(consent_obtained=True),
                name="treatments_session_completed_needs_consent",
                violation_error_message="A completed session needs the patient's consent.",
            ),
            choices_constraint(table="treatments_session", field="status", choices=SessionStatus),
            choices_constraint(table="treatments_session", field="guidance", choices=Guidance),
        ]
        indexes = [
            models.Index(fields=["performed_at"], name="treatments_session_date_idx"),
            models.Index(fields=["clinician", "performed_at"], name="treatments_session_clin_idx"),
            models.Index(fields=["patient", "performed_at"], name="treatments_session_patient_idx"),
            models.Index(fields=["course", "performed_at"], name="treatments_session_course_idx"),
        ]
        triggers = [
            pgtrigger.Protect(name="session_no_delete", operation=pgtrigger.Delete),
            # Whatever a save writes, the treatment is what the injectates say.
            pgtrigger.Trigger(
                name="session_treatment_from_injectates",
                operation=pgtrigger.Insert | pgtrigger.Update,
                when=pgtrigger.Before,
                func=f"""
                NEW.treatment := {TREATMENT_OF_SESSION}(NEW.id);
                RETURN NEW;
                """,
            ),
            clinician_is_a_clinician(table="treatments_injectionsession"),
            # Planned, then completed or cancelled: a record of what happened stays what it says.
            pgtrigger.Trigger(
                name="session_status_moves_forward",
                operation=pgtrigger.Update,
                when=pgtrigger.Before,
                condition=pgtrigger.Q(old__status__df=pgtrigger.F("new__status"))
                & ~pgtrigger.Q(old__status=SessionStatus.PLANNED.value),
                func=f"""
                {check_violation(STATUS_RULE, "a completed or cancelled session keeps its status")}
                RETURN NULL;
                """,
            ),
            pgtrigger.Trigger(
                name="signed_session_is_final",
                operation=pgtrigger.Update,
                when=pgtrigger.Before,
                condition=pgtrigger.Q(old__signed_at__isnull=False),
                func=f"""
                {check_violation(SIGNED_RULE, "the session is signed; add an addendum instead")}
                RETURN NULL;
                """,
            ),
            pgtrigger.Trigger(
                name="session_date_keeps_records_valid",
                operation=pgtrigger.Update,
                when=pgtrigger.After,
                condition=pgtrigger.Q(old__performed_at__df=pgtrigger.F("new__performed_at")),
                func=f"""
                IF EXISTS (
                    SELECT 1 FROM treatments_injectate i
                    JOIN treatments_injectionsession s ON s.id = i.session_id
                    WHERE s.id = NEW.id AND i.expiry_date < {SESSION_EARLIEST_DAY_SQL}
                ) THEN
                    {
                    check_violation(
                        "treatments_injectate_expiry_not_before_session",
                        "an injectate of this session would have expired",
                    )
                }
                END IF;
                IF EXISTS (
                    SELECT 1 FROM treatments_sideeffect e
                    JOIN treatments_injectionsession s ON s.id = e.session_id
                    WHERE s.id = NEW.id AND e.onset_date < {SESSION_EARLIEST_DAY_SQL}
                ) THEN
                    {
                    check_violation(
                        "treatments_sideeffect_onset_not_before_session",
                        "a side effect of this session would begin before it",
                    )
                }
                END IF;
                RETURN NULL;
                """,
            ),
        ]

    def __str__(self) -> str:
        when = timezone.localtime(self.performed_at) if self.performed_at else None
        return f"Session {when:%d %b %Y %H:%M}" if when else "New session"

    @property
    def performed_on(self) -> datetime.date | None:
        """The session's day in the clinic's time zone."""
        return timezone.localdate(self.performed_at) if self.performed_at else None

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    def clean(self) -> None:
        errors: dict[str, str] = clinician_errors(self)
        stored = InjectionSession.objects.filter(pk=self.pk).values_list("status", flat=True)
        was = stored.first() if self.pk else None
        if was and was != SessionStatus.PLANNED and self.status != was:
            errors["status"] = STATUS_IS_FINAL.format(status=SessionStatus(was).label.lower())
        if self.status == SessionStatus.COMPLETED and not self.consent_obtained:
            errors["consent_obtained"] = "Record the patient's consent before completing."
        if (
            self.status == SessionStatus.COMPLETED
            and self.performed_at
            and self.performed_at > timezone.now() + COMPLETION_CLOCK_SLACK
        ):
            errors["performed_at"] = "A completed session cannot be in the future."
        course = self.course if self.course_id else None
        if course and self.patient_id and course.patient_id != self.patient_id:
            errors["course"] = "This course belongs to another patient."
        if self.pk and self.performed_on:
            expired = self.injectates.filter(expiry_date__lt=self.performed_on).first()
            if expired:
                errors["performed_at"] = (
                    f"Injectate {expired.line} ({expired.product_name or expired.kind}) expires "
                    f"on {expired.expiry_date:%d %b %Y}, before this date."
                )
            early = self.side_effects.filter(onset_date__lt=self.performed_on).first()
            if early:
                errors["performed_at"] = (
                    f"A side effect began on {early.onset_date:%d %b %Y}, before this date."
                )
        if errors:
            raise ValidationError(errors)


@track()
class Addendum(models.Model):
    """A correction or later note on a signed session: the signed record itself never changes."""

    session = models.ForeignKey(InjectionSession, on_delete=models.PROTECT, related_name="addenda")
    text = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "addenda"
        ordering = ["session_id", "created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(text=""),
                name="treatments_addendum_text_present",
                violation_error_message="An addendum needs its text.",
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="addendum_is_final", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"Addendum of {self.created_at:%d %b %Y %H:%M}" if self.created_at else "Addendum"


PRP_FIELDS = (
    "whole_blood_ml",
    "prp_system",
    "spins",
    "anticoagulant",
    "leukocytes",
    "red_cells",
    "activation",
    "platelet_count",
    "baseline_platelet_count",
)
PRP_REQUIRED = ("whole_blood_ml", "spins", "anticoagulant", "activation")
DEXTROSE_FIELDS = ("dextrose_pct", "diluent")
EXOSOME_FIELDS = ("exosome_source", "particles_per_ml")


TEXT_FIELDS = frozenset(
    {"prp_system", "anticoagulant", "leukocytes", "red_cells", "activation", "anaesthetic"}
    | {"diluent", "exosome_source", "lot_number"}
)


def _empty(field: str) -> models.Q:
    return (
        models.Q(**{field: ""}) if field in TEXT_FIELDS else models.Q(**{f"{field}__isnull": True})
    )


def _all_empty(fields: tuple[str, ...]) -> models.Q:
    return functools.reduce(operator.and_, (_empty(field) for field in fields))


def _all_present(fields: tuple[str, ...]) -> models.Q:
    return functools.reduce(operator.and_, (~_empty(field) for field in fields))


@track()
class Injectate(TimeStamped):
    """What was prepared and injected in a session, with its batch for traceability.

    ``line`` numbers a session's injectates (1, 2, ...) so that sites can name the one they got
    before any of them has been saved.
    """

    session = models.ForeignKey(
        InjectionSession, on_delete=models.PROTECT, related_name="injectates"
    )
    line = models.PositiveSmallIntegerField(
        "no.", validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    kind = models.CharField(max_length=20, choices=InjectateKind.choices)
    volume_ml = models.DecimalField(
        "total volume (mL)",
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(MAX_INJECTATE_ML)],
    )
    product_name = models.CharField("product or kit", max_length=200, blank=True)
    manufacturer = models.CharField(max_length=200, blank=True)
    lot_number = models.CharField(max_length=64, blank=True)
    expiry_date = models.DateField(null=True, blank=True)
    # PRP
    whole_blood_ml = models.DecimalField(
        "whole blood drawn (mL)",
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(MAX_WHOLE_BLOOD_ML)],
    )
    prp_system = models.CharField("preparation system", max_length=200, blank=True)
    spins = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(2)]
    )
    anticoagulant = models.CharField(max_length=8, choices=Anticoagulant.choices, blank=True)
    leukocytes = models.CharField(
        "leukocyte content", max_length=4, choices=RichOrPoor.choices, blank=True
    )
    red_cells = models.CharField(max_length=4, choices=RichOrPoor.choices, blank=True)
    activation = models.CharField(max_length=16, choices=Activation.choices, blank=True)
    platelet_count = models.PositiveIntegerField(
        "product platelets (10^3/uL)", null=True, blank=True, validators=[MinValueValidator(1)]
    )
    baseline_platelet_count = models.PositiveIntegerField(
        "whole-blood platelets (10^3/uL)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
    )
    # Dextrose, and any injectate mixed with a local anaesthetic
    dextrose_pct = models.DecimalField(
        "dextrose (%)",
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(MAX_DEXTROSE_PCT)],
    )
    anaesthetic = models.CharField(
        "local anaesthetic", max_length=12, choices=Anaesthetic.choices, blank=True
    )
    anaesthetic_pct = models.DecimalField(
        "anaesthetic (%)",
        max_digits=3,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(MAX_ANAESTHETIC_PCT)],
    )
    diluent = models.CharField(max_length=100, blank=True)
    # Exosomes
    exosome_source = models.CharField(max_length=20, choices=ExosomeSource.choices, blank=True)
    particles_per_ml = models.BigIntegerField(
        "particles per mL", null=True, blank=True, validators=[MinValueValidator(1)]
    )

    class Meta:
        ordering = ["session_id", "line"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "line"],
                name="treatments_injectate_line_unique",
                # Deferred, so a form may renumber two lines in one save.
                deferrable=models.Deferrable.DEFERRED,
                violation_error_message="Each injectate of a session needs its own number.",
            ),
            models.CheckConstraint(
                condition=models.Q(line__range=(1, 20)),
                name="treatments_injectate_line_range",
                violation_error_message="Injectates are numbered 1 to 20.",
            ),
            models.CheckConstraint(
                condition=models.Q(volume_ml__gt=0, volume_ml__lte=MAX_INJECTATE_ML),
                name="treatments_injectate_volume_range",
                violation_error_message="Volume must be above 0 and at most 60 mL.",
            ),
            models.CheckConstraint(
                condition=models.Q(whole_blood_ml__isnull=True)
                | models.Q(whole_blood_ml__gt=0, whole_blood_ml__lte=MAX_WHOLE_BLOOD_ML),
                name="treatments_injectate_whole_blood_range",
                violation_error_message="Whole blood drawn must be above 0 and at most 240 mL.",
            ),
            models.CheckConstraint(
                condition=models.Q(spins__isnull=True) | models.Q(spins__in=(1, 2)),
                name="treatments_injectate_spins_one_or_two",
                violation_error_message="PRP is spun once or twice.",
            ),
            models.CheckConstraint(
                condition=models.Q(platelet_count__isnull=True) | models.Q(platelet_count__gt=0),
                name="treatments_injectate_platelet_count_positive",
                violation_error_message="Platelet count must be above 0.",
            ),
            models.CheckConstraint(
                condition=models.Q(baseline_platelet_count__isnull=True)
                | models.Q(baseline_platelet_count__gt=0),
                name="treatments_injectate_baseline_platelets_positive",
                violation_error_message="Whole-blood platelet count must be above 0.",
            ),
            models.CheckConstraint(
                condition=models.Q(dextrose_pct__isnull=True)
                | models.Q(dextrose_pct__gt=0, dextrose_pct__lte=MAX_DEXTROSE_PCT),
                name="treatments_injectate_dextrose_pct_range",
                violation_error_message="Dextrose concentration must be above 0 and at most 50 %.",
            ),
            models.CheckConstraint(
                condition=models.Q(anaesthetic_pct__isnull=True)
                | (
                    ~models.Q(anaesthetic="")
                    & models.Q(anaesthetic_pct__gte=0, anaesthetic_pct__lte=MAX_ANAESTHETIC_PCT)
                ),
                name="treatments_injectate_anaesthetic_pct_range",
                violation_error_message="Anaesthetic concentration is 0 to 2 %, with its agent.",
            ),
            models.CheckConstraint(
                condition=models.Q(particles_per_ml__isnull=True)
                | models.Q(particles_per_ml__gt=0),
                name="treatments_injectate_particles_positive",
                violation_error_message="Particle count must be above 0.",
            ),
            models.CheckConstraint(
                condition=models.Q(kind=InjectateKind.PRP) | _all_empty(PRP_FIELDS),
                name="treatments_injectate_prp_fields_only_for_prp",
                violation_error_message="PRP preparation details belong to PRP only.",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=InjectateKind.PRP) | _all_present(PRP_REQUIRED),
                name="treatments_injectate_prp_preparation_recorded",
                violation_error_message=(
                    "PRP needs whole blood drawn, spins, anticoagulant and activation."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(kind=InjectateKind.DEXTROSE) | _all_empty(DEXTROSE_FIELDS),
                name="treatments_injectate_dextrose_fields_only_for_dextrose",
                violation_error_message="Dextrose details belong to dextrose only.",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=InjectateKind.DEXTROSE)
                | models.Q(dextrose_pct__isnull=False),
                name="treatments_injectate_dextrose_has_concentration",
                violation_error_message="Dextrose needs its concentration.",
            ),
            models.CheckConstraint(
                condition=models.Q(kind=InjectateKind.EXOSOME) | _all_empty(EXOSOME_FIELDS),
                name="treatments_injectate_exosome_fields_only_for_exosome",
                violation_error_message="Exosome details belong to exosomes only.",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=InjectateKind.EXOSOME)
                | _all_present(("exosome_source", "lot_number", "expiry_date")),
                name="treatments_injectate_exosome_lot_and_expiry_required",
                violation_error_message="Exosomes need their source, lot number and expiry date.",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=InjectateKind.LOCAL_ANAESTHETIC)
                | ~models.Q(anaesthetic=""),
                name="treatments_injectate_local_anaesthetic_named",
                violation_error_message="Name the local anaesthetic.",
            ),
            choices_constraint(table="treatments_injectate", field="kind", choices=InjectateKind),
            choices_constraint(
                table="treatments_injectate",
                field="anticoagulant",
                choices=Anticoagulant,
                blank=True,
            ),
            choices_constraint(
                table="treatments_injectate", field="leukocytes", choices=RichOrPoor, blank=True
            ),
            choices_constraint(
                table="treatments_injectate", field="red_cells", choices=RichOrPoor, blank=True
            ),
            choices_constraint(
                table="treatments_injectate", field="activation", choices=Activation, blank=True
            ),
            choices_constraint(
                table="treatments_injectate", field="anaesthetic", choices=Anaesthetic, blank=True
            ),
            choices_constraint(
                table="treatments_injectate",
                field="exosome_source",
                choices=ExosomeSource,
                blank=True,
            ),
        ]
        indexes = [
            models.Index(fields=["lot_number"], name="treatments_injectate_lot_idx"),
            models.Index(fields=["kind", "session"], name="treatments_injectate_kind_idx"),
            # The admin's search: a lot in any case, or words of the product's name.
            models.Index(Upper("lot_number"), name="treatments_inject_lot_upper"),
            GinIndex(
                OpClass(Upper("product_name"), name="gin_trgm_ops"),
                name="treatments_inject_product_trgm",
            ),
        ]
        triggers = [
            signed_parts_are_final("injectate"),
            session_treatment_follows(pgtrigger.Insert, ("new_rows",)),
            session_treatment_follows(pgtrigger.Update, ("new_rows", "old_rows")),
            session_treatment_follows(pgtrigger.Delete, ("old_rows",)),
            pgtrigger.Trigger(
                name="injectate_expiry_not_before_session",
                operation=pgtrigger.Insert | pgtrigger.Update,
                when=pgtrigger.Before,
                func=f"""
                IF NEW.expiry_date IS NOT NULL AND NEW.expiry_date < (
                    SELECT {SESSION_EARLIEST_DAY_SQL}
                    FROM treatments_injectionsession s WHERE s.id = NEW.session_id
                ) THEN
                    {
                    check_violation(
                        "treatments_injectate_expiry_not_before_session",
                        "the injectate expired before the session",
                    )
                }
                END IF;
                RETURN NEW;
                """,
            ),
        ]

    def __str__(self) -> str:
        label = self.product_name or self.get_kind_display()
        return f"{self.line}. {label} {self.volume_ml} mL"

    @property
    def concentration_factor(self) -> Decimal | None:
        """Product platelets over whole-blood platelets, when both were measured."""
        if not (self.platelet_count and self.baseline_platelet_count):
            return None
        return (Decimal(self.platelet_count) / Decimal(self.baseline_platelet_count)).quantize(
            Decimal("0.1")
        )

    @property
    def paw_platelet_band(self) -> str | None:
        """PAW classification: P1 at or below baseline, P2 up to 750, P3 to 1250, P4 above."""
        if not self.platelet_count:
            return None
        if self.baseline_platelet_count and self.platelet_count <= self.baseline_platelet_count:
            return "P1"
        if self.platelet_count <= 750:
            return "P2"
        if self.platelet_count <= 1250:
            return "P3"
        return "P4"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        required_by_kind: dict[str, tuple[str, ...]] = {
            InjectateKind.PRP: PRP_REQUIRED,
            InjectateKind.DEXTROSE: ("dextrose_pct",),
            InjectateKind.EXOSOME: ("exosome_source", "lot_number", "expiry_date"),
            InjectateKind.LOCAL_ANAESTHETIC: ("anaesthetic",),
        }
        required = required_by_kind.get(self.kind, ())
        for field in required:
            if getattr(self, field) in (None, ""):
                errors[field] = f"Required for {self.get_kind_display()}."
        for kind, fields in (
            (InjectateKind.PRP, PRP_FIELDS),
            (InjectateKind.DEXTROSE, DEXTROSE_FIELDS),
            (InjectateKind.EXOSOME, EXOSOME_FIELDS),
        ):
            if self.kind != kind:
                for field in fields:
                    if getattr(self, field) not in (None, ""):
                        errors[field] = f"Only recorded for {kind.label}."
        if self.anaesthetic_pct is not None and not self.anaesthetic:
            errors["anaesthetic"] = "Name the anaesthetic whose concentration is given."
        session = session_of(self)
        session_day = session.performed_on if session else None
        if self.expiry_date and session_day and self.expiry_date < session_day:
            errors["expiry_date"] = (
                f"This batch expired on {self.expiry_date:%d %b %Y}, before the session "
                f"({session_day:%d %b %Y}); it must not be given."
            )
        if errors:
            raise ValidationError(errors)


def session_of(record: models.Model) -> InjectionSession | None:
    """The record's session, saved or not (a form for a new session holds an unsaved one)."""
    try:
        return record.session  # type: ignore[attr-defined]
    except ObjectDoesNotExist:
        return None


class Tissue(models.TextChoices):
    LIGAMENT = "ligament", "Ligament"
    TENDON = "tendon", "Tendon"
    ENTHESIS = "enthesis", "Enthesis"
    JOINT_CAPSULE = "joint_capsule", "Joint capsule"
    INTRA_ARTICULAR = "intra_articular", "Intra-articular"
    MUSCLE = "muscle", "Muscle"
    OTHER = "other", "Other"


@track()
class InjectionSite(TimeStamped):
    """An exact place injected in a session, with the injectate it received."""

    session = models.ForeignKey(InjectionSession, on_delete=models.PROTECT, related_name="sites")
    line = models.PositiveSmallIntegerField(
        "no.", validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    injectate = models.ForeignKey(Injectate, on_delete=models.PROTECT, related_name="sites")
    body_region = models.CharField(max_length=16, choices=BodyRegion.choices)
    structure = models.CharField(
        max_length=200, help_text="e.g. medial collateral ligament, common extensor tendon."
    )
    snomed_code = models.CharField(
        "SNOMED CT code",
        max_length=18,
        blank=True,
        validators=[RegexValidator(SNOMED_REGEX, "A SNOMED CT code is 6 to 18 digits.")],
    )
    tissue = models.CharField(max_length=16, choices=Tissue.choices)
    laterality = models.CharField(max_length=10, choices=Laterality.choices)
    volume_ml = models.DecimalField(
        "volume (mL)",
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(MAX_INJECTATE_ML)],
    )
    needle_gauge = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(18), MaxValueValidator(30)]
    )
    approach = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["session_id", "line"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "line"],
                name="treatments_injectionsite_line_unique",
                # Deferred, so a form may renumber two lines in one save.
                deferrable=models.Deferrable.DEFERRED,
                violation_error_message="Each site of a session needs its own number.",
            ),
            models.CheckConstraint(
                condition=models.Q(line__range=(1, 50)),
                name="treatments_injectionsite_line_range",
                violation_error_message="Sites are numbered 1 to 50.",
            ),
            models.CheckConstraint(
                condition=models.Q(volume_ml__gt=0, volume_ml__lte=MAX_INJECTATE_ML),
                name="treatments_injectionsite_volume_range",
                violation_error_message="Volume must be above 0 and at most 60 mL.",
            ),
            models.CheckConstraint(
                condition=models.Q(needle_gauge__isnull=True)
                | models.Q(needle_gauge__range=(18, 30)),
                name="treatments_injectionsite_needle_gauge_range",
                violation_error_message="Needle gauge must be between 18 and 30.",
            ),
            models.CheckConstraint(
                condition=models.Q(snomed_code="") | models.Q(snomed_code__regex=SNOMED_REGEX),
                name="treatments_injectionsite_snomed_format",
                violation_error_message="A SNOMED CT code is 6 to 18 digits.",
            ),
            models.CheckConstraint(
                condition=~models.Q(structure=""),
                name="treatments_injectionsite_structure_present",
                violation_error_message="Name the structure injected.",
            ),
            choices_constraint(
                table="treatments_injectionsite", field="body_region", choices=BodyRegion
            ),
            choices_constraint(table="treatments_injectionsite", field="tissue", choices=Tissue),
            choices_constraint(
                table="treatments_injectionsite", field="laterality", choices=Laterality
            ),
        ]
        indexes = [
            models.Index(fields=["body_region", "session"], name="treatments_site_region_idx"),
            models.Index(fields=["injectate"], name="treatments_site_injectate_idx"),
        ]
        triggers = [
            signed_parts_are_final("site"),
            pgtrigger.Trigger(
                name="site_injectate_same_session",
                operation=pgtrigger.Insert | pgtrigger.Update,
                when=pgtrigger.Before,
                func=f"""
                IF NOT EXISTS (
                    SELECT 1 FROM treatments_injectate
                    WHERE id = NEW.injectate_id AND session_id = NEW.session_id
                ) THEN
                    {
                    check_violation(
                        "treatments_injectionsite_injectate_same_session",
                        "the injectate belongs to another session",
                    )
                }
                END IF;
                RETURN NEW;
                """,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.line}. {self.get_laterality_display()} {self.structure}"

    def clean(self) -> None:
        if self.injectate_id and self.session_id and self.injectate.session_id != self.session_id:
            raise ValidationError({"injectate": "Choose an injectate of this session."})
