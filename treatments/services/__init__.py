"""The clinic's rules for writing treatments and follow-ups; every entry point calls these."""

from __future__ import annotations

from treatments.services.calendar import calendar_feed_issue
from treatments.services.follow_ups import (
    follow_up_book,
    follow_up_reschedule,
    follow_up_save,
    follow_up_transition,
    follow_up_update,
    follow_ups_mark_no_show,
    follow_ups_propose,
)
from treatments.services.reminders import (
    patient_reminders_sync,
    reminders_dispatch,
    reminders_plan_upcoming,
    reminders_sync,
)
from treatments.services.sessions import (
    addendum_add,
    ensure_session_editable,
    ensure_side_effect_editable,
    session_cancel,
    session_create,
    session_reassign,
    session_sign,
    session_update,
    side_effect_is_final,
)

__all__ = [
    "addendum_add",
    "calendar_feed_issue",
    "ensure_session_editable",
    "ensure_side_effect_editable",
    "follow_up_book",
    "follow_up_reschedule",
    "follow_up_save",
    "follow_up_transition",
    "follow_up_update",
    "follow_ups_mark_no_show",
    "follow_ups_propose",
    "patient_reminders_sync",
    "reminders_dispatch",
    "reminders_plan_upcoming",
    "reminders_sync",
    "session_cancel",
    "session_create",
    "session_reassign",
    "session_sign",
    "session_update",
    "side_effect_is_final",
]
