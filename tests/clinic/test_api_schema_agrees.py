"""The schema says what the API takes, and the API refuses what the schema excludes: filter
values of the wrong type, bodies that are not JSON, decimals, empty query values and fields a
role may not send."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from recordkeeping.roles import FRONT_DESK
from tests.conftest import token_client
from tests.factories import PatientFactory, SideEffectFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client):
    return client.get("/api/schema/", {"format": "json"}).json()


def parameter(schema, path: str, name: str) -> dict:
    [found] = [p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == name]
    return found


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/api/v1/patients/?archived=maybe", "archived"),
        ("/api/v1/patients/?archived=1", "archived"),
        ("/api/v1/side-effects/?serious=yes", "serious"),
        ("/api/v1/side-effects/?patient=1.5", "patient"),
        ("/api/v1/side-effects/?grade_min=1.5", "grade_min"),
    ],
)
def test_a_filter_value_of_the_wrong_type_is_refused_naming_it(api, url, name):
    response = api.get(url)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [name]


def test_boolean_and_number_filters_take_what_the_schema_says(api):
    PatientFactory(family_name="Kept")
    PatientFactory(family_name="Gone", archived_at=timezone.now())
    for value, shown in (("false", "Kept"), ("true", "Gone")):
        found = api.get(f"/api/v1/patients/?archived={value}").json()["results"]
        assert [patient["family_name"] for patient in found] == [shown]
    SideEffectFactory(grade=2)
    assert len(api.get("/api/v1/side-effects/?grade=2").json()["results"]) == 1
    assert api.get("/api/v1/side-effects/?grade=3").json()["results"] == []


def test_an_empty_filter_is_not_given_and_the_schema_says_so(api, schema):
    PatientFactory()
    assert len(api.get("/api/v1/patients/?sex=&archived=&search=").json()["results"]) == 1
    assert parameter(schema, "/api/v1/patients/", "sex")["allowEmptyValue"] is True
    assert parameter(schema, "/api/v1/reports/safety/", "treatment")["allowEmptyValue"] is True


@pytest.mark.parametrize(
    ("path", "name", "url"),
    [
        ("/api/v1/patients/", "page_size", "/api/v1/patients/?page_size="),
        ("/api/v1/courses/overdue/", "on", "/api/v1/courses/overdue/?on="),
        ("/api/v1/follow-ups/agenda/", "date", "/api/v1/follow-ups/agenda/?date="),
    ],
)
def test_a_parameter_refusing_an_empty_value_is_declared_so(api, schema, path, name, url):
    assert parameter(schema, path, name)["allowEmptyValue"] is False
    response = api.get(url)
    assert response.status_code == 400
    assert name in response.json()["errors"]


def test_a_body_that_is_not_json_is_refused_with_415(api, schema):
    response = api.post(
        "/api/v1/patients/",
        "given_name=A&family_name=B&birth_date=1970-01-01",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 415
    assert response["Content-Type"] == "application/problem+json"
    create = schema["paths"]["/api/v1/patients/"]["post"]
    assert list(create["requestBody"]["content"]) == ["application/json"]
    assert "415" in create["responses"]


@pytest.mark.parametrize("text", ["5", "0.5", ".5", "60", "12.25"])
def test_the_schema_takes_a_volume_the_api_reads(schema, text):
    volume = schema["components"]["schemas"]["InjectateRequest"]["properties"]["volume_ml"]
    assert re.match(volume["pattern"], text)


@pytest.mark.parametrize("text", ["", "-", ".", "-1", "1.234", "1234"])
def test_the_schema_excludes_a_volume_that_is_not_a_positive_decimal(schema, text):
    volume = schema["components"]["schemas"]["InjectateRequest"]["properties"]["volume_ml"]
    assert not re.match(volume["pattern"], text)
    assert "At least 0.01 and at most 60" in volume["description"]


def test_reports_declare_their_csv_as_text(schema):
    answer = schema["paths"]["/api/v1/reports/recall/"]["get"]["responses"]["200"]["content"]
    assert answer["text/csv"]["schema"] == {"type": "string"}


def test_fields_a_role_may_not_send_are_marked_and_refused_by_name(db, schema):
    request = schema["components"]["schemas"]["PatientRequest"]["properties"]
    assert "Not sent by every role." in request["allergies"]["description"]
    assert "Not sent by every role." not in request["family_name"].get("description", "")
    desk = token_client(UserFactory(role=FRONT_DESK))
    body = {"given_name": "A", "family_name": "B", "birth_date": "1970-01-01", "allergies": "x"}
    response = desk.post("/api/v1/patients/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["allergies"]


def test_text_that_is_only_spaces_is_refused_as_the_schema_says(api, schema):
    name = schema["components"]["schemas"]["PatientRequest"]["properties"]["given_name"]
    assert not re.search(name["pattern"], "\xa0 ") and re.search(name["pattern"], " Ana ")
    body = {"given_name": "\xa0 ", "family_name": "B", "birth_date": "1970-01-01"}
    response = api.post("/api/v1/patients/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["given_name"]
