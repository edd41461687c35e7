"""A course gets its invitations when it is recorded, planned again when its first session
moves, by the schedule of its treatment (data the clinic admin keeps), whatever writes the rows:
the database plans them."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from questionnaires import services
from questionnaires.models import Invitation, SchedulePoint
from tests.factories import ClinicianFactory, SessionFactory, clinic_slot
from tests.questionnaires.conftest import course_for, invitation_of
from treatments.models import InjectionSession, SessionStatus, TreatmentCourse

pytestmark = pytest.mark.django_db


def plan(course) -> dict[str, tuple[datetime.date, datetime.date]]:
    """Each time point's due day and closing day, in the clinic's time zone."""
    return {
        i.time_point: (timezone.localdate(i.due_at), timezone.localdate(i.closes_at))
        for i in Invitation.objects.filter(course=course).exclude(status="cancelled")
    }


def test_a_course_gets_baseline_and_follow_ups_to_24_months_after_its_first_injection():
    before = timezone.now()
    course = course_for(first_session_days=5)
    first = timezone.localdate(course.sessions.get().performed_at)
    planned = plan(course)
    assert list(planned) == ["baseline", "6w", "3m", "6m", "12m", "24m"]
    # The baseline is due at once and open until the end of the first injection's day.
    baseline = invitation_of(course, "baseline")
    assert before <= baseline.due_at <= timezone.now()
    assert planned["baseline"][1] == first + datetime.timedelta(days=1)
    days = {"6w": 42, "3m": 91, "6m": 182, "12m": 365, "24m": 730}
    for point, after in days.items():
        due = first + datetime.timedelta(days=after)
        assert planned[point] == (due, due + datetime.timedelta(days=28))
    # Sent in the morning, clinic time.
    assert timezone.localtime(invitation_of(course, "6w").due_at).hour == 10


def test_moving_the_first_session_moves_the_invitations_not_yet_sent():
    course = course_for(first_session_days=5)
    session = course.sessions.get()
    baseline_due = invitation_of(course, "baseline").due_at
    later = session.performed_at + datetime.timedelta(days=14)
    InjectionSession.objects.filter(pk=session.pk).update(
        performed_at=later, updated_at=timezone.now()
    )
    planned = plan(course)
    first = timezone.localdate(later)
    assert planned["6w"][0] == first + datetime.timedelta(days=42)
    assert planned["baseline"][1] == first + datetime.timedelta(days=1)
    assert invitation_of(course, "baseline").due_at == baseline_due  # asked already: kept


def test_an_earlier_session_added_becomes_the_first_one():
    course = course_for(first_session_days=10)
    SessionFactory(
        course=course,
        patient=course.patient,
        clinician=ClinicianFactory(),
        status=SessionStatus.PLANNED,
        performed_at=clinic_slot(3),
        pre_pain_score=None,
    )
    first = timezone.localdate(clinic_slot(3))
    assert plan(course)["3m"][0] == first + datetime.timedelta(days=91)


def test_a_cancelled_first_session_gives_way_to_the_next():
    course = course_for(first_session_days=3)
    second = SessionFactory(
        course=course,
        patient=course.patient,
        status=SessionStatus.PLANNED,
        performed_at=clinic_slot(8),
        pre_pain_score=None,
    )
    first = course.sessions.exclude(pk=second.pk).get()
    InjectionSession.objects.filter(pk=first.pk).update(
        status=SessionStatus.CANCELLED, updated_at=timezone.now()
    )
    assert plan(course)["6w"][0] == timezone.localdate(second.performed_at) + datetime.timedelta(
        days=42
    )


def test_time_points_already_closed_when_a_course_is_recorded_are_not_planned():
    # First injection 100 days ago: the baseline and 6 weeks have closed, 3 months is open.
    course = course_for(first_session_days=-100)
    assert list(plan(course)) == ["3m", "6m", "12m", "24m"]


def test_the_schedule_is_data_per_treatment():
    SchedulePoint.objects.filter(treatment="dextrose", time_point="24m").update(active=False)
    SchedulePoint.objects.filter(treatment="dextrose", time_point="6w").update(days_after=28)
    dextrose = course_for(treatment="dextrose", first_session_days=5)
    prp = course_for(treatment="prp", first_session_days=5)
    assert "24m" not in plan(dextrose) and "24m" in plan(prp)
    first = timezone.localdate(dextrose.sessions.get().performed_at)
    assert plan(dextrose)["6w"][0] == first + datetime.timedelta(days=28)


def test_changing_a_courses_treatment_follows_the_new_schedule():
    SchedulePoint.objects.filter(treatment="exosome", time_point="24m").update(active=False)
    course = course_for(treatment="prp", first_session_days=5)
    TreatmentCourse.objects.filter(pk=course.pk).update(
        planned_treatment="exosome", updated_at=timezone.now()
    )
    assert invitation_of(course, "24m").status == "cancelled"
    assert invitation_of(course, "24m").ended_reason


def test_a_schedule_change_applies_to_active_courses_when_asked():
    course = course_for(treatment="prp", first_session_days=5)
    SchedulePoint.objects.filter(treatment="prp", time_point="3m").update(days_after=100)
    assert services.schedule_apply(treatment="prp") >= 1
    first = timezone.localdate(course.sessions.get().performed_at)
    assert plan(course)["3m"][0] == first + datetime.timedelta(days=100)


def test_the_database_refuses_a_schedule_point_that_breaks_its_rules():
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        SchedulePoint.objects.create(treatment="prp", time_point="2w", days_after=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        SchedulePoint.objects.create(treatment="prp", time_point="date", days_after=5)
