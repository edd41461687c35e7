"""The front desk's reports: no-show and late-cancellation rates per clinician and month, and
how the waitlist's entries were filled; each checked against counts made by hand."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from recordkeeping.roles import CLINIC_ADMIN, FRONT_DESK
from tests.conftest import token_client
from tests.factories import ClinicianFactory, FollowUpFactory, UserFactory
from tests.treatments.desk_factories import WaitlistEntryFactory
from treatments.models import FollowUp, WaitlistEntry

pytestmark = pytest.mark.django_db


def visit(clinician, start: datetime.datetime, status: str, cancelled_before=None) -> FollowUp:
    follow_up = FollowUpFactory(
        clinician=clinician, starts_at=start, ends_at=start + datetime.timedelta(minutes=30)
    )
    changes = {"status": status}
    if cancelled_before is not None:
        changes["cancelled_at"] = start - cancelled_before
    FollowUp.objects.filter(pk=follow_up.pk).update(**changes)
    return follow_up


@pytest.fixture
def month_ago() -> datetime.datetime:
    day = timezone.localdate().replace(day=1) - datetime.timedelta(days=20)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(10)))


def test_no_show_and_late_cancellation_rates_per_clinician_and_month(month_ago, settings):
    settings.LATE_CANCEL_HOURS = 24
    hale = ClinicianFactory(first_name="Ada", last_name="Hale")
    hours = datetime.timedelta(hours=1)
    for offset, status, before in [
        (0, "completed", None),
        (1, "no_show", None),
        (2, "checked_in", None),
        (3, "cancelled", 2 * hours),  # late
        (4, "cancelled", 72 * hours),  # in good time
        (5, "proposed", None),  # never booked: not counted
    ]:
        visit(hale, month_ago + offset * hours, status, before)
    visit(ClinicianFactory(), month_ago, "no_show")  # another clinician's
    admin = token_client(UserFactory(role=CLINIC_ADMIN))
    answer = admin.get(
        "/api/v1/reports/attendance/",
        {"clinician": hale.pk, "date_from": month_ago.date().isoformat()},
    )
    assert answer.status_code == 200
    assert answer.json()["rows"] == [
        {
            "month": f"{month_ago:%Y-%m}",
            "clinician": hale.pk,
            "clinician_name": "Ada Hale",
            "bookings": 5,
            "no_shows": 1,
            "no_show_pct": 33.3,
            "cancellations": 2,
            "late_cancellations": 1,
            "late_cancel_pct": 20.0,
        }
    ]


def test_waitlist_fills_count_booked_withdrawn_lapsed_and_waiting_by_month_added(month_ago):
    today = timezone.localdate()
    entries = [
        WaitlistEntryFactory(status="withdrawn"),
        WaitlistEntryFactory(
            earliest=today - datetime.timedelta(days=9), latest=today - datetime.timedelta(days=1)
        ),  # lapsed
        WaitlistEntryFactory(),  # still waiting
    ]
    booked = WaitlistEntryFactory()
    follow_up = FollowUpFactory(patient=booked.patient)
    WaitlistEntry.objects.filter(pk=booked.pk).update(status="booked", follow_up=follow_up)
    entries.append(booked)
    WaitlistEntry.objects.filter(pk__in=[e.pk for e in entries]).update(created_at=month_ago)
    FollowUp.objects.filter(pk=follow_up.pk).update(
        created_at=month_ago + datetime.timedelta(days=2, hours=12)
    )
    admin = token_client(UserFactory(role=CLINIC_ADMIN))
    rows = admin.get("/api/v1/reports/waitlist-fills/").json()["rows"]
    assert rows == [
        {
            "month": f"{month_ago:%Y-%m}",
            "entries": 4,
            "booked": 1,
            "withdrawn": 1,
            "lapsed": 1,
            "waiting": 1,
            "booked_pct": 25.0,
            "median_days_to_booking": 2.5,
        }
    ]


def test_the_reports_page_shows_both_to_clinic_admins_and_not_to_the_front_desk(month_ago):
    visit(ClinicianFactory(first_name="Ada", last_name="Hale"), month_ago, "no_show")
    client = Client()
    client.force_login(UserFactory(role=CLINIC_ADMIN))
    page = client.get("/admin/reports/").content.decode()
    assert "No-shows and late cancellations per clinician and month" in page
    assert "Ada Hale" in page and "Waitlist: entries and how they were filled" in page
    desk = token_client(UserFactory(role=FRONT_DESK))
    assert desk.get("/api/v1/reports/attendance/").status_code == 403
    assert desk.get("/api/v1/reports/waitlist-fills/").status_code == 403
