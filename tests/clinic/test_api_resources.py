"""Every resource: create, read, update, field errors, 401, 404, no delete, ETags."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from patients.models import Patient
from recordkeeping.api.errors import api_exception_handler
from tests.factories import (
    ConditionFactory,
    CourseFactory,
    FollowUpFactory,
    OutcomeScoreFactory,
    PatientFactory,
    SessionFactory,
    SideEffectFactory,
    clinic_slot,
)
from treatments.models import InjectionSession

pytestmark = pytest.mark.django_db


@dataclass
class Resource:
    path: str
    factory: Callable[..., Any]
    payload: Callable[[Any], dict[str, Any]]  # a valid new record, given the request's user
    change: tuple[str, Any]  # a valid update
    invalid: tuple[str, Any]  # a field and a value it refuses


def patient_payload(user):
    return {"given_name": "Ines", "family_name": "Duarte", "birth_date": "1971-02-03"}


def condition_payload(user):
    return {
        "patient": PatientFactory().pk,
        "icd10_code": "M77.1",
        "label": "Lateral epicondylitis",
        "body_region": "elbow",
        "laterality": "left",
    }


def course_payload(user):
    condition = ConditionFactory()
    return {
        "patient": condition.patient_id,
        "condition": condition.pk,
        "planned_treatment": "prp_dextrose",
        "planned_sessions": 4,
        "planned_interval_weeks": 4,
        "start_date": timezone.localdate().isoformat(),
    }


def session_payload(user):
    return {
        "patient": PatientFactory().pk,
        "clinician": user.pk,
        "performed_at": (timezone.now() + datetime.timedelta(days=2)).isoformat(),
        "status": "planned",
    }


def side_effect_payload(user):
    session = SessionFactory()
    return {
        "session": session.pk,
        "kind": "swelling",
        "grade": 2,
        "onset_date": timezone.localdate().isoformat(),
        "relatedness": "probable",
        "outcome": "recovering",
        "reported_by": "patient",
    }


def follow_up_payload(user):
    starts = clinic_slot(days_ahead=40, hour=11)
    return {
        "patient": PatientFactory().pk,
        "clinician": user.pk,
        "kind": "review",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + datetime.timedelta(minutes=20)).isoformat(),
    }


def outcome_payload(user):
    course = CourseFactory()
    return {
        "patient": course.patient_id,
        "course": course.pk,
        "instrument": "koos_pain",
        "score": "55",
        "time_point": "baseline",
        "measured_on": timezone.localdate().isoformat(),
    }


RESOURCES = {
    "patients": Resource(
        "/api/v1/patients/",
        PatientFactory,
        patient_payload,
        ("phone", "+15551234567"),
        ("phone", "555-1234"),
    ),
    "conditions": Resource(
        "/api/v1/conditions/",
        ConditionFactory,
        condition_payload,
        ("status", "resolved"),
        ("icd10_code", "knee pain"),
    ),
    "courses": Resource(
        "/api/v1/courses/",
        CourseFactory,
        course_payload,
        ("planned_sessions", 5),
        ("planned_interval_weeks", 60),
    ),
    "sessions": Resource(
        "/api/v1/sessions/",
        SessionFactory,
        session_payload,
        ("notes", "Calm."),
        ("pre_pain_score", 12),
    ),
    "side-effects": Resource(
        "/api/v1/side-effects/",
        SideEffectFactory,
        side_effect_payload,
        ("grade", 2),
        ("grade", 7),
    ),
    "follow-ups": Resource(
        "/api/v1/follow-ups/",
        FollowUpFactory,
        follow_up_payload,
        ("notes", "Needs wheelchair access"),
        ("kind", "visit"),
    ),
    "outcomes": Resource(
        "/api/v1/outcomes/",
        OutcomeScoreFactory,
        outcome_payload,
        ("score", "4.0"),
        ("score", "101"),
    ),
}
NAMES = list(RESOURCES)


@pytest.mark.parametrize("name", NAMES)
def test_create_read_update(api, clinician, name):
    resource = RESOURCES[name]
    created = api.post(resource.path, resource.payload(clinician), format="json")
    assert created.status_code == 201, created.json()
    url = f"{resource.path}{created.json()['id']}/"
    read = api.get(url)
    assert read.status_code == 200
    assert read.json() == created.json()
    assert read["ETag"] == created["ETag"]
    field, value = resource.change
    updated = api.patch(url, {field: value}, format="json", HTTP_IF_MATCH=read["ETag"])
    assert updated.status_code == 200, updated.json()
    assert str(updated.json()[field]).rstrip("0").rstrip(".") == str(value).rstrip("0").rstrip(".")
    assert updated["ETag"] != read["ETag"]
    assert api.get(url).json()[field] == updated.json()[field]


@pytest.mark.parametrize("name", NAMES)
def test_invalid_value_is_refused_naming_the_field(api, clinician, name):
    resource = RESOURCES[name]
    field, value = resource.invalid
    response = api.post(resource.path, resource.payload(clinician) | {field: value}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"type", "title", "status", "detail", "errors"}
    assert field in body["errors"], body
    existing = resource.factory()
    before = api.get(f"{resource.path}{existing.pk}/").json()
    refused = api.patch(f"{resource.path}{existing.pk}/", {field: value}, format="json")
    assert refused.status_code == 400
    assert field in refused.json()["errors"]
    assert api.get(f"{resource.path}{existing.pk}/").json() == before


@pytest.mark.parametrize("name", NAMES)
def test_unknown_fields_are_refused_and_read_only_fields_ignored(api, clinician, name):
    resource = RESOURCES[name]
    response = api.post(
        resource.path, resource.payload(clinician) | {"favourite_colour": "blue"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"favourite_colour": ["Unknown field."]}
    existing = resource.factory()
    url = f"{resource.path}{existing.pk}/"
    response = api.patch(url, {"id": 999999, "created_at": "2001-01-01T00:00:00Z"}, format="json")
    assert response.status_code == 200
    assert response.json()["id"] == existing.pk
    assert not response.json()["created_at"].startswith("2001")


@pytest.mark.parametrize("name", NAMES)
def test_anonymous_gets_401_and_unknown_id_404(api, name):
    resource = RESOURCES[name]
    anonymous = APIClient().get(resource.path)
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"] == "Token"
    assert anonymous.json()["status"] == 401
    missing = api.get(f"{resource.path}987654321/")
    assert missing.status_code == 404
    assert missing.json()["title"] == "Not Found"


@pytest.mark.parametrize("name", NAMES)
def test_records_are_never_deleted_through_the_api(api, name):
    resource = RESOURCES[name]
    record = resource.factory()
    response = api.delete(f"{resource.path}{record.pk}/")
    assert response.status_code == 405
    assert type(record).objects.filter(pk=record.pk).exists()


def test_staff_only(db):
    from tests.conftest import token_for
    from tests.factories import UserFactory

    outsider = UserFactory(username="patient.portal", is_staff=False)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(outsider)}")
    response = client.get("/api/v1/patients/")
    assert response.status_code == 403
    assert response.json()["title"] == "Forbidden"


def test_token_login(clinician):
    client = APIClient()
    refused = client.post(
        "/api/v1/auth/token/", {"username": "dr.hale", "password": "wrong"}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["errors"]
    response = client.post(
        "/api/v1/auth/token/",
        {"username": "dr.hale", "password": "correct horse battery"},
        format="json",
    )
    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get("/api/v1/patients/").status_code == 200


def test_session_login_works_for_the_browser(clinician, client):
    client.force_login(clinician)
    assert client.get("/api/v1/patients/").status_code == 200


def test_unknown_api_address_answers_json(api):
    response = api.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json()["status"] == 404


def test_patient_search_and_archive(api):
    ines = PatientFactory(given_name="Ines", family_name="Duarte")
    PatientFactory(given_name="Oscar", family_name="Lind")
    for term in (ines.mrn, "duar", "Ines"):
        found = api.get("/api/v1/patients/", {"search": term}).json()["results"]
        assert [p["mrn"] for p in found] == [ines.mrn], term
    archived = api.post(f"/api/v1/patients/{ines.pk}/archive/")
    assert archived.status_code == 200
    assert archived.json()["archived_at"]
    active = api.get("/api/v1/patients/", {"archived": "false"}).json()["results"]
    assert ines.mrn not in [p["mrn"] for p in active]
    assert api.post(f"/api/v1/patients/{ines.pk}/restore/").json()["archived_at"] is None


def test_duplicate_time_point_is_refused(api, clinician):
    score = OutcomeScoreFactory()
    response = api.post(
        "/api/v1/outcomes/",
        {
            "patient": score.patient_id,
            "course": score.course_id,
            "instrument": score.instrument,
            "score": "5",
            "time_point": score.time_point,
            "measured_on": score.measured_on.isoformat(),
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "non_field_errors": ["This course already has that score at that time point."]
    }


def refused_write(write: Callable[[], Any]) -> IntegrityError:
    try:
        with transaction.atomic():
            write()
    except IntegrityError as error:
        return error
    raise AssertionError("the database accepted the row")


def test_a_row_the_database_refuses_becomes_a_field_error():
    session = SessionFactory()
    error = refused_write(
        lambda: InjectionSession.objects.filter(pk=session.pk).update(pre_pain_score=12)
    )
    response = api_exception_handler(error, {})
    assert response.status_code == 400
    assert response.data["errors"] == {"pre_pain_score": ["Pain score must be between 0 and 10."]}


def test_a_duplicate_the_database_refuses_is_a_conflict():
    first, second = PatientFactory(), PatientFactory()
    error = refused_write(lambda: Patient.objects.filter(pk=second.pk).update(mrn=first.mrn))
    response = api_exception_handler(error, {})
    assert response.status_code == 409
    assert response.data["title"] == "Conflict"
    assert "mrn" in response.data["errors"]


@pytest.mark.parametrize("name", NAMES)
def test_stale_if_match_gets_412_and_changes_nothing(api, name):
    resource = RESOURCES[name]
    url = f"{resource.path}{resource.factory().pk}/"
    first = api.get(url)
    field, value = resource.change
    assert (
        api.patch(url, {field: value}, format="json", HTTP_IF_MATCH=first["ETag"]).status_code
        == 200
    )
    after_first_change = api.get(url).json()
    stale = api.put(url, first.json(), format="json", HTTP_IF_MATCH=first["ETag"])
    assert stale.status_code == 412
    assert stale.json()["title"] == "Precondition Failed"
    assert api.get(url).json() == after_first_change


def test_cursor_pages_stay_stable_while_records_are_added(api):
    PatientFactory.create_batch(6)
    seen = []
    page = api.get("/api/v1/patients/", {"page_size": 2, "ordering": "id"}).json()
    while True:
        seen += [p["id"] for p in page["results"]]
        PatientFactory(family_name="Aaron")  # sorts first by name, last by id
        if not page["next"]:
            break
        page = api.get(page["next"]).json()
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen))
    assert len(seen) >= 6
