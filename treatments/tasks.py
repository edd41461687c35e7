"""Periodic work (beat schedule in settings): thin wrappers around the services."""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from django.utils import timezone

from treatments import selectors, services

logger = logging.getLogger(__name__)


@shared_task
def dispatch_reminders() -> dict[str, int]:
    return services.reminders_dispatch().outcomes


@shared_task
def nightly_follow_ups() -> dict[str, int]:
    """Yesterday's and older unattended bookings become no-shows; the next days' reminders are
    planned again; overdue courses are counted for the log (ids only: the list itself is on the
    front desk's screens)."""
    today = timezone.localdate()
    start_of_today = timezone.make_aware(datetime.datetime.combine(today, datetime.time.min))
    no_shows = services.follow_ups_mark_no_show(before=start_of_today)
    planned = services.reminders_plan_upcoming(days=3)
    services.answer_page_hits_clear(before=timezone.now())
    overdue = list(selectors.courses_overdue(on=today).values_list("id", flat=True))
    logger.info(
        "Nightly: %d no-shows marked; reminders planned again for %d bookings; "
        "%d courses overdue: %s",
        no_shows,
        planned,
        len(overdue),
        overdue,
    )
    return {"no_shows": no_shows, "replanned": planned, "overdue_courses": len(overdue)}
