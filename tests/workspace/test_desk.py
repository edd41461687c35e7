"""The front desk's day on the server: the grid shows the clinicians chosen (remembered, or those
working), their bookings with name, visit and status, and the free times; booking, moving,
cancelling and the waitlist go through the same services as the API, and a refusal changes
nothing and says why."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from recordkeeping.models import AccessLogEntry
from recordkeeping.roles import CLINIC_ADMIN, FRONT_DESK
from tests.conftest import token_for
from tests.factories import (
    ClinicianFactory,
    FollowUpFactory,
    PatientFactory,
    UserFactory,
    clinic_slot,
    earlier_today,
    open_day,
)
from tests.treatments.desk_factories import WaitlistEntryFactory
from treatments.models import FollowUp, WaitlistEntry
from workspace.desk import grid

pytestmark = pytest.mark.django_db
DESK = reverse("workspace:desk")


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def desk(front_desk) -> Client:
    return as_user(front_desk)


def htmx(client: Client, url: str, data: dict, page: str = DESK) -> str:
    """A write as the grid's script sends it (from the page at ``page``)."""
    answer = client.post(url, data, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=page)
    assert answer.status_code == 200, answer.content[:500]
    return answer.content.decode()


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def booking(clinician, start: datetime.datetime, minutes: int = 30, **fields) -> FollowUp:
    return FollowUpFactory(
        clinician=clinician,
        starts_at=start,
        ends_at=start + datetime.timedelta(minutes=minutes),
        **fields,
    )


def test_the_front_desk_lands_on_the_grid_of_the_day():
    user = UserFactory(role=FRONT_DESK)
    answer = Client().post(
        "/login/", {"username": user.username, "password": "correct horse battery"}
    )
    assert answer["Location"] == DESK
    page = as_user(user).get(DESK)
    assert page.status_code == 200
    assert timezone.localdate().strftime("%A") in page.content.decode()


def test_the_grid_shows_each_working_clinicians_bookings_with_name_visit_and_status(desk):
    day = open_day(3)
    hale = ClinicianFactory(first_name="Ada", last_name="Hale")
    ito = ClinicianFactory(first_name="Ken", last_name="Ito")
    ClinicianFactory(first_name="Noa", last_name="Idle")  # no booking that day
    booking(hale, at(day, 9), patient__family_name="Okafor", kind="review", status="confirmed")
    booking(ito, at(day, 10), patient__family_name="Lindqvist", kind="next_injection")
    booking(ito, at(day, 11), patient__family_name="Gone", status="cancelled")
    page = text_of(desk.get(DESK, {"date": day.isoformat()}).content.decode())
    assert "Ada Hale" in page and "Ken Ito" in page and "Noa Idle" not in page
    assert "Okafor, Maria 09:00 to 09:30 Confirmed Review" in page
    assert "Lindqvist, Maria 10:00 to 10:30 Scheduled Next injection" in page
    assert "Gone" not in page  # cancelled: behind the toggle
    shown = text_of(desk.get(DESK, {"date": day.isoformat(), "cancelled": "1"}).content.decode())
    assert "Gone, Maria 11:00 to 11:30 Cancelled Post-injection check" in shown


def test_the_clinicians_chosen_are_remembered_for_that_person(desk, front_desk):
    day = open_day(3)
    chosen, other = ClinicianFactory(last_name="Chosen"), ClinicianFactory(last_name="Other")
    booking(other, at(day, 9))
    answer = desk.post(reverse("workspace:desk-clinicians"), {"clinician": [chosen.pk]})
    assert answer.status_code == 302
    page = desk.get(DESK, {"date": day.isoformat()}).content.decode()
    assert "Sam Chosen" in page and "Sam Other" not in page
    # Another person's grid is their own.
    colleague = as_user(UserFactory(role=FRONT_DESK))
    theirs = colleague.get(DESK, {"date": day.isoformat()}).content.decode()
    assert "Sam Other" in theirs and "Sam Chosen" not in theirs


def test_choosing_a_non_clinician_is_refused_naming_the_field(desk):
    answer = desk.post(
        reverse("workspace:desk-clinicians"), {"clinician": [UserFactory(role=FRONT_DESK).pk]}
    )
    assert answer.status_code == 400
    assert "Choose active clinicians only." in answer.content.decode()


def test_free_times_are_offered_between_bookings_and_never_before_now(desk):
    day = open_day(3)
    clinician = ClinicianFactory()
    booking(clinician, at(day, 9), minutes=45)
    page = desk.get(DESK, {"date": day.isoformat(), "clinician": clinician.pk}).content.decode()
    free = re.findall(r'data-cell data-row="\d+" data-at="([\d:]+)"', page)
    assert free[:4] == ["08:00", "08:15", "08:30", "08:45"]
    assert "09:00" not in free and "09:30" not in free and "09:45" in free
    today = desk.get(DESK, {"date": timezone.localdate().isoformat(), "clinician": clinician.pk})
    now = timezone.localtime().strftime("%H:%M")
    offered = re.findall(r'data-at="([\d:]+)"', today.content.decode())
    assert all(time >= now for time in offered), (now, offered[:3])


def test_clinicians_read_the_grid_but_do_not_write_on_it(clinician):
    client = as_user(clinician)
    assert client.get(DESK).status_code == 200
    assert client.get(reverse("workspace:desk-week")).status_code == 200
    answer = client.post(reverse("workspace:desk-book"), {})
    assert answer.status_code == 403
    assert as_user(UserFactory(role=CLINIC_ADMIN)).get(DESK).status_code == 403
    assert Client().get(DESK)["Location"].startswith("/login/")


def test_booking_a_free_time_makes_the_booking_and_shows_it(desk):
    day = open_day(3)
    clinician = ClinicianFactory(first_name="Ada", last_name="Hale")
    patient = PatientFactory(given_name="Ines", family_name="Duarte")
    page = htmx(
        desk,
        reverse("workspace:desk-book"),
        {
            "clinician": clinician.pk,
            "starts_at": f"{day.isoformat()}T10:15",
            "patient": patient.pk,
            "kind": "review",
            "minutes": 45,
        },
        page=f"http://testserver{DESK}?date={day.isoformat()}&clinician={clinician.pk}",
    )
    made = FollowUp.objects.get(patient=patient)
    assert (made.clinician, made.status, made.kind) == (clinician, "scheduled", "review")
    assert timezone.localtime(made.starts_at) == at(day, 10, 15)
    assert made.ends_at - made.starts_at == datetime.timedelta(minutes=45)
    assert "Booked Ines Duarte: Review with Ada Hale" in text_of(page)
    assert "Duarte, Ines 10:15 to 11:00 Scheduled Review" in text_of(page)


def test_a_booking_over_another_is_refused_naming_it_and_nothing_is_saved(desk):
    day = open_day(3)
    clinician = ClinicianFactory()
    booking(clinician, at(day, 10), patient__given_name="Ines", patient__family_name="Duarte")
    answer = desk.post(
        reverse("workspace:desk-book"),
        {
            "clinician": clinician.pk,
            "starts_at": f"{day.isoformat()}T10:15",
            "patient": PatientFactory().pk,
            "kind": "review",
            "minutes": 30,
        },
        HTTP_HX_REQUEST="true",
    )
    dialog = text_of(answer.content.decode())
    name = clinician.get_full_name()
    assert (
        f"{name} is already booked from 10:00 to 10:30 with Ines Duarte (post-injection" in dialog
    )
    assert FollowUp.objects.count() == 1


def test_a_booking_without_a_patient_names_the_field(desk):
    answer = desk.post(
        reverse("workspace:desk-book"),
        {"clinician": ClinicianFactory().pk, "starts_at": "2026-13-40T99:00", "kind": "review"},
        HTTP_HX_REQUEST="true",
    )
    dialog = text_of(answer.content.decode())
    assert "Patient: Choose the patient" in dialog and "Starts at:" in dialog
    assert not FollowUp.objects.exists()


def test_a_move_onto_another_booking_is_refused_naming_it_and_nothing_changes(desk):
    day = open_day(3)
    clinician = ClinicianFactory(first_name="Ada", last_name="Hale")
    moving = booking(clinician, at(day, 9), patient__family_name="Mover")
    other = booking(clinician, at(day, 10), patient__family_name="Sitter")
    page = htmx(
        desk,
        reverse("workspace:desk-move", args=[moving.pk]),
        {"starts_at": f"{day.isoformat()}T10:15", "clinician": clinician.pk},
    )
    said = text_of(page)
    assert "Not moved: Ada Hale is already booked from 10:00 to 10:30 with Maria Sitter" in said
    assert f"Maria Mover stays {day:%a} {day.day} {day:%b} at 09:00." in said
    moving.refresh_from_db()
    assert timezone.localtime(moving.starts_at) == at(day, 9)
    other.refresh_from_db()
    assert timezone.localtime(other.starts_at) == at(day, 10)


def test_a_proposal_placed_on_another_booking_stays_on_the_list_to_book(desk):
    day = open_day(3)
    clinician = ClinicianFactory(first_name="Ada", last_name="Hale")
    proposal = booking(clinician, at(day, 9), status="proposed", patient__family_name="Waits")
    booking(clinician, at(day, 11), patient__family_name="Sitter")
    said = text_of(
        htmx(
            desk,
            reverse("workspace:desk-move", args=[proposal.pk]),
            {"starts_at": f"{day.isoformat()}T11:00", "clinician": clinician.pk},
        )
    )
    assert "Not booked: Ada Hale is already booked from 11:00 to 11:30 with Maria Sitter" in said
    assert "Maria Waits stays on the list to book." in said
    proposal.refresh_from_db()
    assert proposal.status == "proposed" and timezone.localtime(proposal.starts_at) == at(day, 9)


def test_a_move_outside_clinic_hours_is_refused_and_nothing_changes(desk):
    day = open_day(3)
    moving = booking(ClinicianFactory(), at(day, 9))
    page = htmx(
        desk,
        reverse("workspace:desk-move", args=[moving.pk]),
        {"starts_at": f"{day.isoformat()}T17:45", "clinician": moving.clinician_id},
    )
    assert "Bookings must fall within clinic hours, 08:00 to 18:00." in text_of(page)
    moving.refresh_from_db()
    assert timezone.localtime(moving.starts_at) == at(day, 9)


def test_a_move_to_another_clinician_and_time_uses_the_reschedule_rules(desk):
    day = open_day(3)
    moving = booking(ClinicianFactory(), at(day, 9), status="confirmed")
    other = ClinicianFactory(first_name="Ken", last_name="Ito")
    page = htmx(
        desk,
        reverse("workspace:desk-move", args=[moving.pk]),
        {"starts_at": f"{day.isoformat()}T11:30", "clinician": other.pk},
    )
    moving.refresh_from_db()
    assert (moving.clinician, moving.status) == (other, "scheduled")  # waits for confirmation
    assert timezone.localtime(moving.starts_at) == at(day, 11, 30)
    assert "with Ken Ito" in text_of(page)


def test_the_time_a_move_frees_offers_the_waitlist_and_one_click_books_the_first(desk):
    day = open_day(3)
    clinician = ClinicianFactory()
    moving = booking(clinician, at(day, 9))
    first = WaitlistEntryFactory(patient__family_name="Early", minutes=20)
    WaitlistEntryFactory(patient__family_name="Later")
    WaitlistEntryFactory(patient__family_name="TooLong", minutes=60)
    WaitlistEntryFactory(patient__family_name="OtherDoc", clinician=ClinicianFactory())
    page = text_of(
        htmx(
            desk,
            reverse("workspace:desk-move", args=[moving.pk]),
            {"starts_at": f"{day.isoformat()}T14:00", "clinician": clinician.pk},
        )
    )
    assert "suits 2 on the waitlist" in page and "Book Maria Early (review, 20 min)" in page
    page = text_of(
        htmx(
            desk,
            reverse("workspace:desk-waitlist-book", args=[first.pk]),
            {"starts_at": f"{day.isoformat()}T09:00", "clinician": clinician.pk},
        )
    )
    first.refresh_from_db()
    assert first.status == "booked" and first.follow_up.patient == first.patient
    assert timezone.localtime(first.follow_up.starts_at) == at(day, 9)
    assert first.follow_up.ends_at - first.follow_up.starts_at == datetime.timedelta(minutes=20)
    assert "Booked Maria Early from the waitlist" in page


def test_a_freed_time_taken_meanwhile_is_not_booked_from_the_waitlist_and_names_who_took_it(
    desk, front_desk
):
    day = open_day(3)
    clinician = ClinicianFactory(first_name="Ada", last_name="Hale")
    taker = booking(clinician, at(day, 11), patient__family_name="Taker")
    entry = WaitlistEntryFactory(patient__family_name="Waiting", clinician=clinician)
    said = text_of(
        htmx(
            desk,
            reverse("workspace:desk-waitlist-book", args=[entry.pk]),
            {"clinician": clinician.pk, "starts_at": f"{day.isoformat()}T11:00"},
        )
    )
    assert "Not booked: Ada Hale is already booked from 11:00 to 11:30 with Maria Taker" in said
    entry.refresh_from_db()
    assert entry.status == "waiting" and entry.follow_up is None
    named = AccessLogEntry.objects.get(action="workspace.desk.in_the_way")
    assert named.user == front_desk and taker.patient_id in named.patient_ids


def test_a_cancelled_booking_leaves_a_freed_time_on_the_grid_for_the_waitlist(desk):
    day = open_day(3)
    clinician = ClinicianFactory()
    gone = booking(clinician, at(day, 11))
    WaitlistEntryFactory(patient__family_name="Waiting", clinician=clinician)
    page = text_of(
        htmx(
            desk,
            reverse("workspace:desk-status", args=[gone.pk]),
            {"to": "cancelled", "reason": "The patient phoned: unwell."},
            page=f"http://testserver{DESK}?date={day.isoformat()}&clinician={clinician.pk}",
        )
    )
    gone.refresh_from_db()
    assert (gone.status, gone.cancel_reason) == ("cancelled", "The patient phoned: unwell.")
    assert gone.cancelled_at is not None
    assert "Freed 11:00: 1 waiting" in page and "Book M. Waiting" in page


def test_cancelling_needs_a_reason_and_nothing_changes_without_one(desk):
    follow_up = FollowUpFactory()
    answer = desk.post(
        reverse("workspace:desk-status", args=[follow_up.pk]),
        {"to": "cancelled", "reason": " "},
        HTTP_HX_REQUEST="true",
    )
    assert "Say why the follow-up is cancelled." in answer.content.decode()
    follow_up.refresh_from_db()
    assert follow_up.status == "scheduled"


def test_a_booking_offers_check_in_on_its_day_and_no_show_only_after_its_start(desk):
    later = FollowUpFactory(starts_at=clinic_slot(3, 10), ends_at=clinic_slot(3, 10, 30))
    dialog = desk.get(reverse("workspace:desk-follow-up", args=[later.pk])).content.decode()
    assert 'data-action="confirmed"' in dialog and 'data-action="cancel"' in dialog
    assert 'data-action="no_show"' not in dialog and 'data-action="checked_in"' not in dialog
    refused = desk.post(
        reverse("workspace:desk-status", args=[later.pk]),
        {"to": "no_show"},
        HTTP_HX_REQUEST="true",
    )
    assert "only after its start time" in refused.content.decode()
    later.refresh_from_db()
    assert later.status == "scheduled"


def test_a_booking_that_started_today_offers_check_in_and_no_show_and_checks_in(desk):
    started = earlier_today(minutes=20)
    today = FollowUpFactory(starts_at=started, ends_at=started + datetime.timedelta(minutes=30))
    dialog = desk.get(reverse("workspace:desk-follow-up", args=[today.pk])).content.decode()
    assert 'data-action="checked_in"' in dialog and 'data-action="no_show"' in dialog
    page = htmx(desk, reverse("workspace:desk-status", args=[today.pk]), {"to": "checked_in"})
    assert f"Checked in: Maria {today.patient.family_name}" in text_of(page)
    today.refresh_from_db()
    assert today.status == "checked_in"


def test_a_proposal_is_listed_to_book_and_booked_where_it_is_placed(desk):
    day = open_day(4)
    clinician = ClinicianFactory()
    proposal = booking(
        clinician,
        at(day, 9),
        minutes=20,
        status="proposed",
        patient__family_name="Proposed",
        due_on=day,
    )
    page = text_of(desk.get(DESK).content.decode())
    assert f"Proposed, Maria Post-injection check · Sam {clinician.last_name}" in page
    assert f"Due {day:%a} {day.day} {day:%b}" in page
    placed = text_of(
        htmx(
            desk,
            reverse("workspace:desk-move", args=[proposal.pk]),
            {"starts_at": f"{day.isoformat()}T13:45", "clinician": clinician.pk},
        )
    )
    proposal.refresh_from_db()
    assert proposal.status == "scheduled"
    assert timezone.localtime(proposal.starts_at) == at(day, 13, 45)
    assert proposal.ends_at - proposal.starts_at == datetime.timedelta(minutes=20)
    assert "Booked Maria Proposed" in placed


def test_a_clinicians_week_shows_a_column_per_clinic_day(desk):
    clinician = ClinicianFactory(first_name="Ada", last_name="Hale")
    day = open_day(3)
    booking(clinician, at(day, 9), patient__family_name="Weekly")
    page = text_of(
        desk.get(
            reverse("workspace:desk-week"), {"clinician": clinician.pk, "date": day.isoformat()}
        ).content.decode()
    )
    assert "Ada Hale, week of" in page and "Weekly, Maria" in page
    monday = day - datetime.timedelta(days=day.weekday())
    for offset in range(5):
        shown = monday + datetime.timedelta(days=offset)
        assert f"{shown:%a} {shown.day} {shown:%b}" in page


def test_a_day_that_is_not_a_date_is_today_and_an_unknown_clinician_is_left_out(desk):
    answer = desk.get(DESK, {"date": "31/02/2026", "clinician": ["x", "99999"]})
    assert answer.status_code == 200
    assert timezone.localdate().strftime("%A") in answer.content.decode()


def test_the_grid_is_not_read_with_an_api_token(front_desk):
    answer = Client().get(DESK, HTTP_AUTHORIZATION=f"Token {token_for(front_desk)}")
    assert answer.status_code == 302 and answer["Location"].startswith("/login/")


def test_reading_the_grid_is_logged_with_the_patients_shown(desk, front_desk):
    day = open_day(3)
    shown = booking(ClinicianFactory(), at(day, 9))
    desk.get(DESK, {"date": day.isoformat()})
    entry = AccessLogEntry.objects.filter(action="workspace.desk.day").latest("at")
    assert entry.user == front_desk and shown.patient_id in entry.patient_ids


@pytest.mark.parametrize("per_clinician", [1, 8])
def test_the_grid_reads_in_the_same_queries_however_many_bookings(desk, per_clinician):
    day = open_day(3)
    clinicians = [ClinicianFactory() for _ in range(4)]
    for clinician in clinicians:
        for n in range(per_clinician):
            booking(clinician, at(day, 8 + n))
        WaitlistEntryFactory(clinician=clinician)
    booking(clinicians[0], at(day, 17), status="cancelled")
    ids = [c.pk for c in clinicians]
    with CaptureQueriesContext(connection) as queries:
        answer = desk.get(DESK, {"date": day.isoformat(), "clinician": ids})
    assert answer.status_code == 200
    assert len(queries) <= 12, [q["sql"][:120] for q in queries]


def test_the_waitlist_takes_a_patient_and_refuses_dates_out_of_order(desk):
    patient = PatientFactory(family_name="Patient")
    url = reverse("workspace:desk-waitlist")
    today = timezone.localdate()
    refused = desk.post(
        url,
        {
            "patient": patient.pk,
            "kind": "review",
            "minutes": 30,
            "earliest": today + datetime.timedelta(days=5),
            "latest": today,
        },
    )
    assert refused.status_code == 400
    assert "The last day cannot be before the first." in refused.content.decode()
    assert not WaitlistEntry.objects.exists()
    added = desk.post(
        url,
        {
            "patient": patient.pk,
            "kind": "review",
            "minutes": 30,
            "earliest": today,
            "latest": today + datetime.timedelta(days=5),
        },
        follow=True,
    )
    assert "Maria Patient is on the waitlist." in added.content.decode()
    entry = WaitlistEntry.objects.get()
    assert entry.clinician is None and entry.status == "waiting"
    taken_off = desk.post(reverse("workspace:desk-waitlist-withdraw", args=[entry.pk]), follow=True)
    assert "is off the waitlist" in taken_off.content.decode()
    entry.refresh_from_db()
    assert entry.status == "withdrawn"


def test_clinicians_read_the_waitlist_but_do_not_add_to_it(clinician):
    client = as_user(clinician)
    assert client.get(reverse("workspace:desk-waitlist")).status_code == 200
    assert client.post(reverse("workspace:desk-waitlist"), {}).status_code == 403


def test_the_time_now_is_marked_on_the_days_column_and_earlier_times_are_not_offered():
    day, following = open_day(3), open_day(4)
    clinician = ClinicianFactory()
    built = grid.build(
        pairs=[(clinician, day, "that day"), (clinician, following, "the next")],
        bookings=[],
        waiting=[],
        now=at(day, 10, 30),
        show_cancelled=False,
    )
    that_day, the_next = built.columns
    assert that_day.now_top == 10  # 08:00 to 10:30: ten rows of 15 minutes
    assert that_day.cells[0] == (10, "10:30")
    assert the_next.now_top is None and the_next.cells[0] == (0, "08:00")
    after_hours = grid.build(
        pairs=[(clinician, day, "that day")],
        bookings=[],
        waiting=[],
        now=at(day, 18, 30),
        show_cancelled=False,
    )
    assert after_hours.columns[0].now_top is None and after_hours.columns[0].cells == []
