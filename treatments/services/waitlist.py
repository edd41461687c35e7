"""The waitlist: patients who would come earlier, offered the slots that free up."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from treatments.models import FollowUpStatus, WaitlistEntry, WaitlistStatus
from treatments.services.follow_ups import follow_up_book

FROM_WAITLIST = "Booked from the waitlist."


def waitlist_add(*, fields: dict[str, Any], added_by: Any = None) -> WaitlistEntry:
    """Put a patient on the waitlist (``fields``: patient, clinician or None for any, kind,
    minutes, earliest, latest, notes)."""
    entry = WaitlistEntry(**fields, added_by=added_by)
    entry.full_clean(exclude=["follow_up", "added_by"])
    entry.save()
    return entry


def waitlist_withdraw(*, entry: WaitlistEntry) -> WaitlistEntry:
    """Take a patient off the waitlist (they no longer wait, or were booked otherwise)."""
    with transaction.atomic():
        entry = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
        if entry.status != WaitlistStatus.WAITING:
            raise ValidationError({"status": "This entry is no longer waiting."})
        entry.status = WaitlistStatus.WITHDRAWN
        entry.save(update_fields=["status", "updated_at"])
    return entry


def waitlist_book(
    *, entry: WaitlistEntry, clinician_id: int, starts_at: datetime.datetime
) -> WaitlistEntry:
    """Book the waiting patient at ``starts_at`` with the clinician, for the entry's length;
    the booking is checked as any other (clinic hours, no overlap) and nothing changes when it
    is refused."""
    with transaction.atomic():
        entry = WaitlistEntry.objects.select_for_update().select_related("patient").get(pk=entry.pk)
        if entry.status != WaitlistStatus.WAITING:
            raise ValidationError({"status": "This entry is no longer waiting."})
        if entry.clinician_id is not None and entry.clinician_id != clinician_id:
            raise ValidationError({"clinician": "This patient waits for another clinician."})
        follow_up = follow_up_book(
            fields={
                "patient": entry.patient,
                "clinician_id": clinician_id,
                "kind": entry.kind,
                "starts_at": starts_at,
                "ends_at": starts_at + datetime.timedelta(minutes=entry.minutes),
                "status": FollowUpStatus.SCHEDULED,
                "notes": FROM_WAITLIST,
            }
        )
        entry.status, entry.follow_up = WaitlistStatus.BOOKED, follow_up
        entry.save(update_fields=["status", "follow_up", "updated_at"])
    return entry
