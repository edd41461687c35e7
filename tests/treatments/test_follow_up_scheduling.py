"""The front desk's day: proposals from the clinic's rules, the agenda, free slots, moving a
booking through its day, overdue courses and the nightly no-show run."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from tests.factories import (
    ClinicianFactory,
    CourseFactory,
    FollowUpFactory,
    FollowUpRuleFactory,
    PatientFactory,
    SessionFactory,
    clinic_slot,
    earlier_today,
)
from treatments import services, tasks
from treatments.models import FollowUp, FollowUpRule
from treatments.selectors import clinic_day

URL = "/api/v1/follow-ups/"
pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(front_desk, api_for):
    return api_for(front_desk)


def complete_session(course, performed_at=None, **extra):
    """A session recorded as completed through the service every entry point uses."""
    extra.setdefault("clinician", ClinicianFactory())
    session = SessionFactory.build(patient=course.patient, course=course, status="planned", **extra)
    fields = {
        name: getattr(session, name)
        for name in ("patient", "course", "clinician", "status", "consent_obtained")
    }
    fields["performed_at"] = performed_at or earlier_today(minutes=60)
    fields["status"] = "completed"
    return services.session_create(fields=fields, injectates=[], sites=[])


def test_a_completed_session_proposes_the_check_and_the_next_injection():
    course = CourseFactory(planned_sessions=3, planned_interval_weeks=4)
    session = complete_session(course)
    proposals = {f.kind: f for f in session.follow_ups.all()}
    assert set(proposals) == {"post_injection_check", "next_injection"}
    assert {f.status for f in proposals.values()} == {"proposed"}
    day = timezone.localdate(session.performed_at)
    check, injection = proposals["post_injection_check"], proposals["next_injection"]
    assert timezone.localdate(check.starts_at) >= day + datetime.timedelta(days=14)
    assert timezone.localdate(check.starts_at) <= day + datetime.timedelta(days=17)  # weekend
    assert timezone.localdate(injection.starts_at) >= day + datetime.timedelta(weeks=4)
    assert check.ends_at - check.starts_at == datetime.timedelta(minutes=20)
    assert check.clinician_id == session.clinician_id and check.course_id == course.pk
    assert check.notes.startswith("Proposed follow-up, due ")  # no rule name: it may say PRP


def test_a_session_recorded_long_after_proposes_nothing_past():
    course = CourseFactory(planned_sessions=3, planned_interval_weeks=4)
    late = complete_session(course, performed_at=timezone.now() - datetime.timedelta(days=60))
    assert not late.follow_ups.exists()


def test_no_next_injection_once_the_planned_sessions_are_given():
    course = CourseFactory(planned_sessions=1)
    session = complete_session(course)
    assert list(session.follow_ups.values_list("kind", flat=True)) == ["post_injection_check"]


def test_rules_are_data_the_clinic_admin_changes():
    FollowUpRule.objects.update(active=False)
    FollowUpRuleFactory(name="Phone call after 3 days", kind="phone_call", days_after=3, minutes=10)
    FollowUpRuleFactory(name="Exosome review", kind="review", days_after=30, treatment="exosome")
    session = complete_session(CourseFactory(planned_treatment="prp"))
    proposal = session.follow_ups.get()
    assert proposal.kind == "phone_call"
    assert proposal.ends_at - proposal.starts_at == datetime.timedelta(minutes=10)


def test_proposals_are_made_once_and_skip_booked_time():
    course = CourseFactory()
    session = complete_session(course)
    proposed = list(session.follow_ups.order_by("id"))
    services.follow_ups_propose(session=session)  # saved again: nothing new
    assert list(session.follow_ups.order_by("id")) == proposed
    # A second patient's session the same day: the clinician's proposed times are not reused.
    other = complete_session(CourseFactory(), clinician=session.clinician)
    mine = {f.kind: f.starts_at for f in proposed}
    theirs = {f.kind: f.starts_at for f in other.follow_ups.all()}
    assert mine["post_injection_check"] != theirs["post_injection_check"]


def test_proposals_hold_no_time_until_booked(desk):
    proposal = complete_session(CourseFactory()).follow_ups.get(kind="post_injection_check")
    rival = {
        "patient": PatientFactory().pk,
        "clinician": proposal.clinician_id,
        "kind": "review",
        "starts_at": proposal.starts_at.isoformat(),
        "ends_at": proposal.ends_at.isoformat(),
    }
    assert desk.post(URL, rival).status_code == 201
    response = desk.post(f"{URL}{proposal.pk}/book/")
    assert response.status_code == 400
    assert "is already booked from" in response.json()["errors"]["starts_at"][0]
    moved = desk.post(
        f"{URL}{proposal.pk}/reschedule/",
        {"starts_at": (proposal.starts_at + datetime.timedelta(hours=1)).isoformat()},
    )
    assert moved.status_code == 200, moved.json()
    assert moved.json()["status"] == "scheduled"


def test_agenda_lists_the_day_per_clinician(desk):
    day = clinic_slot(days_ahead=4).date()
    first, second = ClinicianFactory(), ClinicianFactory()
    late = FollowUpFactory(
        clinician=first, starts_at=clinic_slot(4, 15), ends_at=clinic_slot(4, 16)
    )
    early = FollowUpFactory(
        clinician=first, starts_at=clinic_slot(4, 9), ends_at=clinic_slot(4, 10)
    )
    theirs = FollowUpFactory(
        clinician=second, starts_at=clinic_slot(4, 9), ends_at=clinic_slot(4, 10)
    )
    FollowUpFactory(
        clinician=first,
        starts_at=clinic_slot(4, 11),
        ends_at=clinic_slot(4, 12),
        status="cancelled",
    )
    FollowUpFactory(clinician=first, starts_at=clinic_slot(5, 9), ends_at=clinic_slot(5, 10))

    everyone = desk.get(f"{URL}agenda/", {"date": day.isoformat()})
    assert everyone.status_code == 200
    assert {row["id"] for row in everyone.json()} == {early.pk, late.pk, theirs.pk}
    mine = desk.get(f"{URL}agenda/", {"date": day.isoformat(), "clinician": first.pk}).json()
    assert [row["id"] for row in mine] == [early.pk, late.pk]
    assert mine[0]["patient_name"] == str(early.patient)


def test_free_slots_leave_out_booked_and_closed_time(desk):
    clinician = ClinicianFactory()
    FollowUpFactory(clinician=clinician, starts_at=clinic_slot(4, 9), ends_at=clinic_slot(4, 10))
    FollowUpFactory(
        clinician=clinician, starts_at=clinic_slot(4, 10, 45), ends_at=clinic_slot(4, 11, 15)
    )
    day = clinic_slot(days_ahead=4).date()
    response = desk.get(
        f"{URL}free-slots/", {"clinician": clinician.pk, "date": day.isoformat(), "minutes": 30}
    )
    assert response.status_code == 200
    starts = [
        timezone.localtime(datetime.datetime.fromisoformat(s["starts_at"])) for s in response.json()
    ]
    times = [f"{moment:%H:%M}" for moment in starts]
    assert times[:4] == ["08:00", "08:30", "10:00", "11:15"]
    assert times[-1] == "17:15" and "09:00" not in times and "10:30" not in times


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"date": "tomorrow"}, "date"),
        ({"clinician": "999999", "date": "2026-12-01"}, "clinician"),
        ({"date": "2026-12-01"}, "clinician"),
        ({"clinician": "1", "minutes": "0"}, "minutes"),
    ],
)
def test_bad_agenda_and_slot_queries_name_the_field(desk, front_desk, query, field):
    url = f"{URL}agenda/" if "minutes" not in query and field == "date" else f"{URL}free-slots/"
    response = desk.get(url, query)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_a_booking_moves_through_its_day(desk):
    starts = earlier_today(minutes=1).replace(second=0, microsecond=0)  # check-in is on the day
    follow_up = FollowUpFactory.build(
        starts_at=starts, ends_at=starts + datetime.timedelta(minutes=5)
    )
    follow_up.patient.save()
    follow_up.clinician = ClinicianFactory()  # saved, in the Clinician group
    FollowUp.objects.bulk_create([follow_up])  # today, whatever the clinic hours
    assert desk.post(f"{URL}{follow_up.pk}/confirm/").json()["status"] == "confirmed"
    assert desk.post(f"{URL}{follow_up.pk}/check-in/").json()["status"] == "checked_in"
    refused = desk.post(f"{URL}{follow_up.pk}/no-show/")
    assert refused.status_code == 400
    assert refused.json()["errors"]["status"] == ["A checked in follow-up cannot become no-show."]
    assert desk.post(f"{URL}{follow_up.pk}/complete/").json()["status"] == "completed"


def test_check_in_is_on_the_day_and_no_show_after_the_start(desk):
    follow_up = FollowUpFactory(starts_at=clinic_slot(3, 10), ends_at=clinic_slot(3, 11))
    check_in = desk.post(f"{URL}{follow_up.pk}/check-in/")
    assert check_in.json()["errors"]["status"] == ["Check in on the day of the appointment."]
    no_show = desk.post(f"{URL}{follow_up.pk}/no-show/")
    assert no_show.json()["errors"]["status"] == [
        "A follow-up becomes a no-show only after its start time."
    ]
    follow_up.refresh_from_db()
    assert follow_up.status == "scheduled"


def test_reschedule_refuses_a_clash_and_a_closed_day(desk):
    clinician = ClinicianFactory()
    taken = FollowUpFactory(
        clinician=clinician, starts_at=clinic_slot(4, 9), ends_at=clinic_slot(4, 10)
    )
    follow_up = FollowUpFactory(
        clinician=clinician, starts_at=clinic_slot(4, 14), ends_at=clinic_slot(4, 15)
    )
    clash = desk.post(
        f"{URL}{follow_up.pk}/reschedule/", {"starts_at": clinic_slot(4, 9, 30).isoformat()}
    )
    assert clash.status_code == 400
    assert f"follow-up {taken.pk}" in clash.json()["errors"]["starts_at"][0]
    bad = desk.post(f"{URL}{follow_up.pk}/reschedule/", {"starts_at": "soon"})
    assert bad.status_code == 400 and "starts_at" in bad.json()["errors"]
    follow_up.refresh_from_db()
    assert follow_up.starts_at == clinic_slot(4, 14)


def test_overdue_courses_are_listed_until_the_next_session_is_booked(desk):
    overdue = CourseFactory(planned_sessions=3, planned_interval_weeks=2)
    complete_session(overdue, performed_at=timezone.now() - datetime.timedelta(days=20))
    on_time = CourseFactory(planned_sessions=3, planned_interval_weeks=4)
    complete_session(on_time, performed_at=timezone.now() - datetime.timedelta(days=20))
    finished = CourseFactory(planned_sessions=1, planned_interval_weeks=1)
    complete_session(finished, performed_at=timezone.now() - datetime.timedelta(days=20))
    FollowUp.objects.filter(course__in=[overdue, on_time, finished]).update(status="cancelled")

    response = desk.get("/api/v1/courses/overdue/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [overdue.pk]
    assert rows[0]["sessions_done"] == 1
    assert rows[0]["next_due"] == (timezone.localdate() - datetime.timedelta(days=6)).isoformat()
    assert "planned_treatment" not in rows[0]  # the front desk's view of a course

    FollowUpFactory(patient=overdue.patient, course=overdue, kind="next_injection")
    assert desk.get("/api/v1/courses/overdue/").json()["results"] == []


def test_nightly_run_marks_unattended_past_bookings_as_no_show():
    yesterday = FollowUpFactory.build(
        starts_at=timezone.now() - datetime.timedelta(days=1, hours=1),
        ends_at=timezone.now() - datetime.timedelta(days=1),
    )
    attended = FollowUpFactory.build(
        starts_at=timezone.now() - datetime.timedelta(days=2, hours=1),
        ends_at=timezone.now() - datetime.timedelta(days=2),
        status="checked_in",
    )
    for follow_up in (yesterday, attended):
        follow_up.patient.save()
        follow_up.clinician = ClinicianFactory()
    FollowUp.objects.bulk_create([yesterday, attended])
    # Beyond the three days whose reminders the run plans again, at any time of day.
    upcoming = FollowUpFactory(starts_at=clinic_slot(5, 10), ends_at=clinic_slot(5, 10, 30))

    assert tasks.nightly_follow_ups() == {"no_shows": 1, "replanned": 0, "overdue_courses": 0}
    statuses = dict(FollowUp.objects.values_list("pk", "status"))
    assert statuses == {
        yesterday.pk: "no_show",
        attended.pk: "checked_in",
        upcoming.pk: "scheduled",
    }


def test_status_changes_only_through_the_actions(desk):
    follow_up = FollowUpFactory()
    response = desk.patch(f"{URL}{follow_up.pk}/", {"status": "completed"})
    assert response.status_code == 400
    assert "check-in" in response.json()["errors"]["status"][0]
    assert desk.patch(f"{URL}{follow_up.pk}/", {"notes": "Wheelchair access"}).status_code == 200
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.notes) == ("scheduled", "Wheelchair access")


def test_dates_at_the_ends_of_the_calendar_are_field_errors(desk):
    follow_up = FollowUpFactory()
    for url, query, field in (
        (f"{URL}agenda/", {"date": "9999-12-31"}, "date"),
        (f"{URL}free-slots/", {"clinician": follow_up.clinician_id, "date": "0001-01-01"}, "date"),
        ("/api/v1/courses/overdue/", {"on": "9999-12-31"}, "on"),
    ):
        response = desk.get(url, query)
        assert response.status_code == 400 and field in response.json()["errors"], url
    moved = desk.post(f"{URL}{follow_up.pk}/reschedule/", {"starts_at": "9999-12-31T23:59:00Z"})
    assert moved.status_code == 400 and "starts_at" in moved.json()["errors"]


def test_a_new_follow_up_starts_proposed_scheduled_or_confirmed(desk):
    patient, clinician = PatientFactory(), ClinicianFactory()
    starts = clinic_slot(days_ahead=6, hour=10)
    body = {
        "patient": patient.pk,
        "clinician": clinician.pk,
        "kind": "review",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + datetime.timedelta(minutes=30)).isoformat(),
    }
    refused = desk.post(URL, body | {"status": "checked_in"})
    assert refused.status_code == 400 and "status" in refused.json()["errors"]
    assert desk.post(URL, body | {"status": "confirmed"}).status_code == 201


def test_two_rules_of_one_kind_each_propose_once():
    FollowUpRule.objects.update(active=False)
    six_weeks = FollowUpRuleFactory(name="Review at 6 weeks", kind="review", days_after=42)
    three_months = FollowUpRuleFactory(name="Review at 3 months", kind="review", days_after=90)
    session = complete_session(CourseFactory())
    assert sorted(session.follow_ups.values_list("rule", flat=True)) == sorted(
        [six_weeks.pk, three_months.pk]
    )
    assert services.follow_ups_propose(session=session) == []


def test_a_proposal_skips_days_fully_booked_to_the_next_free_time():
    FollowUpRule.objects.update(active=False)
    FollowUpRuleFactory(name="Phone call after 3 days", kind="phone_call", days_after=3, minutes=10)
    clinician = ClinicianFactory()
    due = timezone.localdate() + datetime.timedelta(days=3)
    open_days = [d for d in (due + datetime.timedelta(days=n) for n in range(10)) if clinic_day(d)]
    for full_day in open_days[:2]:  # every minute booked, in two bookings
        opens, closes = clinic_day(full_day)
        middle = opens + (closes - opens) / 2
        FollowUpFactory(clinician=clinician, starts_at=opens, ends_at=middle, status="scheduled")
        FollowUpFactory(clinician=clinician, starts_at=middle, ends_at=closes, status="scheduled")
    session = complete_session(CourseFactory(), clinician=clinician)
    proposal = session.follow_ups.get()
    assert proposal.starts_at == clinic_day(open_days[2])[0]
