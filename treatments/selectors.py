from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import (
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from treatments.models import (
    BOOKED,
    CourseStatus,
    FollowUp,
    FollowUpStatus,
    Injectate,
    InjectateKind,
    InjectionSession,
    SessionStatus,
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
    bookings = FollowUp.objects.filter(
        clinician_id=clinician_id, starts_at__lt=end, ends_at__gt=start
    )
    if avoid_proposals:
        bookings = bookings.exclude(status=FollowUpStatus.CANCELLED)
    else:
        bookings = bookings.exclude(status__in=HOLDS_NO_TIME)
    return sorted(bookings.values_list("starts_at", "ends_at"))


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
