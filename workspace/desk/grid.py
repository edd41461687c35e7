"""The grid of a day (a column per clinician) or of a clinician's week (a column per day): the
clinic's hours in rows of ``SLOT_MINUTES``, each booking placed by its start and length, the
free times that can still be booked, the freed ones the waitlist could fill, and the time now.

Positions are in rows from opening time; the stylesheet turns them into heights."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import timezone

from treatments import schedule
from treatments.models import BookingAnswer, FollowUp, FollowUpStatus, WaitlistEntry
from treatments.models.follow_ups import HOLDS_NO_TIME

SLOT_MINUTES = 15
SLOT = datetime.timedelta(minutes=SLOT_MINUTES)


@dataclass
class Block:
    follow_up: FollowUp
    top: float
    rows: float
    answer: BookingAnswer | None
    lane: str = ""  # with cancelled bookings shown: live ones left, cancelled ones right

    @property
    def minutes(self) -> int:
        return int((self.follow_up.ends_at - self.follow_up.starts_at).total_seconds() // 60)

    @property
    def short(self) -> bool:
        """Too short for a second line of text (at the smallest rows): one line, the kind of
        visit giving way to the name and status."""
        return self.rows < 3


@dataclass
class Freed:
    """A cancelled booking's time, free again, that suits patients on the waitlist."""

    follow_up: FollowUp
    top: float
    rows: float
    matches: list[WaitlistEntry]
    lane: str = ""


@dataclass
class Column:
    clinician: Any
    day: datetime.date
    heading: str
    open: bool
    blocks: list[Block] = field(default_factory=list)
    freed: list[Freed] = field(default_factory=list)
    cells: list[tuple[int, str]] = field(default_factory=list)  # free rows and their times
    past_rows: float = 0
    now_top: float | None = None

    @property
    def key(self) -> str:
        return f"{self.clinician.pk}-{self.day:%Y%m%d}"


@dataclass
class Grid:
    rows: int
    times: list[tuple[int, str]]
    columns: list[Column]
    opens: datetime.time

    @property
    def first_cell(self) -> tuple[str, int] | None:
        """The free time the keyboard enters the grid at: the first one shown."""
        for column in self.columns:
            if column.cells:
                return column.key, column.cells[0][0]
        return None


def clinic_rows() -> int:
    opens, closes = settings.CLINIC_OPENS, settings.CLINIC_CLOSES
    minutes = (closes.hour * 60 + closes.minute) - (opens.hour * 60 + opens.minute)
    return max(1, -(-minutes // SLOT_MINUTES))


def opening(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, settings.CLINIC_OPENS))


def _rows_between(start: datetime.datetime, end: datetime.datetime) -> float:
    return round((end - start) / SLOT, 3)


def build(
    *,
    pairs: list[tuple[Any, datetime.date, str]],
    bookings: list[FollowUp],
    waiting: list[WaitlistEntry],
    now: datetime.datetime,
    show_cancelled: bool,
) -> Grid:
    """The grid of ``pairs`` (clinician, day, heading), one column each, from ``bookings`` (the
    schedule's, cancelled ones included) and the ``waiting`` entries of the waitlist."""
    rows = clinic_rows()
    opens = settings.CLINIC_OPENS
    times = [
        (row, f"{(datetime.datetime.combine(datetime.date.min, opens) + row * SLOT):%H:%M}")
        for row in range(rows)
        if (opens.minute + row * SLOT_MINUTES) % 60 == 0
    ]
    by_column: dict[tuple[int, datetime.date], list[FollowUp]] = {}
    for booking in bookings:
        key = (booking.clinician_id, timezone.localdate(booking.starts_at))
        by_column.setdefault(key, []).append(booking)
    freed_ids = {b.pk for b in schedule.freed(bookings, now=now)}
    columns = []
    for clinician, day, heading in pairs:
        is_open = day.isoweekday() in settings.CLINIC_DAYS
        column = Column(clinician=clinician, day=day, heading=heading, open=is_open)
        columns.append(column)
        if not is_open:
            continue
        start = opening(day)
        own = by_column.get((clinician.pk, day), [])
        live = [b for b in own if b.status not in HOLDS_NO_TIME]
        for booking in own:
            cancelled = booking.status == FollowUpStatus.CANCELLED
            top = _rows_between(start, booking.starts_at)
            height = _rows_between(booking.starts_at, booking.ends_at)
            if cancelled and booking.pk in freed_ids:
                matches = schedule.waitlist_matches(
                    waiting,
                    clinician_id=clinician.pk,
                    starts_at=booking.starts_at,
                    ends_at=booking.ends_at,
                )
                if matches:
                    lane = "left" if show_cancelled else ""
                    column.freed.append(Freed(booking, top, height, matches, lane))
            if cancelled and not show_cancelled:
                continue
            answers = getattr(booking, "answers_given", [])
            lane = ("right" if cancelled else "left") if show_cancelled else ""
            column.blocks.append(
                Block(booking, top, height, answers[-1] if answers else None, lane)
            )
        for row in range(rows):
            at = start + row * SLOT
            if at < now:
                continue
            if any(b.starts_at < at + SLOT and b.ends_at > at for b in live):
                continue
            column.cells.append((row, f"{timezone.localtime(at):%H:%M}"))
        if day == timezone.localdate(now):
            column.past_rows = max(0.0, min(float(rows), _rows_between(start, now)))
            if 0 < column.past_rows < rows:
                column.now_top = column.past_rows
        elif day < timezone.localdate(now):
            column.past_rows = float(rows)
    return Grid(rows=rows, times=times, columns=columns, opens=opens)
