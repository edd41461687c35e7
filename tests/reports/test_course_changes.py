"""The course changes the outcomes reports read are kept by the database as scores and sessions
are written (clinic.models.CourseChange, migration clinic 0005)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from patients.models import OutcomeScore
from reports.apps import keep_time_zone
from reports.models import CourseChange
from tests.factories import CourseFactory, OutcomeScoreFactory, SessionFactory
from treatments.models import InjectionSession

pytestmark = pytest.mark.django_db
D = datetime.date
COLUMNS = (
    "course_id, patient_id, instrument, time_point, baseline, baseline_on, score, measured_on, "
    "change, improvement"
)


def stored(course) -> dict[tuple[str, str], tuple]:
    return {
        (row.instrument, row.time_point): (row.change, row.measured_on)
        for row in CourseChange.objects.filter(course=course)
    }


def at(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(10), tzinfo=datetime.UTC)


@pytest.fixture
def course():
    course = CourseFactory(start_date=D(2025, 3, 3))
    for time_point, value, day in (("baseline", 8, D(2025, 3, 3)), ("6w", 5, D(2025, 4, 14))):
        OutcomeScoreFactory(
            patient=course.patient,
            course=course,
            instrument="nprs",
            time_point=time_point,
            score=Decimal(value),
            measured_on=day,
        )
    return course


def test_a_score_written_changes_its_course_at_once(course):
    assert stored(course) == {("nprs", "6w"): (Decimal("-3.0"), D(2025, 4, 14))}
    OutcomeScoreFactory(
        patient=course.patient,
        course=course,
        instrument="nprs",
        time_point="date",
        score=Decimal("4"),
        measured_on=D(2025, 6, 2),  # 91 days: 3 months
    )
    OutcomeScore.objects.filter(course=course, time_point="6w").update(score=Decimal("7"))
    assert stored(course) == {
        ("nprs", "6w"): (Decimal("-1.0"), D(2025, 4, 14)),
        ("nprs", "3m"): (Decimal("-4.0"), D(2025, 6, 2)),
    }


def test_the_course_and_condition_filters_follow_their_records(course):
    course.planned_treatment = "dextrose"
    course.save()
    course.condition.body_region = "hip"
    course.condition.save()
    assert list(CourseChange.objects.values_list("treatment", "body_region")) == [
        ("dextrose", "hip")
    ]


def test_session_pain_scores_count_once_the_session_is_completed():
    course = CourseFactory(start_date=D(2025, 3, 3))
    first = SessionFactory(
        patient=course.patient, course=course, performed_at=at(D(2025, 3, 3)), pre_pain_score=7
    )
    later = SessionFactory(
        patient=course.patient,
        course=course,
        clinician=first.clinician,
        performed_at=at(D(2025, 4, 14)),
        pre_pain_score=4,
        status="planned",
    )
    assert stored(course) == {}
    InjectionSession.objects.filter(pk=later.pk).update(status="completed")
    assert stored(course) == {("nprs", "6w"): (Decimal("-3.0"), D(2025, 4, 14))}
    # Moved to another course: both courses are worked out again.
    other = CourseFactory(patient=course.patient, start_date=D(2025, 3, 3))
    InjectionSession.objects.filter(pk=later.pk).update(course=other)
    assert stored(course) == {} and stored(other) == {}


def test_the_clinic_time_zone_dates_session_readings(settings):
    course = CourseFactory(start_date=D(2025, 3, 3))
    for day, pain in ((D(2025, 3, 3), 7), (D(2025, 4, 14), 4)):
        SessionFactory(
            patient=course.patient, course=course, performed_at=at(day), pre_pain_score=pain
        )
    assert stored(course)[("nprs", "6w")][1] == D(2025, 4, 14)
    settings.TIME_ZONE = "Pacific/Kiritimati"  # UTC+14: 10:00 UTC is the next day there
    keep_time_zone(sender=None)
    assert stored(course)[("nprs", "6w")][1] == D(2025, 4, 15)


def test_stored_changes_equal_the_view_after_a_clinic_history():
    call_command("seed_demo", patients=40, seed=5, verbosity=0)
    every_third = OutcomeScore.objects.values_list("pk", flat=True)[::3]
    OutcomeScore.objects.filter(pk__in=every_third).update(score=Decimal("3"))
    InjectionSession.objects.filter(
        status="completed", pre_pain_score__gt=5, signed_at__isnull=True
    ).update(pre_pain_score=2)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM clinic_coursechange")
        assert cursor.fetchone()[0] > 40
        for first, second in (
            ("clinic_course_changes", "clinic_coursechange"),
            ("clinic_coursechange", "clinic_course_changes"),
        ):
            cursor.execute(
                f"SELECT {COLUMNS} FROM {first} EXCEPT SELECT {COLUMNS} FROM {second}"  # noqa: S608
            )
            assert cursor.fetchall() == []
