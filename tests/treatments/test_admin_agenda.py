"""The front desk's agenda page in the admin: the day per clinician, buttons that move a booking
through its day, free slots that open a prefilled booking form, and overdue courses."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinic.models import AccessLogEntry
from tests.factories import ClinicianFactory, CourseFactory, FollowUpFactory, clinic_slot
from treatments.models import FollowUp

pytestmark = pytest.mark.django_db
AGENDA = reverse("admin:treatments_followup_agenda")


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_front_desk_sees_the_day_and_confirms_from_it(front_desk):
    clinician = ClinicianFactory(first_name="Ines", last_name="Duarte")
    follow_up = FollowUpFactory(
        clinician=clinician, starts_at=clinic_slot(4, 9), ends_at=clinic_slot(4, 9, 30)
    )
    desk = logged_in(front_desk)
    query = f"?date={clinic_slot(4).date().isoformat()}&clinician={clinician.pk}"
    page = desk.get(AGENDA + query).content.decode()
    assert "Ines Duarte" in page
    assert str(follow_up.patient) in page
    assert 'value="confirmed"' in page and 'value="scheduled"' not in page  # no "Book" button
    assert "09:30</a>" in page  # the first free slot after the booking, as a link
    assert AccessLogEntry.objects.filter(
        action="admin.followup.agenda", patient_ids__contains=[follow_up.patient_id]
    ).exists()

    response = desk.post(AGENDA + query, {"follow_up": follow_up.pk, "to": "confirmed"})
    assert response.status_code == 302 and response["Location"].endswith(query)
    follow_up.refresh_from_db()
    assert follow_up.status == "confirmed"
    refused = desk.post(
        AGENDA + query, {"follow_up": follow_up.pk, "to": "checked_in"}, follow=True
    )
    assert "Check in on the day of the appointment." in refused.content.decode()


def test_a_free_slot_opens_a_prefilled_booking_form(front_desk):
    clinician = ClinicianFactory()
    starts = clinic_slot(4, 11)
    url = reverse("admin:treatments_followup_add")
    ends = starts + datetime.timedelta(minutes=30)
    query = "?" + urlencode(
        {"clinician": clinician.pk, "starts_at": starts.isoformat(), "ends_at": ends.isoformat()}
    )
    form = logged_in(front_desk).get(url + query).context["adminform"].form
    assert form.initial["clinician"] == str(clinician.pk)
    assert form.initial["starts_at"] == timezone.localtime(starts)


def test_clinic_admin_reads_the_agenda_without_buttons(clinic_admin):
    FollowUpFactory(starts_at=clinic_slot(4, 9), ends_at=clinic_slot(4, 10))
    client = logged_in(clinic_admin)
    page = client.get(AGENDA + f"?date={clinic_slot(4).date().isoformat()}").content.decode()
    assert "Agenda for" in page and 'name="to"' not in page
    follow_up = FollowUp.objects.get()
    assert client.post(AGENDA, {"follow_up": follow_up.pk, "to": "cancelled"}).status_code == 403
    assert FollowUp.objects.get().status == "scheduled"


def test_bad_agenda_date_is_reported_not_a_server_error(front_desk):
    response = logged_in(front_desk).get(AGENDA + "?date=31-02-2026")
    assert response.status_code == 200
    assert "Enter a valid date." in response.content.decode()


def test_overdue_courses_filter_in_the_course_list(front_desk):
    overdue = CourseFactory(start_date=timezone.localdate() - datetime.timedelta(days=30))
    CourseFactory(start_date=timezone.localdate() + datetime.timedelta(days=3))
    url = reverse("admin:treatments_treatmentcourse_changelist") + "?next_session=overdue"
    response = logged_in(front_desk).get(url)
    assert [course.pk for course in response.context["cl"].result_list] == [overdue.pk]


def test_the_change_form_shows_the_status_without_changing_it(front_desk):
    follow_up = FollowUpFactory()
    client = logged_in(front_desk)
    url = reverse("admin:treatments_followup_change", args=[follow_up.pk])
    form = client.get(url).context["adminform"].form
    assert "status" not in form.fields
    assert (
        "status"
        in client.get(reverse("admin:treatments_followup_add")).context["adminform"].form.fields
    )


def test_agenda_date_beyond_the_calendar_is_reported(front_desk):
    response = logged_in(front_desk).get(AGENDA + "?date=9999-12-31")
    assert response.status_code == 200
    assert "Ensure this value is less than or equal to" in response.content.decode()
