"""PostgreSQL out of reach in the middle of traffic: requests answer 503 problem details (no
trace, no SQL), /readyz/ says so, nothing half-written stays, and the app recovers by itself.
The outage is made by a TCP proxy between the app and the database that cuts every
connection and refuses new ones until it is resumed."""

from __future__ import annotations

import datetime

import pytest
from django.db import close_old_connections, connections
from django.utils import timezone
from rest_framework.test import APIClient

from tests.conftest import token_client
from tests.factories import PatientFactory
from tests.proxy import Proxy
from treatments.models import InjectionSession
from treatments.services import sessions as session_services

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def proxied_database():
    settings_dict = connections["default"].settings_dict
    host, port = settings_dict["HOST"], settings_dict["PORT"]
    if not host or host.startswith("/"):
        pytest.skip("the database is reached over a Unix socket here; the proxy speaks TCP")
    proxy = Proxy(host, int(port or 5432))
    connections["default"].close()
    settings_dict["HOST"], settings_dict["PORT"] = "127.0.0.1", proxy.port
    try:
        yield proxy
    finally:
        proxy.resume()
        connections["default"].close()
        settings_dict["HOST"], settings_dict["PORT"] = host, port
        proxy.close()


def assert_unavailable(response) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.content.decode()
    assert response.json()["status"] == 503
    for leak in ("Traceback", "SELECT", "psycopg", 'File "'):
        assert leak not in body


def test_an_outage_answers_503_and_the_app_recovers(clinician, proxied_database):
    patient = PatientFactory()
    api = token_client(clinician, raise_request_exception=False)
    assert api.get(f"/api/v1/patients/{patient.pk}/").status_code == 200

    proxied_database.cut()
    assert_unavailable(api.get(f"/api/v1/patients/{patient.pk}/"))
    assert_unavailable(api.get("/api/v1/sessions/"))
    ready = api.get("/readyz/")
    assert ready.status_code == 503 and "database" in ready.json()["detail"]
    admin = APIClient(raise_request_exception=False).get("/admin/login/")
    assert admin.status_code in (200, 503)  # the login form needs no database

    proxied_database.resume()
    # What the server does at the start of every request (Django's test client skips it):
    # with CONN_HEALTH_CHECKS on, the broken connection is found and replaced. No restart.
    assert connections["default"].settings_dict["CONN_HEALTH_CHECKS"]
    close_old_connections()
    assert api.get(f"/api/v1/patients/{patient.pk}/").status_code == 200
    assert api.get("/readyz/").json()["database"] == "ok"


def test_a_session_cut_off_halfway_leaves_nothing_behind(clinician, proxied_database, monkeypatch):
    patient = PatientFactory()
    api = token_client(clinician, raise_request_exception=False)
    write_parts = session_services._replace_parts

    def cut_after_the_session_row(**kwargs):
        proxied_database.cut()  # the session row is written; its injectates and sites are not
        return write_parts(**kwargs)

    monkeypatch.setattr(session_services, "_replace_parts", cut_after_the_session_row)
    expiry = (timezone.localdate() + datetime.timedelta(days=200)).isoformat()
    body = {
        "patient": patient.pk,
        "performed_at": timezone.now().isoformat(),
        "status": "completed",
        "consent_obtained": True,
        "injectates": [
            {
                "line": 1,
                "kind": "dextrose",
                "volume_ml": "10.0",
                "dextrose_pct": "15.0",
                "lot_number": "D1",
                "expiry_date": expiry,
            }
        ],
        "sites": [
            {
                "line": 1,
                "injectate_line": 1,
                "body_region": "knee",
                "structure": "Medial collateral ligament",
                "tissue": "ligament",
                "laterality": "left",
                "volume_ml": "2.0",
            }
        ],
    }
    assert_unavailable(api.post("/api/v1/sessions/", body, format="json"))
    monkeypatch.undo()
    proxied_database.resume()
    close_old_connections()  # as at the start of the next request
    assert not InjectionSession.objects.filter(patient=patient).exists()
    created = api.post("/api/v1/sessions/", body, format="json")
    assert created.status_code == 201, created.content[:300]
