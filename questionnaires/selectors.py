"""Reads for the patient's pages (which questions, in which order, answered how), the chart's
panel (each course's time points and new problems to review), the front desk's call list and
the tablet at check-in."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from patients.models import Patient, TimePoint
from questionnaires.models import (
    OPEN_STATUSES,
    Answer,
    Invitation,
    InvitationCall,
    InvitationStatus,
    Item,
    Option,
    ProblemReport,
    Questionnaire,
    Scale,
)
from treatments.models import FollowUp, FollowUpStatus, InjectionSession, SessionStatus


def invitation_questionnaires(
    *, invitation: Invitation, scoring: bool = False, items: bool = False
) -> list[Questionnaire]:
    """The questionnaires the invitation asks, in order: the active ones for the course's body
    region (a rating of change not at baseline), and any the patient has begun answering. With
    ``scoring``, their scales with items and conversion tables too; with ``items``, their items
    and options."""
    region = invitation.course.condition.body_region
    with_options = Item.objects.prefetch_related(Prefetch("options", queryset=Option.objects.all()))
    prefetch: list[Prefetch] = []
    if items:
        prefetch.append(Prefetch("items", queryset=with_options))
    if scoring:
        scales = Scale.objects.prefetch_related(
            Prefetch("items", queryset=with_options), "conversion"
        ).order_by("id")
        prefetch.append(Prefetch("scales", queryset=scales))
    wanted = Q(active=True)
    if invitation.time_point == TimePoint.BASELINE:
        wanted &= Q(at_baseline=True)
    begun = set(invitation.responses.values_list("questionnaire_id", flat=True))
    found = (
        Questionnaire.objects.filter(wanted | Q(pk__in=begun))
        .prefetch_related(*prefetch)
        .order_by("position", "code")
    )
    return [q for q in found if not q.body_regions or region in q.body_regions or q.pk in begun]


@dataclass(frozen=True)
class Step:
    """One question on the patient's pages (numbered from 1)."""

    number: int
    questionnaire: Questionnaire
    item: Item
    first_of_questionnaire: bool


def invitation_items(*, invitation: Invitation) -> list[tuple[int, int]]:
    """The invitation's questions in the order asked, as (item, questionnaire) ids: what each
    page needs to number itself and find the next, without loading every question's text."""
    questionnaires = invitation_questionnaires(invitation=invitation)
    order = {q.pk: index for index, q in enumerate(questionnaires)}
    rows = Item.objects.filter(questionnaire__in=list(order)).values_list(
        "id", "questionnaire_id", "position"
    )
    ordered = sorted(rows, key=lambda row: (order[row[1]], row[2]))
    return [(item, questionnaire) for item, questionnaire, _ in ordered]


def invitation_step(*, items: list[tuple[int, int]], number: int) -> Step:
    """The ``number``-th of the ``items`` with its questionnaire and options."""
    item = (
        Item.objects.select_related("questionnaire")
        .prefetch_related(Prefetch("options", queryset=Option.objects.order_by("position")))
        .get(pk=items[number - 1][0])
    )
    first = number == 1 or items[number - 2][1] != items[number - 1][1]
    return Step(number, item.questionnaire, item, first)


def asks_new_problem(invitation: Invitation) -> bool:
    """After the first injection the patient is asked about new problems since."""
    return invitation.time_point != TimePoint.BASELINE


def invitation_answers(*, invitation: Invitation) -> dict[int, int]:
    """The values answered so far, by item."""
    return dict(
        Answer.objects.filter(response__invitation=invitation).values_list("item_id", "value")
    )


# -- The clinic's side -----------------------------------------------------------------------


def call_list(*, now: datetime.datetime | None = None) -> QuerySet[Invitation]:
    """Invitations whose messages ran out (or could not go) and that are still open: who to
    call, with their contact details and the last call made; not called longest first."""
    now = now or timezone.now()
    last = InvitationCall.objects.filter(invitation=OuterRef("pk")).order_by("-called_at", "-id")
    return (
        Invitation.objects.filter(chase_from__lte=now, status__in=OPEN_STATUSES)
        .select_related("patient")
        .annotate(
            last_called_at=Subquery(last.values("called_at")[:1]),
            last_call_outcome=Subquery(last.values("outcome")[:1]),
        )
        .order_by("last_called_at", "chase_from", "id")
    )


def kiosk_invitations(*, day: datetime.date | None = None) -> list[Invitation]:
    """Open invitations due by the end of the day of patients booked or checked in that day (a
    follow-up, or a planned session): what the tablet at check-in can open."""
    day = day or timezone.localdate()
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time()))
    end = start + datetime.timedelta(days=1)
    booked = FollowUp.objects.filter(
        starts_at__gte=start,
        starts_at__lt=end,
        status__in=[FollowUpStatus.SCHEDULED, FollowUpStatus.CONFIRMED, FollowUpStatus.CHECKED_IN],
    ).values("patient_id")
    sessions = InjectionSession.objects.filter(
        performed_at__gte=start, performed_at__lt=end, status=SessionStatus.PLANNED
    ).values("patient_id")
    return list(
        Invitation.objects.filter(
            Q(patient_id__in=booked) | Q(patient_id__in=sessions),
            status__in=OPEN_STATUSES,
            due_at__lt=end,
            closes_at__gt=timezone.now(),
        )
        .select_related("patient")
        .order_by("patient__family_name", "patient__given_name", "due_at", "id")
    )


@dataclass
class CourseTimePoints:
    """A course's invitations, in time order, for the chart."""

    course_id: int
    start_date: datetime.date
    invitations: list[Invitation] = field(default_factory=list)


def patient_time_points(*, patient: Patient) -> list[CourseTimePoints]:
    """Per course, each time point's invitation and its state (planned, sent, opened,
    completed, missed; cancelled ones left out), newest course first."""
    courses: dict[int, CourseTimePoints] = {}
    invitations = (
        Invitation.objects.filter(patient=patient)
        .exclude(status=InvitationStatus.CANCELLED)
        .select_related("course")
        .order_by("-course__start_date", "course_id", "due_at")
    )
    for invitation in invitations:
        course = invitation.course
        entry = courses.setdefault(course.pk, CourseTimePoints(course.pk, course.start_date))
        entry.invitations.append(invitation)
    return list(courses.values())


def problems_to_review(*, patient: Patient) -> list[ProblemReport]:
    """New problems the patient reported that no clinician has reviewed yet, oldest first."""
    return list(
        ProblemReport.objects.filter(patient=patient, reviewed_at__isnull=True)
        .select_related("invitation")
        .order_by("reported_at", "id")
    )
