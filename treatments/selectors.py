from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from patients.models import Instrument, Patient
from treatments.models import (
    BOOKED,
    CourseStatus,
    FollowUp,
    FollowUpStatus,
    Injectate,
    InjectateKind,
    InjectionSession,
    SessionStatus,
    SideEffect,
    TreatmentCourse,
    TreatmentKind,
)
from treatments.models.follow_ups import HOLDS_NO_TIME

# What each treatment means in terms of the injectates a session received.
TREATMENT_INJECTATES: dict[str, tuple[str, ...]] = {
    TreatmentKind.PRP: (InjectateKind.PRP,),
    TreatmentKind.DEXTROSE: (InjectateKind.DEXTROSE,),
    TreatmentKind.EXOSOME: (InjectateKind.EXOSOME,),
    TreatmentKind.PRP_DEXTROSE: (InjectateKind.PRP, InjectateKind.DEXTROSE),
    TreatmentKind.PRP_EXOSOME: (InjectateKind.PRP, InjectateKind.EXOSOME),
}


def sessions_given(
    queryset: QuerySet[InjectionSession], *, treatment: str
) -> QuerySet[InjectionSession]:
    """Sessions in which every injectate kind of ``treatment`` was given."""
    for kind in TREATMENT_INJECTATES.get(treatment, ()):
        queryset = queryset.filter(
            Exists(Injectate.objects.filter(session=OuterRef("pk"), kind=kind))
        )
    return queryset


@dataclass(frozen=True)
class Slot:
    starts_at: datetime.datetime
    ends_at: datetime.datetime


def clinic_day(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime] | None:
    """When the clinic opens and closes on ``day``, or None when it is closed."""
    if day.isoweekday() not in settings.CLINIC_DAYS:
        return None
    opens = timezone.make_aware(datetime.datetime.combine(day, settings.CLINIC_OPENS))
    closes = timezone.make_aware(datetime.datetime.combine(day, settings.CLINIC_CLOSES))
    return opens, closes


def day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return start, start + datetime.timedelta(days=1)


def booked_times(
    *, clinician_id: int, start: datetime.datetime, end: datetime.datetime, avoid_proposals: bool
) -> list[tuple[datetime.datetime, datetime.datetime]]:
    """When the clinician is booked between ``start`` and ``end``, in order; proposals count
    only with ``avoid_proposals``."""
    found = booked_times_of(
        clinician_ids=[clinician_id], start=start, end=end, avoid_proposals=avoid_proposals
    )
    return found.get(clinician_id, [])


def booked_times_of(
    *,
    clinician_ids: Iterable[int],
    start: datetime.datetime,
    end: datetime.datetime,
    avoid_proposals: bool,
) -> dict[int, list[tuple[datetime.datetime, datetime.datetime]]]:
    """``booked_times`` of several clinicians in one query, by clinician id."""
    bookings = FollowUp.objects.filter(
        clinician_id__in=list(clinician_ids), starts_at__lt=end, ends_at__gt=start
    )
    if avoid_proposals:
        bookings = bookings.exclude(status=FollowUpStatus.CANCELLED)
    else:
        bookings = bookings.exclude(status__in=HOLDS_NO_TIME)
    found: dict[int, list[tuple[datetime.datetime, datetime.datetime]]] = {}
    rows = bookings.order_by("starts_at", "ends_at").values_list(
        "clinician_id", "starts_at", "ends_at"
    )
    for clinician_id, starts_at, ends_at in rows:
        found.setdefault(clinician_id, []).append((starts_at, ends_at))
    return found


def free_slots(
    *,
    clinician_id: int,
    day: datetime.date,
    minutes: int = 30,
    avoid_proposals: bool = False,
    booked: list[tuple[datetime.datetime, datetime.datetime]] | None = None,
) -> list[Slot]:
    """The clinician's free times of ``minutes`` on ``day``, back to back from opening time and
    after each booking, never in the past. Proposals hold no time unless ``avoid_proposals``.
    ``booked``: the clinician's booked_times() over a span including the day, if read already."""
    hours = clinic_day(day)
    if hours is None:
        return []
    opens, closes = hours
    if booked is None:
        booked = booked_times(
            clinician_id=clinician_id, start=opens, end=closes, avoid_proposals=avoid_proposals
        )
    busy = [(start, end) for start, end in booked if start < closes and end > opens]
    length = datetime.timedelta(minutes=minutes)
    now = timezone.now()
    slots, start = [], opens
    for busy_from, busy_until in [*busy, (closes, closes)]:
        while start + length <= busy_from:
            if start >= now:
                slots.append(Slot(start, start + length))
            start += length
        start = max(start, busy_until)
    return slots


def agenda(*, day: datetime.date, clinician_id: int | None = None) -> QuerySet[FollowUp]:
    """The day's follow-ups, by clinician and time; cancelled ones left out."""
    start, end = day_bounds(day)
    follow_ups = FollowUp.objects.filter(starts_at__gte=start, starts_at__lt=end).exclude(
        status=FollowUpStatus.CANCELLED
    )
    if clinician_id is not None:
        follow_ups = follow_ups.filter(clinician_id=clinician_id)
    return follow_ups.select_related("patient", "clinician").order_by(
        "clinician__last_name", "clinician_id", "starts_at", "id"
    )


def courses_overdue(*, on: datetime.date) -> QuerySet[TreatmentCourse]:
    """Active courses with planned sessions left whose next session was due before ``on`` (one
    interval after the last completed session, or the start date) and that have nothing booked
    or planned from today on. Annotated with ``next_due`` and ``sessions_done``."""
    completed = Q(sessions__status=SessionStatus.COMPLETED)
    today_starts = day_bounds(on)[0]
    booked_ahead = FollowUp.objects.filter(
        course=OuterRef("pk"),
        starts_at__gte=today_starts,
        status__in=[*BOOKED, FollowUpStatus.PROPOSED],
    )
    planned_ahead = InjectionSession.objects.filter(
        course=OuterRef("pk"), status=SessionStatus.PLANNED, performed_at__gte=today_starts
    )
    last_session_day = TruncDate("sessions__performed_at", tzinfo=timezone.get_current_timezone())
    return (
        TreatmentCourse.objects.filter(status=CourseStatus.ACTIVE)
        .annotate(
            sessions_done=Count("sessions", filter=completed),
            last_session_on=Max(last_session_day, filter=completed),
        )
        .annotate(
            next_due=Coalesce(
                ExpressionWrapper(
                    # date + integer is a date in PostgreSQL
                    F("last_session_on") + F("planned_interval_weeks") * 7,
                    output_field=DateField(),
                ),
                F("start_date"),
            )
        )
        .filter(sessions_done__lt=F("planned_sessions"), next_due__lt=on)
        .exclude(Exists(booked_ahead))
        .exclude(Exists(planned_ahead))
        .select_related("patient")
        .order_by("next_due", "id")
    )


# A patient's whole record, as the timeline and the chart read it.


@dataclass(frozen=True)
class TimelineEvent:
    kind: str  # "session", "side_effect", "follow_up" or "outcome"
    at: datetime.datetime
    record: Any


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _end_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(23, 59, 59)))


def patient_timeline(*, patient: Patient) -> list[TimelineEvent]:
    """Everything that happened to a patient, oldest first, in six queries however long the
    history: sessions, their injectates, their sites, side effects, follow-ups, scores.

    Side effects and scores carry a date, not a time: a side effect is placed at the end of its
    day (after that day's session), a score at its start (a baseline before the injection).
    """
    sessions = patient.sessions.with_parts()
    side_effects = SideEffect.objects.filter(session__patient=patient)
    follow_ups = FollowUp.objects.filter(patient=patient).select_related("patient")
    scores = patient.outcome_scores.all()
    events = [
        *(TimelineEvent("session", s.performed_at, s) for s in sessions),
        *(TimelineEvent("side_effect", _end_of(e.onset_date), e) for e in side_effects),
        *(TimelineEvent("follow_up", f.starts_at, f) for f in follow_ups),
        *(TimelineEvent("outcome", _start_of(o.measured_on), o) for o in scores),
    ]
    return sorted(events, key=lambda event: (event.at, event.kind, event.record.pk))


def _epoch_ms(moment: datetime.datetime) -> int:
    return int(moment.timestamp() * 1000)


def patient_score_series(*, patient: Patient) -> dict[str, Any]:
    """A patient's readings per instrument as chart points (x: epoch milliseconds), the
    pre-procedure pain of completed sessions counting as NPRS, and the sessions' times."""
    series: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for instrument, score, measured_on in patient.outcome_scores.values_list(
        "instrument", "score", "measured_on"
    ):
        series[instrument].append((_epoch_ms(_start_of(measured_on)), float(score)))
    sessions = list(
        patient.sessions.filter(status=SessionStatus.COMPLETED)
        .order_by("performed_at")
        .values_list("performed_at", "pre_pain_score")
    )
    for performed_at, pain in sessions:
        if pain is not None:
            series[Instrument.NPRS].append((_epoch_ms(performed_at), float(pain)))
    names = dict(Instrument.choices)
    return {
        "datasets": [
            {"label": names[code], "data": [{"x": x, "y": y} for x, y in sorted(points)]}
            for code, points in sorted(series.items())
        ],
        "sessions": [_epoch_ms(performed_at) for performed_at, _ in sessions],
    }


def patient_courses(*, patient: Patient) -> QuerySet[TreatmentCourse]:
    """A patient's courses with their condition, active first then newest, each annotated with
    ``sessions_done`` (completed sessions), ``last_session_on`` and ``next_due`` (one interval
    after the last completed session, or the start date; as courses_overdue counts it)."""
    completed = Q(sessions__status=SessionStatus.COMPLETED)
    last_session_day = TruncDate("sessions__performed_at", tzinfo=timezone.get_current_timezone())
    return (
        TreatmentCourse.objects.filter(patient=patient)
        .select_related("condition")
        .annotate(
            sessions_done=Count("sessions", filter=completed),
            last_session_on=Max(last_session_day, filter=completed),
        )
        .annotate(
            next_due=Coalesce(
                ExpressionWrapper(
                    F("last_session_on") + F("planned_interval_weeks") * 7,
                    output_field=DateField(),
                ),
                F("start_date"),
            )
        )
        .order_by(Case(When(status=CourseStatus.ACTIVE, then=0), default=1), "-start_date", "-id")
    )


def course_last_completed_session(*, course: TreatmentCourse) -> InjectionSession | None:
    """The course's most recent completed session with its injectates and sites: what
    "repeat last session" copies."""
    return (
        course.sessions.filter(status=SessionStatus.COMPLETED)
        .order_by("-performed_at", "-id")
        .with_parts()
        .first()
    )
