"""Reminder rows: planned when a follow-up is booked or moved, sent by the dispatch pass.

At most once: a reminder is claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` and its row stays
locked while the message is handed over and the delivery recorded, all in one transaction. A
second dispatch running at the same time skips it; a worker that dies mid-send drops its
connection, PostgreSQL rolls the claim back, and the next pass sends it. The delivery row's key
is unique and a reminder has at most one sent delivery (database constraints).
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from patients.models import Patient, ReminderChannel
from treatments.messaging import SendFailed, send_email, send_sms
from treatments.models import (
    BOOKED,
    DeliveryOutcome,
    FollowUp,
    FollowUpKind,
    Reminder,
    ReminderDelivery,
    ReminderStatus,
)
from treatments.services.answer_links import answer_link_issue, answer_link_url

logger = logging.getLogger(__name__)


def reminders_sync(*, follow_up: FollowUp) -> None:
    """Make the follow-up's pending reminders announce its current time, or none at all when it
    is not booked or the patient has not consented. Call after every change to a follow-up."""
    now = timezone.now()
    patient = follow_up.patient
    wanted: dict[int, datetime.datetime] = {}
    if (
        follow_up.status in BOOKED
        and patient.reminder_consent
        and patient.reminder_channel != ReminderChannel.NONE
        and patient.archived_at is None
    ):
        for hours in settings.REMINDER_HOURS_BEFORE:
            due = follow_up.starts_at - datetime.timedelta(hours=hours)
            if due > now:
                wanted[hours] = due
    pending = follow_up.reminders.filter(status=ReminderStatus.PENDING)
    pending.exclude(appointment_at=follow_up.starts_at, hours_before__in=wanted).update(
        status=ReminderStatus.CANCELLED, updated_at=now
    )
    if not wanted:
        return
    kept = follow_up.reminders.filter(appointment_at=follow_up.starts_at, hours_before__in=wanted)
    had = set(kept.values_list("hours_before", flat=True))
    # Moved back to a time it had before: those reminders are wanted again.
    kept.filter(status=ReminderStatus.CANCELLED).update(
        status=ReminderStatus.PENDING, updated_at=now
    )
    Reminder.objects.bulk_create(
        [
            Reminder(
                follow_up=follow_up,
                hours_before=hours,
                appointment_at=follow_up.starts_at,
                due_at=due,
                next_attempt_at=due,
            )
            for hours, due in wanted.items()
            if hours not in had
        ],
        ignore_conflicts=True,  # planned meanwhile by a concurrent change: one row stays
    )


def reminders_plan_upcoming(*, days: int = 3) -> int:
    """Plan the reminders of bookings starting in the next ``days`` again: bookings made before
    reminders existed, or changed outside the app, get theirs. Returns the bookings seen."""
    now = timezone.now()
    upcoming = FollowUp.objects.filter(
        status__in=BOOKED, starts_at__gt=now, starts_at__lte=now + datetime.timedelta(days=days)
    ).select_related("patient")
    count = 0
    for follow_up in upcoming.iterator(chunk_size=500):
        with transaction.atomic():
            reminders_sync(follow_up=follow_up)
        count += 1
    return count


def patient_reminders_sync(*, patient: Patient) -> None:
    """After a patient's consent or channel changed: their upcoming bookings' reminders follow."""
    upcoming = patient.follow_ups.filter(status__in=BOOKED, starts_at__gt=timezone.now())
    for follow_up in upcoming.select_related("patient"):
        reminders_sync(follow_up=follow_up)


@dataclass
class DispatchSummary:
    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: str) -> None:
        key = str(outcome)  # the plain value, for logs and task results
        self.outcomes[key] = self.outcomes.get(key, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())


def reminders_dispatch(*, limit: int | None = None) -> DispatchSummary:
    """Send every reminder due now, one transaction each; rows another dispatch holds are left
    to it. A failed send is tried again later (backoff) up to ``REMINDER_MAX_ATTEMPTS``."""
    now = timezone.now()
    summary = DispatchSummary()
    while limit is None or summary.total < limit:
        outcome = reminder_send_next(now=now)
        if outcome is None:
            break
        summary.add(outcome)
    if summary.total:
        logger.info("Reminder dispatch: %s", summary.outcomes)
    return summary


def reminder_send_next(*, now: datetime.datetime) -> str | None:
    """Claim the next due reminder, send it and record the delivery; None when none is due."""
    with transaction.atomic():
        reminder = (
            Reminder.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=ReminderStatus.PENDING, next_attempt_at__lte=now)
            .select_related("follow_up__patient")
            .order_by("next_attempt_at")
            .first()
        )
        if reminder is None:
            return None
        reminder.attempts += 1
        key = f"reminder-{reminder.pk}"
        channel = ""
        reason = _reason_not_to_send(reminder, now)
        if reason:
            outcome = DeliveryOutcome.SKIPPED
            reminder.status = ReminderStatus.SKIPPED
        else:
            patient = reminder.follow_up.patient
            channel = patient.reminder_channel
            try:
                _send(reminder, key=key)
            except (
                Exception
            ) as error:  # a provider's own errors too: one message never stops a pass
                if not isinstance(error, SendFailed):
                    logger.exception("Sending %s failed", key)
                reason = f"{type(error).__name__}: {error}"[:1000]
                outcome = DeliveryOutcome.FAILED
                if reminder.attempts >= settings.REMINDER_MAX_ATTEMPTS:
                    reminder.status = ReminderStatus.FAILED
                else:
                    backoff = settings.REMINDER_RETRY_SECONDS * 2 ** (reminder.attempts - 1)
                    reminder.next_attempt_at = now + datetime.timedelta(seconds=backoff)
            else:
                outcome = DeliveryOutcome.SENT
                reminder.status = ReminderStatus.SENT
        ReminderDelivery.objects.create(
            reminder=reminder,
            key=f"{key}-attempt-{reminder.attempts}",
            attempt=reminder.attempts,
            channel=channel,
            outcome=outcome,
            reason=reason,
        )
        reminder.save(update_fields=["attempts", "status", "next_attempt_at", "updated_at"])
    return outcome


def _reason_not_to_send(reminder: Reminder, now: datetime.datetime) -> str:
    follow_up, patient = reminder.follow_up, reminder.follow_up.patient
    if follow_up.status not in BOOKED or follow_up.starts_at != reminder.appointment_at:
        return "The appointment was moved or is no longer booked."
    if follow_up.starts_at <= now:
        return "The appointment time has passed."
    if not patient.reminder_consent or patient.archived_at is not None:
        return "The patient has not consented to reminders."
    if patient.reminder_channel == ReminderChannel.NONE:
        return "The patient asked for no reminders."
    return ""


def reminder_text(reminder: Reminder, *, link: str = "") -> tuple[str, str]:
    """Subject and text: first name, time, place, the link to confirm or cancel and the
    clinic's phone; nothing clinical."""
    follow_up, patient = reminder.follow_up, reminder.follow_up.patient
    when = timezone.localtime(follow_up.starts_at)
    at = f"{when:%A} {when.day} {when:%B} at {when:%H:%M}"
    place = ", ".join(part for part in (settings.CLINIC_NAME, settings.CLINIC_ADDRESS) if part)
    if follow_up.kind == FollowUpKind.PHONE_CALL:
        body = f"Hello {patient.given_name}, {settings.CLINIC_NAME} will phone you on {at}."
    else:
        body = f"Hello {patient.given_name}, this is a reminder of your appointment on {at} at "
        body += f"{place}."
    if link:
        body += f" Confirm or cancel: {link}"
    if settings.CLINIC_PHONE:
        body += f" To change it, please call {settings.CLINIC_PHONE}."
    return f"Your appointment on {when.day} {when:%B}", body


def _send(reminder: Reminder, *, key: str) -> None:
    patient = reminder.follow_up.patient
    link = answer_link_url(answer_link_issue(reminder=reminder))
    subject, body = reminder_text(reminder, link=link)
    if patient.reminder_channel == ReminderChannel.SMS:
        send_sms(to=patient.phone, body=body, key=key)
    else:
        send_email(to=patient.email, subject=subject, body=body, key=key)
