"""Reads for the front desk's schedule: who works on a day, the bookings of the clinicians shown
(with the patients' answers to their reminders), the proposals still to book, and the
waitlist's entries that fit a freed slot. Each is one query, whatever the network's size."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from recordkeeping.permissions import clinicians
from treatments.models import (
    BookingAnswer,
    DayViewChoice,
    FollowUp,
    FollowUpStatus,
    WaitlistEntry,
    WaitlistStatus,
)
from treatments.models.follow_ups import HOLDS_NO_TIME


def clinicians_working(*, start: datetime.datetime, end: datetime.datetime) -> list[int]:
    """The clinicians with a booking (not cancelled, not a mere proposal) between ``start`` and
    ``end``."""
    return list(
        FollowUp.objects.filter(starts_at__gte=start, starts_at__lt=end)
        .exclude(status__in=HOLDS_NO_TIME)
        .values_list("clinician_id", flat=True)
        .distinct()
    )


def clinicians_named(ids: Iterable[int]) -> list[Any]:
    """The active clinicians among ``ids``, by name."""
    return list(clinicians().filter(pk__in=list(ids)).order_by("last_name", "first_name", "id"))


def all_clinicians() -> list[Any]:
    return list(clinicians().order_by("last_name", "first_name", "id"))


def day_view_chosen(*, user: Any) -> list[int]:
    """The clinicians ``user`` chose to see on the grid, in their order; empty when none."""
    choice = DayViewChoice.objects.filter(user_id=user.pk).values_list("clinician_ids", flat=True)
    return list(choice.first() or [])


def schedule_bookings(
    *,
    start: datetime.datetime,
    end: datetime.datetime,
    clinician_ids: Sequence[int],
    with_cancelled: bool = False,
) -> list[FollowUp]:
    """The clinicians' follow-ups starting between ``start`` and ``end`` (proposals left out:
    they are on the list to book), with the patient and, as ``answers_given``, the patient's
    answers to their reminders, oldest first. Cancelled ones only ``with_cancelled``; the
    freed slots are read from them either way (see ``freed``)."""
    follow_ups = FollowUp.objects.filter(
        clinician_id__in=list(clinician_ids), starts_at__gte=start, starts_at__lt=end
    ).exclude(status=FollowUpStatus.PROPOSED)
    return list(
        follow_ups.select_related("patient")
        .prefetch_related(
            Prefetch(
                "answers",
                queryset=BookingAnswer.objects.order_by("at", "id"),
                to_attr="answers_given",
            )
        )
        .order_by("starts_at", "id")
    )


def freed(bookings: Iterable[FollowUp], *, now: datetime.datetime) -> list[FollowUp]:
    """The cancelled bookings among ``bookings`` whose time is still ahead and not taken by
    another live booking of the clinician: slots that came free."""
    bookings = list(bookings)
    live = [b for b in bookings if b.status not in HOLDS_NO_TIME]
    return [
        b
        for b in bookings
        if b.status == FollowUpStatus.CANCELLED
        and b.starts_at > now
        and not any(
            other.clinician_id == b.clinician_id
            and other.starts_at < b.ends_at
            and other.ends_at > b.starts_at
            for other in live
        )
    ]


def booking_in_the_way(
    *,
    clinician_id: int,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    other_than: int | None = None,
) -> FollowUp | None:
    """The clinician's live booking (other than ``other_than``) that overlaps the time, with
    its patient: what a refused booking or move ran into, to name it to the desk."""
    overlapping = (
        FollowUp.objects.exclude(status__in=HOLDS_NO_TIME)
        .filter(clinician_id=clinician_id, starts_at__lt=ends_at, ends_at__gt=starts_at)
        .select_related("patient", "clinician")
        .order_by("starts_at", "id")
    )
    if other_than is not None:
        overlapping = overlapping.exclude(pk=other_than)
    return overlapping.first()


def proposals_to_book(*, since: datetime.datetime, limit: int = 20) -> list[FollowUp]:
    """Proposed follow-ups from ``since`` on, soonest first (by their proposed time, which is
    the first free slot from the day each falls due), with patient and clinician."""
    return list(
        FollowUp.objects.filter(status=FollowUpStatus.PROPOSED, starts_at__gte=since)
        .select_related("patient", "clinician")
        .order_by("starts_at", "id")[:limit]
    )


def waitlist_waiting(
    *, first_day: datetime.date | None = None, last_day: datetime.date | None = None
) -> list[WaitlistEntry]:
    """Entries still waiting whose days overlap ``first_day``..``last_day`` (all of them when
    not given), first added first, with patient and clinician."""
    entries = WaitlistEntry.objects.filter(status=WaitlistStatus.WAITING)
    if first_day is not None:
        entries = entries.filter(latest__gte=first_day)
    if last_day is not None:
        entries = entries.filter(earliest__lte=last_day)
    return list(entries.select_related("patient", "clinician").order_by("created_at", "id"))


def waitlist_matches(
    entries: Iterable[WaitlistEntry],
    *,
    clinician_id: int,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
) -> list[WaitlistEntry]:
    """The entries (from ``waitlist_waiting``) a slot fits: waiting for this clinician or any,
    on a day within their range, and no longer than the slot; in the order they were added."""
    day = timezone.localdate(starts_at)
    length = (ends_at - starts_at).total_seconds() / 60
    return [
        entry
        for entry in entries
        if entry.status == WaitlistStatus.WAITING
        and entry.clinician_id in (None, clinician_id)
        and entry.earliest <= day <= entry.latest
        and entry.minutes <= length
    ]


def waitlist_for_slot(
    *, clinician_id: int, starts_at: datetime.datetime, ends_at: datetime.datetime
) -> list[WaitlistEntry]:
    """The waitlist's entries that fit one slot (see ``waitlist_matches``)."""
    day = timezone.localdate(starts_at)
    return waitlist_matches(
        waitlist_waiting(first_day=day, last_day=day),
        clinician_id=clinician_id,
        starts_at=starts_at,
        ends_at=ends_at,
    )
