"""Paging as the schema describes it: every paginated list takes ``cursor`` and ``page_size``
(1 to 200), and a list answered whole is described as a plain array."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from tests.factories import CourseFactory, SessionFactory
from treatments.models import FollowUp

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client):
    return client.get("/api/schema/", {"format": "json"}).json()


def overdue_course():
    course = CourseFactory(planned_sessions=3, planned_interval_weeks=2)
    SessionFactory(
        patient=course.patient,
        course=course,
        status="completed",
        performed_at=timezone.now() - datetime.timedelta(days=20),
    )
    return course


def test_overdue_courses_come_in_pages_of_the_size_asked_for(api):
    courses = [overdue_course() for _ in range(3)]
    FollowUp.objects.update(status="cancelled")  # nothing booked for any of them

    first = api.get("/api/v1/courses/overdue/", {"page_size": "2"})
    assert first.status_code == 200, first.content
    assert len(first.json()["results"]) == 2
    rest = api.get(first.json()["next"])
    assert rest.status_code == 200, rest.content
    seen = [row["id"] for row in first.json()["results"] + rest.json()["results"]]
    assert sorted(seen) == sorted(course.pk for course in courses)


def test_overdue_courses_still_refuse_an_unknown_parameter_by_name(api):
    response = api.get("/api/v1/courses/overdue/", {"page_size": "2", "colour": "red"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"colour": ["Unknown field."]}


def test_overdue_courses_refuse_a_page_size_out_of_bounds(api):
    response = api.get("/api/v1/courses/overdue/", {"page_size": "0"})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["page_size"]


def test_course_responses_are_a_whole_list_as_the_schema_says(api, schema):
    course = CourseFactory()
    response = api.get(f"/api/v1/courses/{course.pk}/responses/", {"status": "stopped"})
    assert response.status_code == 200
    assert response.json() == []  # a plain list, whatever list filters are sent
    operation = schema["paths"]["/api/v1/courses/{id}/responses/"]["get"]
    declared = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert declared == {"type": "array", "items": {"$ref": "#/components/schemas/CourseResponse"}}
    assert not [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]


def test_every_page_size_parameter_is_declared_from_1_to_200(schema):
    declared = {
        (path, method): parameter["schema"]
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        for parameter in operation.get("parameters", [])
        if parameter["name"] == "page_size"
    }
    assert ("/api/v1/courses/overdue/", "get") in declared
    assert ("/api/v1/patients/", "get") in declared
    for where, bounds in declared.items():
        assert (bounds["minimum"], bounds["maximum"]) == (1, 200), where
