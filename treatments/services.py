from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from treatments.models import FollowUp, FollowUpStatus, InjectionSession, SessionStatus

CANCELLABLE_FOLLOW_UP = (
    FollowUpStatus.PROPOSED,
    FollowUpStatus.SCHEDULED,
    FollowUpStatus.CONFIRMED,
)


def session_cancel(*, session: InjectionSession, reason: str) -> InjectionSession:
    """Cancel a planned session. Completed sessions stay on the record; they are never removed."""
    with transaction.atomic():
        session = InjectionSession.objects.select_for_update().get(pk=session.pk)
        if session.status == SessionStatus.CANCELLED:
            return session
        if session.status != SessionStatus.PLANNED:
            raise ValidationError({"status": "Only a planned session can be cancelled."})
        session.status = SessionStatus.CANCELLED
        session.cancel_reason = reason
        session.full_clean()
        session.save(update_fields=["status", "cancel_reason", "updated_at"])
    return session


def follow_up_cancel(*, follow_up: FollowUp) -> FollowUp:
    with transaction.atomic():
        follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
        if follow_up.status == FollowUpStatus.CANCELLED:
            return follow_up
        if follow_up.status not in CANCELLABLE_FOLLOW_UP:
            raise ValidationError(
                {"status": f"A {follow_up.get_status_display().lower()} follow-up stays as it is."}
            )
        follow_up.status = FollowUpStatus.CANCELLED
        follow_up.save(update_fields=["status", "updated_at"])
    return follow_up
