"""The front desk's agenda page in the admin: the day per clinician, buttons that move a booking
through its day, free slots that open a prefilled booking form, and overdue courses."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from recordkeeping.models import AccessLogEntry
from tests.factories import ClinicianFactory, CourseFactory, FollowUpFactory, clinic_slot
from treatments.models import CalendarFeed, FollowUp

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


def test_every_clinicians_free_slots_skip_their_own_bookings_in_the_same_queries(
    front_desk, django_assert_max_num_queries
):
    """The whole network's day: each column's free times come from that clinician's bookings,
    read for all of them at once (the queries do not grow with the clinicians)."""
    day = clinic_slot(4).date().isoformat()
    desk = logged_in(front_desk)
    first = ClinicianFactory(first_name="Ada", last_name="Aalto")
    FollowUpFactory(clinician=first, starts_at=clinic_slot(4, 9), ends_at=clinic_slot(4, 10))
    desk.get(AGENDA, {"date": day})
    with django_assert_max_num_queries(30) as few:
        desk.get(AGENDA, {"date": day})
    second = ClinicianFactory(first_name="Bo", last_name="Berg")
    FollowUpFactory(clinician=second, starts_at=clinic_slot(4, 11), ends_at=clinic_slot(4, 12))
    for _ in range(5):
        ClinicianFactory()
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = desk.get(AGENDA, {"date": day}).content.decode()

    def offered(clinician, hour):
        return f"clinician={clinician.pk}&amp;starts_at={day}T{hour:02}%3A00" in page

    assert not offered(first, 9) and offered(first, 10) and offered(first, 11)
    assert offered(second, 9) and not offered(second, 11) and offered(second, 12)


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
    page = client.get(url).content.decode()
    select = page.index('name="status"')
    status = page[select : page.index("</select>", select)]
    assert "disabled" in status and 'value="scheduled" selected' in status
    response = client.post(url, change_form_data(follow_up, status="cancelled"))
    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.status == "scheduled"  # the actions move it, not the form
    assert (
        "status"
        in client.get(reverse("admin:treatments_followup_add")).context["adminform"].form.fields
    )


def test_agenda_date_beyond_the_calendar_is_reported(front_desk):
    response = logged_in(front_desk).get(AGENDA + "?date=9999-12-31")
    assert response.status_code == 200
    assert "Ensure this value is less than or equal to" in response.content.decode()


def agenda_row(page: str, follow_up: FollowUp) -> str:
    """The agenda's table row of one follow-up, as the page shows it."""
    start = page.index(f'<tr id="follow-up-{follow_up.pk}"')
    return page[start : page.index("</tr>", start)]


def test_no_show_is_offered_only_once_the_appointment_has_started(front_desk):
    clinician = ClinicianFactory()
    earlier = timezone.now() - datetime.timedelta(hours=1)
    started = FollowUpFactory(
        clinician=clinician, starts_at=earlier, ends_at=earlier + datetime.timedelta(minutes=30)
    )
    ahead = FollowUpFactory(clinician=clinician, starts_at=clinic_slot(4, 9))
    desk = logged_in(front_desk)

    def buttons(follow_up: FollowUp) -> str:
        day = timezone.localdate(follow_up.starts_at).isoformat()
        return agenda_row(desk.get(f"{AGENDA}?date={day}").content.decode(), follow_up)

    assert ">No-show</button>" in buttons(started)
    assert ">No-show</button>" not in buttons(ahead)
    assert ">Cancel</button>" in buttons(ahead) and ">Confirm</button>" in buttons(ahead)


def test_check_in_is_offered_only_on_the_day_of_the_appointment(front_desk):
    clinician = ClinicianFactory()
    today = timezone.localtime().replace(hour=8, minute=0, second=0, microsecond=0)
    due_today = FollowUpFactory(
        clinician=clinician, starts_at=today, ends_at=today + datetime.timedelta(minutes=20)
    )
    ahead = FollowUpFactory(clinician=clinician, starts_at=clinic_slot(4, 9))
    desk = logged_in(front_desk)
    page_today = desk.get(AGENDA).content.decode()
    page_ahead = desk.get(f"{AGENDA}?date={clinic_slot(4).date().isoformat()}").content.decode()
    assert ">Check in</button>" in agenda_row(page_today, due_today)
    assert ">Check in</button>" not in agenda_row(page_ahead, ahead)


def test_only_a_clinician_is_offered_a_calendar_address(clinician, front_desk, clinic_admin):
    issue = "Issue a new address for my calendar app"
    assert issue in logged_in(clinician).get(AGENDA).content.decode()
    for user in (front_desk, clinic_admin):
        assert issue not in logged_in(user).get(AGENDA).content.decode()


def test_the_front_desk_cannot_issue_itself_a_calendar_address(front_desk):
    response = logged_in(front_desk).post(AGENDA, {"calendar": "issue"})
    assert response.status_code == 403
    assert not CalendarFeed.objects.exists()


def test_a_clinician_issues_a_calendar_address_from_the_agenda(clinician):
    response = logged_in(clinician).post(AGENDA, {"calendar": "issue"}, follow=True)
    assert "Your calendar address" in response.content.decode()
    assert CalendarFeed.objects.get().clinician == clinician


def change_form_data(follow_up: FollowUp, **changes: str) -> dict[str, str]:
    """The follow-up's change form as the page sends it back (status is shown, not sent)."""
    starts, ends = timezone.localtime(follow_up.starts_at), timezone.localtime(follow_up.ends_at)
    return {
        "patient": str(follow_up.patient_id),
        "course": str(follow_up.course_id or ""),
        "session": str(follow_up.session_id or ""),
        "kind": follow_up.kind,
        "starts_at_0": starts.date().isoformat(),
        "starts_at_1": starts.strftime("%H:%M"),
        "ends_at_0": ends.date().isoformat(),
        "ends_at_1": ends.strftime("%H:%M"),
        "clinician": str(follow_up.clinician_id),
        "notes": follow_up.notes,
        "_save": "Save",
    } | changes


@pytest.mark.parametrize("status", ["proposed", "scheduled", "confirmed"])
def test_a_booking_saved_with_new_notes_keeps_its_time_and_status(front_desk, status):
    follow_up = FollowUpFactory(status=status)
    url = reverse("admin:treatments_followup_change", args=[follow_up.pk])
    response = logged_in(front_desk).post(
        url, change_form_data(follow_up, notes="Bring the MRI report.")
    )
    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert (follow_up.notes, follow_up.status) == ("Bring the MRI report.", status)


def test_rescheduling_from_the_agenda_moves_the_booking(front_desk):
    follow_up = FollowUpFactory(starts_at=clinic_slot(4, 9), ends_at=clinic_slot(4, 9, 30))
    url = reverse("admin:treatments_followup_change", args=[follow_up.pk])
    later = {"starts_at_1": "11:00", "ends_at_1": "11:30"}
    response = logged_in(front_desk).post(url, change_form_data(follow_up, **later))
    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert timezone.localtime(follow_up.starts_at) == clinic_slot(4, 11)


def test_rescheduling_onto_a_colleagues_booking_is_refused_on_the_form(front_desk):
    taken = FollowUpFactory(starts_at=clinic_slot(4, 11), ends_at=clinic_slot(4, 11, 30))
    follow_up = FollowUpFactory(
        clinician=taken.clinician, starts_at=clinic_slot(4, 9), ends_at=clinic_slot(4, 9, 30)
    )
    url = reverse("admin:treatments_followup_change", args=[follow_up.pk])
    later = {"starts_at_1": "11:00", "ends_at_1": "11:30"}
    response = logged_in(front_desk).post(url, change_form_data(follow_up, **later))
    assert response.status_code == 200
    assert "is already booked from" in response.content.decode()
    follow_up.refresh_from_db()
    assert timezone.localtime(follow_up.starts_at) == clinic_slot(4, 9)
