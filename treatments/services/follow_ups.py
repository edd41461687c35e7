"""Booking, moving and attending follow-ups, and the follow-ups a completed session calls for."""

from __future__ import annotations

import datetime
import random
import time
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from recordkeeping.errors import Clash
from treatments.models import (
    BOOKED,
    CourseStatus,
    FollowUp,
    FollowUpRule,
    FollowUpStatus,
    InjectionSession,
    Reminder,
    ReminderStatus,
    SessionStatus,
)
from treatments.models.follow_ups import OVERLAP_RULE
from treatments.selectors import Slot, booked_times, clinic_day, day_bounds, free_slots
from treatments.services.reminders import reminders_sync

Status = FollowUpStatus
# Which statuses a follow-up may come from to reach each status.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.SCHEDULED: (Status.PROPOSED,),
    Status.CONFIRMED: (Status.PROPOSED, Status.SCHEDULED),
    Status.CHECKED_IN: (Status.SCHEDULED, Status.CONFIRMED),
    Status.COMPLETED: (Status.CHECKED_IN,),
    Status.NO_SHOW: (Status.SCHEDULED, Status.CONFIRMED),
    Status.CANCELLED: (Status.PROPOSED, Status.SCHEDULED, Status.CONFIRMED),
}
MOVABLE = (Status.PROPOSED, Status.SCHEDULED, Status.CONFIRMED)
DEADLOCK_ATTEMPTS = 3  # saves of a booking that PostgreSQL ended in a deadlock with another
SEARCH_DAYS = 28  # how far ahead a proposal looks for a free slot
LATE_ENTRY = datetime.timedelta(days=14)  # a follow-up due longer ago than this is not proposed


def follow_up_save(*, follow_up: FollowUp) -> FollowUp:
    """Save a new or changed follow-up as given, and make its reminders match it."""
    with transaction.atomic():
        _save_booking(follow_up)
        reminders_sync(follow_up=follow_up)
    return follow_up


def follow_up_book(*, fields: dict[str, Any]) -> FollowUp:
    return follow_up_save(follow_up=FollowUp(**fields))


def follow_up_update(*, follow_up: FollowUp, fields: dict[str, Any]) -> FollowUp:
    with transaction.atomic():
        follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
        for name, value in fields.items():
            setattr(follow_up, name, value)
        return follow_up_save(follow_up=follow_up)


def follow_up_reschedule(
    *,
    follow_up: FollowUp,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime | None = None,
    clinician_id: int | None = None,
) -> FollowUp:
    """Move a follow-up, keeping its length unless ``ends_at`` is given. The new time is booked
    (scheduled) and waits for the patient's confirmation; reminders follow the new time."""
    with transaction.atomic():
        follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
        if follow_up.status not in MOVABLE:
            raise ValidationError(
                {"status": f"A {follow_up.get_status_display().lower()} follow-up cannot move."}
            )
        length = follow_up.ends_at - follow_up.starts_at
        follow_up.starts_at = starts_at
        follow_up.ends_at = ends_at or starts_at + length
        if clinician_id is not None:
            follow_up.clinician_id = clinician_id
        follow_up.status = Status.SCHEDULED
        _save_booking(follow_up)
        reminders_sync(follow_up=follow_up)
    return follow_up


def follow_up_transition(*, follow_up: FollowUp, to: str, reason: str = "") -> FollowUp:
    """Book a proposal, confirm, check in, complete, mark a no-show or cancel (with ``reason``,
    kept with the time it was cancelled).

    Check-in is on the day of the appointment; a no-show only once its start time has passed.
    Doing the same twice is harmless.
    """
    with transaction.atomic():
        follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
        if follow_up.status == to:
            return follow_up
        if follow_up.status not in TRANSITIONS[to]:
            current = follow_up.get_status_display().lower()
            target = Status(to).label.lower()
            raise ValidationError({"status": f"A {current} follow-up cannot become {target}."})
        now = timezone.now()
        if to == Status.CHECKED_IN and timezone.localdate(follow_up.starts_at) != (
            timezone.localdate(now)
        ):
            raise ValidationError({"status": "Check in on the day of the appointment."})
        if to == Status.NO_SHOW and follow_up.starts_at > now:
            raise ValidationError(
                {"status": "A follow-up becomes a no-show only after its start time."}
            )
        was_proposed = follow_up.status == Status.PROPOSED
        follow_up.status = to
        if was_proposed and to in BOOKED:
            _save_booking(follow_up)  # a proposal held no time: check the slot is still free
        elif to == Status.CANCELLED:
            follow_up.cancelled_at, follow_up.cancel_reason = now, reason.strip()[:500]
            follow_up.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
        else:
            follow_up.save(update_fields=["status", "updated_at"])
        reminders_sync(follow_up=follow_up)
    return follow_up


def follow_up_cancel(*, follow_up: FollowUp, reason: str) -> FollowUp:
    """Cancel a booking or a proposal, saying why (the front desk's rule: a reason is needed)."""
    if not reason.strip():
        raise ValidationError({"reason": "Say why the follow-up is cancelled."})
    return follow_up_transition(follow_up=follow_up, to=Status.CANCELLED, reason=reason)


def follow_up_moves_offered(*, follow_up: FollowUp, now: datetime.datetime) -> list[str]:
    """The statuses a screen offers to move a follow-up to now: those its status allows,
    check-in on the day and a no-show once the start has passed (the service refuses the
    others, so no button is shown for them)."""
    offered = []
    for to, sources in TRANSITIONS.items():
        if follow_up.status not in sources or to == Status.COMPLETED:
            continue
        if to == Status.CHECKED_IN and timezone.localdate(follow_up.starts_at) != (
            timezone.localdate(now)
        ):
            continue
        if to == Status.NO_SHOW and follow_up.starts_at > now:
            continue
        offered.append(to)
    return offered


def cancellation_is_late(*, follow_up: FollowUp, now: datetime.datetime) -> bool:
    """Whether cancelling now falls within ``LATE_CANCEL_HOURS`` of the start."""
    return follow_up.starts_at - now < datetime.timedelta(hours=settings.LATE_CANCEL_HOURS)


def follow_ups_mark_no_show(*, before: datetime.datetime) -> int:
    """Booked follow-ups that ended before ``before`` and were never checked in: no-shows."""
    with transaction.atomic():
        missed = FollowUp.objects.filter(status__in=BOOKED, ends_at__lt=before)
        Reminder.objects.filter(follow_up__in=missed, status=ReminderStatus.PENDING).update(
            status=ReminderStatus.CANCELLED, updated_at=timezone.now()
        )
        return missed.update(status=Status.NO_SHOW, updated_at=timezone.now())


def _save_booking(follow_up: FollowUp) -> None:
    """Validate and save; a booking that lost a race for its slot raises ``Clash`` naming the
    booking that won (the database's exclusion constraint is the last word)."""
    follow_up.full_clean(validate_constraints=False)
    for attempt in range(1, DEADLOCK_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                follow_up.save()
            return
        except OperationalError as error:
            # Two bookings of one slot inserted at once each wait for the other's check of the
            # exclusion constraint; PostgreSQL ends one (deadlock). Once the other has finished,
            # saving again meets its booking, or a free slot.
            if attempt == DEADLOCK_ATTEMPTS or not _is_deadlock(error):
                raise
            time.sleep(random.uniform(0.01, 0.05) * attempt)  # noqa: S311 (jitter, not a secret)
        except IntegrityError as error:
            _raise_clash(follow_up, error)


def _is_deadlock(error: Exception) -> bool:
    return getattr(error.__cause__, "sqlstate", None) == "40P01"


def _raise_clash(follow_up: FollowUp, error: IntegrityError) -> None:
    diag = getattr(error.__cause__, "diag", None)
    if getattr(diag, "constraint_name", None) != OVERLAP_RULE:
        raise error
    clash = follow_up.clashing_booking()
    message = clash.describe_as_clash() if clash else "That time was just booked."
    raise Clash(message, field="starts_at") from error


def follow_ups_propose(*, session: InjectionSession) -> list[FollowUp]:
    """The follow-ups a completed session calls for under the clinic's active rules, proposed in
    the clinician's first free slot from the day each is due (none for a follow-up due more than
    two weeks ago). A rule already followed for this session (proposed, booked, dropped or
    attended), or a kind booked by hand for it, is not proposed again."""
    if session.status != SessionStatus.COMPLETED:
        return []
    course = session.course
    rules = FollowUpRule.objects.filter(active=True)
    if course is None:
        rules = rules.filter(treatment="", at_course_interval=False, while_sessions_remain=False)
    else:
        rules = rules.filter(Q(treatment="") | Q(treatment=course.planned_treatment))
    # Each rule once per session; a kind booked by hand for the session counts as followed.
    earlier = list(session.follow_ups.values_list("rule_id", "kind"))
    followed_rules = {rule_id for rule_id, _ in earlier if rule_id}
    by_hand = {kind for rule_id, kind in earlier if not rule_id}
    done = (
        course.sessions.filter(status=SessionStatus.COMPLETED).count() if course is not None else 0
    )
    proposals = []
    for rule in rules.order_by("days_after", "id"):
        if rule.pk in followed_rules or rule.kind in by_hand:
            continue
        if (rule.while_sessions_remain or rule.at_course_interval) and (
            course is None or course.status != CourseStatus.ACTIVE
        ):
            continue
        if rule.while_sessions_remain and done >= course.planned_sessions:  # type: ignore[union-attr]
            continue
        if rule.at_course_interval:
            gap = datetime.timedelta(weeks=course.planned_interval_weeks)  # type: ignore[union-attr]
        else:
            gap = datetime.timedelta(days=rule.days_after or 0)
        due = timezone.localdate(session.performed_at) + gap
        if due < timezone.localdate() - LATE_ENTRY:
            continue  # a session recorded long after: that follow-up's time has gone
        due = max(due, timezone.localdate() + datetime.timedelta(days=1))
        slot = _first_free_slot(clinician_id=session.clinician_id, day=due, minutes=rule.minutes)
        proposal = FollowUp(
            patient_id=session.patient_id,
            course=course,
            session=session,
            kind=rule.kind,
            rule=rule,
            clinician_id=session.clinician_id,
            status=Status.PROPOSED,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            due_on=due,
            # Not the rule's name: it may say what was injected, and the front desk reads notes.
            notes=f"Proposed follow-up, due {due:%d %b %Y}.",
        )
        proposal.save()
        followed_rules.add(rule.pk)
        proposals.append(proposal)
    return proposals


def _first_free_slot(*, clinician_id: int, day: datetime.date, minutes: int) -> Slot:
    """The first free time from ``day`` on, avoiding other proposals too; when every day is
    full, opening time on the first clinic day (the front desk moves it)."""
    first_open = None
    booked = booked_times(  # the whole search in one query
        clinician_id=clinician_id,
        start=day_bounds(day)[0],
        end=day_bounds(day + datetime.timedelta(days=SEARCH_DAYS))[0],
        avoid_proposals=True,
    )
    by_day: dict[datetime.date, list[tuple[datetime.datetime, datetime.datetime]]] = {}
    zone = timezone.get_current_timezone()
    for start, end in booked:  # in order; each day then looks at its own bookings only
        on, last = start.astimezone(zone).date(), end.astimezone(zone).date()
        while on <= last:
            by_day.setdefault(on, []).append((start, end))
            on += datetime.timedelta(days=1)
    for offset in range(SEARCH_DAYS):
        candidate = day + datetime.timedelta(days=offset)
        slots = free_slots(
            clinician_id=clinician_id,
            day=candidate,
            minutes=minutes,
            avoid_proposals=True,
            booked=by_day.get(candidate, []),
        )
        if slots:
            return slots[0]
        first_open = first_open or clinic_day(candidate)
    opens = (
        first_open[0]
        if first_open
        else timezone.make_aware(datetime.datetime.combine(day, datetime.time(9)))
    )
    return Slot(opens, opens + datetime.timedelta(minutes=minutes))
