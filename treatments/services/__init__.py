"""The clinic's rules for writing treatments and follow-ups; every entry point calls these."""

from __future__ import annotations

from treatments.services.answer_links import answer_link_find, answer_link_issue, answer_link_url
from treatments.services.answers import answer_page_allowed, answer_page_hits_clear, booking_answer
from treatments.services.calendar import calendar_feed_issue
from treatments.services.day_view import day_view_choose
from treatments.services.follow_ups import (
    cancellation_is_late,
    follow_up_book,
    follow_up_cancel,
    follow_up_moves_offered,
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
from treatments.services.waitlist import waitlist_add, waitlist_book, waitlist_withdraw

__all__ = [
    "answer_link_find",
    "answer_link_issue",
    "answer_link_url",
    "answer_page_allowed",
    "answer_page_hits_clear",
    "booking_answer",
    "day_view_choose",
    "waitlist_add",
    "waitlist_book",
    "waitlist_withdraw",
    "cancellation_is_late",
    "follow_up_cancel",
    "follow_up_moves_offered",
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
