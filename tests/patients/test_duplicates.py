"""Registering a patient who may be on record already: born the same day with a similar name
(trigram similarity), or with the same phone or email. The API answers 409 listing the
candidates (MRN, name, date of birth, what matched) unless ``confirm_new`` is true; nothing is
saved until then."""

from __future__ import annotations

import datetime

import pytest

from patients.models import Patient
from patients.selectors import patient_duplicates
from recordkeeping.models import AccessLogEntry
from recordkeeping.roles import CLINICIAN, FRONT_DESK
from tests.conftest import token_client
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db
BORN = datetime.date(1968, 5, 17)


def new_patient(**changes) -> dict:
    return {
        "given_name": "Mariah",
        "family_name": "Okafor",
        "birth_date": BORN.isoformat(),
        "sex": "female",
        "phone": "+447700900999",
        "email": "mariah@example.org",
    } | changes


@pytest.fixture
def on_record():
    return PatientFactory(
        given_name="Maria",
        family_name="Okafor",
        birth_date=BORN,
        phone="+447700900123",
        email="maria@example.org",
    )


@pytest.mark.parametrize("role", [FRONT_DESK, CLINICIAN])
def test_a_similar_name_born_the_same_day_answers_409_with_the_candidates(on_record, role):
    answer = token_client(UserFactory(role=role)).post("/api/v1/patients/", new_patient())
    assert answer.status_code == 409
    body = answer.json()
    assert answer["Content-Type"] == "application/problem+json"
    assert "confirm_new" in body["errors"]
    assert body["candidates"] == [
        {
            "id": on_record.pk,
            "mrn": on_record.mrn,
            "given_name": "Maria",
            "family_name": "Okafor",
            "birth_date": "1968-05-17",
            "matched_on": ["name and date of birth"],
        }
    ]
    assert Patient.objects.count() == 1
    assert AccessLogEntry.objects.get(action="api.patient.duplicates").patient_ids == [on_record.pk]


@pytest.mark.parametrize(
    ("changes", "matched_on"),
    [
        ({"given_name": "Okafor", "family_name": "Maria"}, ["name and date of birth"]),
        (
            {"given_name": "Ines", "family_name": "Duarte", "phone": "+447700900123"},
            ["phone"],
        ),
        (
            {"given_name": "Ines", "family_name": "Duarte", "email": "MARIA@example.org"},
            ["email"],
        ),
    ],
)
def test_names_in_another_order_the_same_phone_or_email_are_candidates(
    api, on_record, changes, matched_on
):
    answer = api.post("/api/v1/patients/", new_patient(**changes))
    assert answer.status_code == 409
    assert [c["matched_on"] for c in answer.json()["candidates"]] == [matched_on]


def test_confirm_new_registers_the_patient_anyway(api, on_record):
    answer = api.post("/api/v1/patients/", new_patient(confirm_new=True))
    assert answer.status_code == 201
    assert answer.json()["mrn"].startswith("MRN") and "confirm_new" not in answer.json()
    assert Patient.objects.count() == 2


@pytest.mark.parametrize(
    "changes",
    [
        {"given_name": "John"},  # another name the same day (a twin, say)
        {"birth_date": "1968-05-18"},  # the same name born another day
    ],
)
def test_a_different_person_is_registered_without_a_question(api, on_record, changes):
    answer = api.post("/api/v1/patients/", new_patient(**changes))
    assert answer.status_code == 201, answer.json()
    assert Patient.objects.count() == 2


def test_confirm_new_that_is_not_a_boolean_is_refused_naming_it(api, on_record):
    answer = api.post("/api/v1/patients/", new_patient(confirm_new="perhaps"))
    assert answer.status_code == 400
    assert "confirm_new" in answer.json()["errors"]
    assert Patient.objects.count() == 1


def test_changing_a_patient_is_not_held_up_by_the_check(api, on_record):
    twin = PatientFactory(given_name="Mariah", family_name="Okafor", birth_date=BORN)
    answer = api.patch(f"/api/v1/patients/{twin.pk}/", {"phone": "+447700900123"})
    assert answer.status_code == 200


def test_an_archived_patient_is_a_candidate_too(on_record):
    on_record.archived_at = datetime.datetime.now(datetime.UTC)
    on_record.save()
    found = patient_duplicates(
        given_name="Maria", family_name="Okafor", birth_date=BORN, phone="", email=""
    )
    assert found == [on_record]


def test_empty_phone_and_email_match_no_one(on_record):
    PatientFactory(phone="", email="")
    found = patient_duplicates(
        given_name="Ines", family_name="Duarte", birth_date=BORN, phone="", email=""
    )
    assert found == []
