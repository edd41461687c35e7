"""Headers on every answer: a Content-Security-Policy under which no inline script runs, and
``Cache-Control: no-store`` wherever patient data may be shown."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import token_client
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


@pytest.fixture
def staff(clinician) -> Client:
    client = Client()
    client.force_login(clinician)
    return client


@pytest.fixture
def patient(db):
    return PatientFactory(family_name="Lindqvist")


PAGES = [
    "/admin/login/",
    "/admin/",
    "/admin/patients/patient/",
    "/admin/patients/patient/{patient}/change/",
    "/admin/reports/",
    "/admin/treatments/followup/agenda/",
    "/api/docs/",
    "/api/schema/",
    "/api/v1/patients/",
    "/api/v1/patients/{patient}/",
    "/api/v1/patients/999999/",
    "/no-such-page/",
]


@pytest.mark.parametrize("url", PAGES)
def test_every_page_forbids_inline_scripts(staff, patient, url):
    response = staff.get(url.format(patient=patient.pk))
    assert response.status_code in (200, 302, 404), url
    policy = directives(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["default-src"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]


def test_the_api_docs_start_swagger_ui_from_a_script_file(staff):
    page = staff.get("/api/docs/").content.decode()
    assert '<script src="/api/docs/?script="></script>' in page
    script = staff.get("/api/docs/", {"script": ""})
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/patients/",
        "/api/v1/patients/{patient}/",
        "/api/v1/patients/{patient}/timeline/",
        "/api/v1/patients/999999/",
        "/api/v1/reports/activity/?format=csv",
        "/api/v1/reports/recall/?lot_number=X",
    ],
)
def test_api_answers_are_not_stored_by_browsers_or_proxies(clinician, patient, url):
    response = token_client(clinician).get(url.format(patient=patient.pk))
    assert response.status_code in (200, 404), url
    assert "no-store" in response["Cache-Control"]


def test_an_anonymous_api_refusal_is_not_stored_either(client):
    response = client.get("/api/v1/patients/")
    assert response.status_code == 401
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    "url",
    [
        "/admin/patients/patient/",
        "/admin/patients/patient/{patient}/change/",
        "/admin/reports/?lot_number=X",
        "/admin/treatments/followup/agenda/",
    ],
)
def test_admin_pages_with_patient_data_are_not_stored(staff, patient, url):
    response = staff.get(url.format(patient=patient.pk))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_static_files_stay_cacheable(settings):
    settings.WHITENOISE_USE_FINDERS = True  # served from the app's folders, as collected
    settings.WHITENOISE_AUTOREFRESH = True
    response = Client().get("/static/clinic/charts.js")
    assert response.status_code == 200
    assert "no-store" not in response["Cache-Control"]
    assert "max-age" in response["Cache-Control"]
