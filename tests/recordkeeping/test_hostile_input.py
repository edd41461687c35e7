"""Bad input from anyone: oversized bodies, page sizes, NUL bytes, emoji, right-to-left text
and long notes are either stored and returned intact or refused naming what was wrong, never
a 500 and never half stored."""

from __future__ import annotations

import json

import pytest

from patients.models import Patient
from tests.factories import PatientFactory, SessionFactory
from treatments.models import InjectionSession

pytestmark = pytest.mark.django_db

RTL = "\u0627\u0628\u0646 \u0633\u064a\u0646\u0627"  # Arabic, right to left
MIXED = f"Knee \U0001f9b5 {RTL} \u202bשלום\u202c ok"  # emoji, Hebrew between RTL embedding marks


def problem(response, status):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert "Traceback" not in response.content.decode() and "SELECT" not in body["detail"]
    return body


def test_an_oversized_body_is_refused_with_413_before_it_is_read(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    payload = {"given_name": "A", "family_name": "B" * 20_000, "birth_date": "1970-01-01"}
    body = problem(api.post("/api/v1/patients/", payload, format="json"), 413)
    assert "10000 bytes" in body["detail"]
    assert not Patient.objects.exists()


@pytest.mark.parametrize("size", ["0", "-1", "201", "1" + "0" * 30, "abc", "٣"])
def test_page_sizes_outside_1_to_200_are_refused(api, size):
    body = problem(api.get("/api/v1/patients/", {"page_size": size}), 400)
    assert list(body["errors"]) == ["page_size"]


def test_the_largest_page_size_is_served(api):
    PatientFactory.create_batch(3)
    response = api.get("/api/v1/patients/", {"page_size": "200"})
    assert response.status_code == 200 and len(response.json()["results"]) == 3


def test_emoji_right_to_left_text_and_10_kb_notes_come_back_intact(api, clinician):
    created = api.post(
        "/api/v1/patients/",
        {"given_name": "Zoë \U0001f33f", "family_name": RTL, "birth_date": "1970-01-01"},
        format="json",
    )
    assert created.status_code == 201, created.content
    patient = created.json()
    assert (patient["given_name"], patient["family_name"]) == ("Zoë \U0001f33f", RTL)
    session = SessionFactory(patient_id=patient["id"], clinician=clinician, status="planned")
    notes = "\n".join([MIXED] * (10_240 // len(MIXED)))
    assert len(notes.encode()) > 10_000
    response = api.patch(f"/api/v1/sessions/{session.pk}/", {"notes": notes}, format="json")
    assert response.status_code == 200, response.content
    assert api.get(f"/api/v1/sessions/{session.pk}/").json()["notes"] == notes
    assert InjectionSession.objects.get(pk=session.pk).notes == notes
    found = api.get("/api/v1/patients/", {"search": RTL}).json()["results"]
    assert [p["id"] for p in found] == [patient["id"]]


def test_a_nul_byte_in_a_field_is_refused_naming_the_field(api, clinician):
    session = SessionFactory(clinician=clinician, status="planned", notes="kept")
    response = api.patch(f"/api/v1/sessions/{session.pk}/", {"notes": "a\x00b"}, format="json")
    assert list(problem(response, 400)["errors"]) == ["notes"]
    assert InjectionSession.objects.get(pk=session.pk).notes == "kept"


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/patients/?search=a%00b",
        "/api/v1/sessions/?lot_number=a%00b",
        "/api/v1/patients/?ordering=%00",
        "/api/v1/reports/recall/?lot_number=%00",
    ],
)
def test_a_nul_byte_in_a_query_is_refused_naming_the_parameter(api, url):
    name = url.split("?")[1].split("=")[0]
    assert list(problem(api.get(url), 400)["errors"]) == [name]


def test_a_body_that_is_not_json_is_a_clear_400(api):
    response = api.generic(
        "POST", "/api/v1/patients/", b"\xff\xfe{not json", content_type="application/json"
    )
    problem(response, 400)
    response = api.generic("POST", "/api/v1/patients/", json.dumps([1, 2]), "application/json")
    problem(response, 400)


@pytest.mark.parametrize("depth", [33, 1_000, 10_000, 100_000])
def test_json_nested_too_deeply_is_a_400_not_a_crash(api, depth):
    body = "[" * depth + "]" * depth
    response = api.generic("POST", "/api/v1/patients/", body, "application/json")
    assert "nested deeper than 32 levels" in problem(response, 400)["detail"]
    body = '{"notes": ' * depth + "1" + "}" * depth
    response = api.generic("POST", "/api/v1/sessions/", body, "application/json")
    assert "nested deeper than 32 levels" in problem(response, 400)["detail"]
    assert not Patient.objects.exists() and not InjectionSession.objects.exists()


def test_json_nested_32_levels_is_read_and_answered_field_by_field(api):
    body = {"given_name": "A", "family_name": "B", "birth_date": "1970-01-01", "sex": "female"}
    nested: object = "x"
    for _ in range(31):
        nested = [nested]
    body["phone"] = nested  # 32 levels with the body itself: parsed, then refused as a phone
    response = api.post("/api/v1/patients/", body, format="json")
    assert list(problem(response, 400)["errors"]) == ["phone"]
