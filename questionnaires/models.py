"""Questionnaires as data (items, answer options, scales and their scoring rules), the schedule
of time points per treatment, and the invitations a course gets: each one's messages, links,
calls, and the patient's answers with the scores made from them.

A FHIR Questionnaire is a ``Questionnaire`` with its items and options (``code`` and ``version``
identify it); a QuestionnaireResponse is a ``Response`` with its answers (item code, option
value and label), its invitation's patient and time point, and when it was completed.
"""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from patients.models import Direction, Instrument, TimePoint
from recordkeeping.choices import BodyRegion
from recordkeeping.db import choices_constraint
from recordkeeping.models import TimeStamped
from treatments.models import DeliveryChannel, DeliveryOutcome, TreatmentKind


class ScoringRule(models.TextChoices):
    SUM = "sum", "Sum of the items"
    MEAN = "mean", "Mean of the items answered"
    TABLE = "table", "Sum converted by a table"
    PERCENT_OF_MAX = "percent_of_max", "Percent of the maximum of the items answered"


class Questionnaire(TimeStamped):
    """A questionnaire a patient answers: its text, where it applies, and its licence."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=200, help_text="The instrument's full name.")
    title = models.CharField(max_length=100, help_text="What the patient reads as its heading.")
    version = models.CharField(max_length=32)
    introduction = models.TextField(blank=True)
    licence = models.TextField(
        help_text="Who holds the text, the terms it is used under, and where it was taken from "
        "(what could not be checked is said)."
    )
    body_regions = ArrayField(
        models.CharField(max_length=16, choices=BodyRegion.choices),
        default=list,
        blank=True,
        help_text="Asked for courses of these regions; none: every course.",
    )
    at_baseline = models.BooleanField(
        default=True, help_text="Asked at baseline too (a rating of change is not)."
    )
    position = models.PositiveSmallIntegerField(default=0, help_text="Order among questionnaires.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.version})"


class Item(models.Model):
    """One question of a questionnaire, under its section's heading and prompt."""

    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="items")
    code = models.CharField(max_length=16, help_text="As the instrument numbers it: P1, S4.")
    position = models.PositiveSmallIntegerField()
    section = models.CharField(max_length=100, blank=True)
    prompt = models.TextField(blank=True, help_text="The instruction the question is read under.")
    text = models.TextField()

    class Meta:
        ordering = ["questionnaire", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "code"], name="questionnaires_item_code_unique"
            ),
            models.UniqueConstraint(
                fields=["questionnaire", "position"], name="questionnaires_item_position_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}. {self.text}"


class Option(models.Model):
    """An answer the patient may give to an item, and the value it scores."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="options")
    position = models.PositiveSmallIntegerField()
    value = models.SmallIntegerField()
    label = models.CharField(max_length=100)

    class Meta:
        ordering = ["item", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "position"], name="questionnaires_option_position_unique"
            ),
            models.UniqueConstraint(
                fields=["item", "value"], name="questionnaires_option_value_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.value})"


class Scale(models.Model):
    """A score made from some of a questionnaire's items by a rule, within a range; with an
    instrument, the score becomes the patient's outcome score of that instrument."""

    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="scales"
    )
    code = models.CharField(max_length=32)
    name = models.CharField(max_length=100)
    instrument = models.CharField(max_length=16, choices=Instrument.choices, blank=True)
    rule = models.CharField(max_length=16, choices=ScoringRule.choices)
    reverse = models.BooleanField(
        default=False, help_text="Percent of maximum subtracted from 100 (KOOS, HOOS)."
    )
    minimum = models.DecimalField(max_digits=5, decimal_places=1)
    maximum = models.DecimalField(max_digits=5, decimal_places=1)
    better = models.CharField(max_length=8, choices=Direction.choices)
    min_answered_percent = models.PositiveSmallIntegerField(
        default=100, help_text="No score unless at least this share of its items is answered."
    )
    items = models.ManyToManyField(Item, related_name="scales")

    class Meta:
        ordering = ["questionnaire", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "code"], name="questionnaires_scale_code_unique"
            ),
            models.UniqueConstraint(
                fields=["instrument"],
                condition=~models.Q(instrument=""),
                name="questionnaires_scale_one_per_instrument",
            ),
            models.CheckConstraint(
                condition=models.Q(minimum__lt=models.F("maximum")),
                name="questionnaires_scale_range_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(min_answered_percent__range=(1, 100)),
                name="questionnaires_scale_min_answered_percent",
            ),
            choices_constraint(table="questionnaires_scale", field="rule", choices=ScoringRule),
            choices_constraint(table="questionnaires_scale", field="better", choices=Direction),
        ]

    def __str__(self) -> str:
        return self.name


class ConversionRow(models.Model):
    """A row of a scale's conversion table: the items' sum and the score it stands for."""

    scale = models.ForeignKey(Scale, on_delete=models.CASCADE, related_name="conversion")
    raw = models.SmallIntegerField()
    value = models.DecimalField(max_digits=5, decimal_places=1)

    class Meta:
        ordering = ["scale", "raw"]
        constraints = [
            models.UniqueConstraint(fields=["scale", "raw"], name="questionnaires_conversion_raw")
        ]

    def __str__(self) -> str:
        return f"{self.raw} -> {self.value}"


SCHEDULED_TIME_POINTS = [choice for choice in TimePoint if choice != TimePoint.OTHER]


class SchedulePoint(TimeStamped):
    """When a course of a treatment is asked: days after its first injection (baseline: when
    the course is recorded, until the first injection), and for how many days it stays open.
    Kept by the clinic admin; a change applies to courses planned or re-planned after it."""

    treatment = models.CharField(max_length=16, choices=TreatmentKind.choices)
    time_point = models.CharField(
        max_length=8, choices=[(c.value, c.label) for c in SCHEDULED_TIME_POINTS]
    )
    days_after = models.PositiveSmallIntegerField(
        help_text="Days after the first injection (0 for the baseline)."
    )
    window_days = models.PositiveSmallIntegerField(
        default=28, help_text="Days it stays open to answer after it is due."
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["treatment", "days_after"]
        constraints = [
            models.UniqueConstraint(
                fields=["treatment", "time_point"], name="questionnaires_schedulepoint_unique"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(time_point=TimePoint.BASELINE, days_after=0)
                    | (~models.Q(time_point=TimePoint.BASELINE) & models.Q(days_after__gt=0))
                ),
                name="questionnaires_schedulepoint_baseline_at_day_0",
                violation_error_message="The baseline is at day 0; every other point after it.",
            ),
            models.CheckConstraint(
                condition=models.Q(window_days__range=(1, 365)),
                name="questionnaires_schedulepoint_window_days",
                violation_error_message="A time point stays open from 1 to 365 days.",
            ),
            choices_constraint(
                table="questionnaires_schedulepoint", field="treatment", choices=TreatmentKind
            ),
            models.CheckConstraint(
                condition=models.Q(time_point__in=[c.value for c in SCHEDULED_TIME_POINTS]),
                name="questionnaires_schedulepoint_time_point_valid",
                violation_error_message="Time point is not a known value.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_treatment_display()}: {self.get_time_point_display()}"


class InvitationStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    SENT = "sent", "Sent"
    OPENED = "opened", "Opened"
    COMPLETED = "completed", "Completed"
    MISSED = "missed", "Missed"
    CANCELLED = "cancelled", "Cancelled"


OPEN_STATUSES = (InvitationStatus.PLANNED, InvitationStatus.SENT, InvitationStatus.OPENED)
ENDED_STATUSES = (InvitationStatus.COMPLETED, InvitationStatus.MISSED, InvitationStatus.CANCELLED)


class Invitation(TimeStamped):
    """A patient asked to answer at one time point of a course. Planned by the database when the
    course is recorded and again when its first session moves (migration questionnaires 0002);
    the dispatch pass sends it, chases it twice, then lists it for a call until it closes.

    ``next_attempt_at`` is when the dispatch pass next has something to do with it (send,
    chase, list it for a call, close it); it is empty once the invitation has ended."""

    course = models.ForeignKey(
        "treatments.TreatmentCourse", on_delete=models.PROTECT, related_name="invitations"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="invitations"
    )
    time_point = models.CharField(
        max_length=8, choices=[(c.value, c.label) for c in SCHEDULED_TIME_POINTS]
    )
    due_at = models.DateTimeField()
    closes_at = models.DateTimeField(help_text="No answer is taken after this.")
    status = models.CharField(
        max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.PLANNED
    )
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    messages_sent = models.PositiveSmallIntegerField(default=0)
    failed_attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Failed attempts at the message now due."
    )
    sent_at = models.DateTimeField(null=True, blank=True, help_text="The first message.")
    opened_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    chase_from = models.DateTimeField(
        null=True, blank=True, help_text="On the list of patients to call from then."
    )
    new_problem = models.BooleanField(
        null=True, blank=True, help_text="The patient's answer to 'Any new problem?'."
    )
    ended_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["course", "time_point"], name="questionnaires_invitation_one_per_point"
            ),
            models.CheckConstraint(
                condition=~models.Q(status=InvitationStatus.COMPLETED)
                | models.Q(completed_at__isnull=False),
                name="questionnaires_invitation_completed_has_time",
                violation_error_message="A completed invitation says when it was completed.",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=OPEN_STATUSES)
                | models.Q(next_attempt_at__isnull=True, chase_from__isnull=True),
                name="questionnaires_invitation_ended_is_idle",
                violation_error_message="An ended invitation is neither sent nor called again.",
            ),
            choices_constraint(
                table="questionnaires_invitation", field="status", choices=InvitationStatus
            ),
        ]
        indexes = [
            # The dispatch pass's claim: invitations with something to do, in time order.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(next_attempt_at__isnull=False),
                name="questionnaires_invit_due_idx",
            ),
            # The front desk's list of patients to call.
            models.Index(
                fields=["chase_from"],
                condition=models.Q(chase_from__isnull=False),
                name="questionnaires_invit_chase_idx",
            ),
            models.Index(fields=["patient", "status"], name="quest_invitation_patient_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_time_point_display()} questionnaire ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class InvitationMessage(models.Model):
    """One attempt to send an invitation's message: number 1 is the invitation, then the
    chasers. Each attempt is one row under a unique key; each message is sent at most once."""

    invitation = models.ForeignKey(Invitation, on_delete=models.PROTECT, related_name="messages")
    number = models.PositiveSmallIntegerField()
    key = models.CharField(max_length=64, unique=True)
    attempt = models.PositiveSmallIntegerField()
    at = models.DateTimeField(auto_now_add=True)
    channel = models.CharField(max_length=5, choices=DeliveryChannel.choices, blank=True)
    outcome = models.CharField(max_length=7, choices=DeliveryOutcome.choices)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["invitation", "number"],
                condition=models.Q(outcome=DeliveryOutcome.SENT),
                name="questionnaires_invitationmessage_sent_once",
                violation_error_message="This message was sent already.",
            ),
            models.CheckConstraint(
                condition=models.Q(outcome=DeliveryOutcome.SENT) | ~models.Q(reason=""),
                name="questionnaires_invitationmessage_reason_unless_sent",
                violation_error_message="A failed or skipped message says why.",
            ),
            choices_constraint(
                table="questionnaires_invitationmessage", field="outcome", choices=DeliveryOutcome
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="invitation_message_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} {self.key}"


class LinkKind(models.TextChoices):
    MESSAGE = "message", "Sent in a message"
    KIOSK = "kiosk", "Opened on a clinic tablet"


class InvitationLink(models.Model):
    """A link to one invitation's questions. Only a digest of its secret is kept."""

    invitation = models.ForeignKey(Invitation, on_delete=models.PROTECT, related_name="links")
    digest = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=8, choices=LinkKind.choices)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who made a tablet's link.",
    )

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("issued_at")),
                name="questionnaires_invitationlink_expires_after_issue",
            ),
            choices_constraint(
                table="questionnaires_invitationlink", field="kind", choices=LinkKind
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} link until {self.expires_at:%d %b %Y %H:%M}"


class CallOutcome(models.TextChoices):
    REACHED = "reached", "Reached: will answer"
    NO_ANSWER = "no_answer", "No answer or message left"
    DECLINED = "declined", "Declined to answer"


class InvitationCall(models.Model):
    """A call the front desk made to a patient on the list."""

    invitation = models.ForeignKey(Invitation, on_delete=models.PROTECT, related_name="calls")
    called_at = models.DateTimeField()
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(max_length=10, choices=CallOutcome.choices)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-called_at", "-id"]
        constraints = [
            choices_constraint(
                table="questionnaires_invitationcall", field="outcome", choices=CallOutcome
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} ({self.called_at:%d %b %Y})"


class Response(models.Model):
    """One questionnaire answered (or being answered) for an invitation."""

    invitation = models.ForeignKey(Invitation, on_delete=models.PROTECT, related_name="responses")
    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.PROTECT, related_name="responses"
    )
    started_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["invitation", "questionnaire__position"]
        constraints = [
            models.UniqueConstraint(
                fields=["invitation", "questionnaire"], name="questionnaires_response_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.questionnaire.code} for invitation {self.invitation_id}"


# Answers change while the patient goes back and forth; once their response is completed they
# are final, whatever writes to the table.
ANSWERS_FINAL = pgtrigger.Trigger(
    name="answer_final_once_completed",
    operation=pgtrigger.Update | pgtrigger.Delete,
    when=pgtrigger.Before,
    func="""
    IF EXISTS (
        SELECT 1 FROM questionnaires_response r
        WHERE r.id = OLD.response_id AND r.completed_at IS NOT NULL
    ) THEN
        RAISE EXCEPTION 'the answers of a completed questionnaire are final'
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'questionnaires_answer_final_once_completed';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    """,
)


class Answer(models.Model):
    """The patient's answer to an item: the option chosen and its value then."""

    response = models.ForeignKey(Response, on_delete=models.PROTECT, related_name="answers")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    option = models.ForeignKey(Option, on_delete=models.PROTECT, related_name="+")
    value = models.SmallIntegerField()
    answered_at = models.DateTimeField()

    class Meta:
        ordering = ["response", "item__position"]
        constraints = [
            models.UniqueConstraint(
                fields=["response", "item"], name="questionnaires_answer_one_per_item"
            )
        ]
        triggers = [ANSWERS_FINAL]

    def __str__(self) -> str:
        return f"{self.item.code}: {self.value}"


class ScaleScore(models.Model):
    """A scale's score from a completed response, and the outcome score it became (none when
    too few items were answered, or staff had recorded that score already)."""

    response = models.ForeignKey(Response, on_delete=models.PROTECT, related_name="scores")
    scale = models.ForeignKey(Scale, on_delete=models.PROTECT, related_name="+")
    value = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    items_answered = models.PositiveSmallIntegerField()
    outcome_score = models.OneToOneField(
        "patients.OutcomeScore",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="scale_score",
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["response", "scale"]
        constraints = [
            models.UniqueConstraint(
                fields=["response", "scale"], name="questionnaires_scalescore_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scale}: {self.value if self.value is not None else '-'}"


class ProblemReport(models.Model):
    """A patient's "yes" to "Any new problem since your injection?": an item for a clinician to
    review on the chart. It is not a side effect until a clinician records one."""

    invitation = models.OneToOneField(
        Invitation, on_delete=models.PROTECT, related_name="problem_report"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="problem_reports"
    )
    text = models.TextField(max_length=2000, blank=True)
    reported_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-reported_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(reviewed_by__isnull=True, reviewed_at__isnull=True)
                | models.Q(reviewed_by__isnull=False, reviewed_at__isnull=False),
                name="questionnaires_problemreport_reviewed_by_and_when",
                violation_error_message="A review names who reviewed and when.",
            )
        ]
        indexes = [
            models.Index(
                fields=["patient"],
                condition=models.Q(reviewed_at__isnull=True),
                name="quest_problem_open_idx",
            )
        ]

    def __str__(self) -> str:
        state = "reviewed" if self.reviewed_at else "to review"
        return f"New problem reported {self.reported_at:%d %b %Y} ({state})"


class LinkFailure(models.Model):
    """Wrong, expired or used links opened from one address in one window of time: past the
    limit, that address is refused every link until the window ends."""

    address = models.GenericIPAddressField()
    window_start = models.DateTimeField()
    failures = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["address", "window_start"], name="questionnaires_linkfailure_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.address}: {self.failures} from {self.window_start:%H:%M}"
