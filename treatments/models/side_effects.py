from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from recordkeeping.db import choices_constraint, days_from_today
from recordkeeping.history import track
from recordkeeping.models import TimeStamped
from treatments.models.sessions import (
    SESSION_EARLIEST_DAY_SQL,
    SIGNED_RULE,
    InjectionSession,
    InjectionSite,
    check_violation,
    session_of,
)

SERIOUS_FROM_GRADE = 3


class SideEffectKind(models.TextChoices):
    PAIN_FLARE = "pain_flare", "Soreness / pain flare"
    SWELLING = "swelling", "Swelling"
    BRUISING = "bruising", "Bruising"
    ALLERGIC_REACTION = "allergic_reaction", "Allergic reaction"
    INFECTION = "infection", "Infection"
    VASOVAGAL = "vasovagal", "Vasovagal reaction"
    NERVE_IRRITATION = "nerve_irritation", "Nerve irritation"
    OTHER = "other", "Other"


class Grade(models.IntegerChoices):
    """CTCAE grade."""

    MILD = 1, "1 - mild"
    MODERATE = 2, "2 - moderate"
    SEVERE = 3, "3 - severe or hospitalisation"
    LIFE_THREATENING = 4, "4 - life-threatening"
    DEATH = 5, "5 - death"


class Relatedness(models.TextChoices):
    UNRELATED = "unrelated", "Unrelated"
    UNLIKELY = "unlikely", "Unlikely"
    POSSIBLE = "possible", "Possible"
    PROBABLE = "probable", "Probable"
    DEFINITE = "definite", "Definite"


class SideEffectOutcome(models.TextChoices):
    RECOVERING = "recovering", "Recovering"
    RESOLVED = "resolved", "Resolved"
    RESOLVED_WITH_SEQUELAE = "resolved_with_sequelae", "Resolved with sequelae"
    NOT_RESOLVED = "not_resolved", "Not resolved"
    FATAL = "fatal", "Fatal"
    UNKNOWN = "unknown", "Unknown"


RESOLVED_OUTCOMES = (SideEffectOutcome.RESOLVED, SideEffectOutcome.RESOLVED_WITH_SEQUELAE)


class Reporter(models.TextChoices):
    PATIENT = "patient", "Patient"
    CLINICIAN = "clinician", "Clinician"
    OTHER_STAFF = "other_staff", "Other staff"
    OTHER = "other", "Other"


@track()
class SideEffect(TimeStamped):
    """An adverse event after a session."""

    session = models.ForeignKey(
        InjectionSession, on_delete=models.PROTECT, related_name="side_effects"
    )
    site = models.ForeignKey(
        InjectionSite,
        on_delete=models.PROTECT,
        related_name="side_effects",
        null=True,
        blank=True,
    )
    kind = models.CharField(max_length=20, choices=SideEffectKind.choices)
    description = models.TextField(blank=True)
    grade = models.PositiveSmallIntegerField(
        choices=Grade.choices, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    serious = models.BooleanField(default=False, help_text="Always yes from grade 3.")
    onset_date = models.DateField()
    resolved_date = models.DateField(null=True, blank=True)
    relatedness = models.CharField(max_length=10, choices=Relatedness.choices)
    action_taken = models.TextField(blank=True)
    outcome = models.CharField(
        max_length=24, choices=SideEffectOutcome.choices, default=SideEffectOutcome.UNKNOWN
    )
    reported_by = models.CharField(max_length=12, choices=Reporter.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        editable=False,
    )

    class Meta:
        ordering = ["session", "onset_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(grade__range=(1, 5)),
                name="treatments_sideeffect_grade_range",
                violation_error_message="Grade must be 1 to 5.",
            ),
            models.CheckConstraint(
                condition=models.Q(grade__lt=SERIOUS_FROM_GRADE) | models.Q(serious=True),
                name="treatments_sideeffect_grade_3_and_above_serious",
                violation_error_message="Grade 3 and above is always serious.",
            ),
            models.CheckConstraint(
                condition=models.Q(resolved_date__isnull=True)
                | models.Q(resolved_date__gte=models.F("onset_date")),
                name="treatments_sideeffect_resolved_after_onset",
                violation_error_message="Resolved date cannot be before onset.",
            ),
            models.CheckConstraint(
                condition=models.Q(onset_date__lte=days_from_today(1)),
                name="treatments_sideeffect_onset_not_future",
                violation_error_message="Onset cannot be in the future.",
            ),
            models.CheckConstraint(
                condition=models.Q(outcome__in=RESOLVED_OUTCOMES, resolved_date__isnull=False)
                | (~models.Q(outcome__in=RESOLVED_OUTCOMES) & models.Q(resolved_date__isnull=True)),
                name="treatments_sideeffect_resolved_date_matches_outcome",
                violation_error_message="A resolved date goes with a resolved outcome.",
            ),
            models.CheckConstraint(
                condition=models.Q(grade=Grade.DEATH, outcome=SideEffectOutcome.FATAL)
                | (~models.Q(grade=Grade.DEATH) & ~models.Q(outcome=SideEffectOutcome.FATAL)),
                name="treatments_sideeffect_fatal_is_grade_5",
                violation_error_message="A fatal outcome is grade 5, and grade 5 is fatal.",
            ),
            choices_constraint(table="treatments_sideeffect", field="kind", choices=SideEffectKind),
            choices_constraint(
                table="treatments_sideeffect", field="relatedness", choices=Relatedness
            ),
            choices_constraint(
                table="treatments_sideeffect", field="outcome", choices=SideEffectOutcome
            ),
            choices_constraint(
                table="treatments_sideeffect", field="reported_by", choices=Reporter
            ),
        ]
        indexes = [
            models.Index(fields=["grade", "onset_date"], name="treatments_se_grade_idx"),
            models.Index(fields=["kind", "onset_date"], name="treatments_se_kind_idx"),
            models.Index(fields=["onset_date"], name="treatments_se_onset_idx"),
        ]
        triggers = [
            pgtrigger.Protect(name="side_effect_no_delete", operation=pgtrigger.Delete),
            pgtrigger.Trigger(
                # Side effects reported at the visit are part of the signed record; ones found
                # later are added, and stay editable, as their own records.
                name="side_effect_signed_at_visit_final",
                operation=pgtrigger.Update,
                when=pgtrigger.Before,
                func=f"""
                IF EXISTS (
                    SELECT 1 FROM treatments_injectionsession s
                    WHERE s.id = OLD.session_id AND OLD.created_at <= s.signed_at
                ) THEN
                    {check_violation(SIGNED_RULE, "the side effect is part of a signed session")}
                END IF;
                RETURN NEW;
                """,
            ),
            pgtrigger.Trigger(
                name="side_effect_onset_not_before_session",
                operation=pgtrigger.Insert | pgtrigger.Update,
                when=pgtrigger.Before,
                func=f"""
                IF NEW.onset_date < (
                    SELECT {SESSION_EARLIEST_DAY_SQL}
                    FROM treatments_injectionsession s WHERE s.id = NEW.session_id
                ) THEN
                    {
                    check_violation(
                        "treatments_sideeffect_onset_not_before_session",
                        "the side effect begins before the session",
                    )
                }
                END IF;
                IF NEW.site_id IS NOT NULL AND NOT EXISTS (
                    SELECT 1 FROM treatments_injectionsite
                    WHERE id = NEW.site_id AND session_id = NEW.session_id
                ) THEN
                    {
                    check_violation(
                        "treatments_sideeffect_site_same_session",
                        "the site belongs to another session",
                    )
                }
                END IF;
                RETURN NEW;
                """,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} (grade {self.grade})"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.grade and self.grade >= SERIOUS_FROM_GRADE and not self.serious:
            errors["serious"] = "Grade 3 and above is always serious."
        if self.onset_date:
            session = session_of(self)
            session_day = session.performed_on if session else None
            if session_day and self.onset_date < session_day:
                errors["onset_date"] = (
                    f"Onset cannot be before the session ({session_day:%d %b %Y})."
                )
            elif self.onset_date > timezone.localdate():
                errors["onset_date"] = "Onset cannot be in the future."
        if self.resolved_date and self.onset_date and self.resolved_date < self.onset_date:
            errors["resolved_date"] = "Resolved date cannot be before onset."
        elif self.outcome in RESOLVED_OUTCOMES and not self.resolved_date:
            errors["resolved_date"] = "Enter the date it resolved."
        elif self.resolved_date and self.outcome not in RESOLVED_OUTCOMES:
            errors["outcome"] = "With a resolved date the outcome is resolved."
        if (self.grade == Grade.DEATH) != (self.outcome == SideEffectOutcome.FATAL):
            errors["outcome"] = "A fatal outcome is grade 5, and grade 5 is fatal."
        site = self.site if self.site_id else None
        if site and self.session_id and site.session_id != self.session_id:
            errors["site"] = "Choose a site of this session."
        if errors:
            raise ValidationError(errors)
