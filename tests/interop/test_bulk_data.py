"""FHIR Bulk Data Access (system-level $export) as a stock client drives it: kick-off with
``Prefer: respond-async``, 202 with ``X-Progress`` while it runs, the manifest, the downloads,
``DELETE`` to cancel; ``_type`` and ``_since``; refusals as OperationOutcomes naming what is
wrong; clinic admins only, and every start, download and cancel in the access log."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone
from kombu.exceptions import OperationalError

from interop import bulk, tasks
from interop.models import FhirExport
from patients.models import Patient
from recordkeeping.models import AccessLogEntry
from tests.conftest import token_client
from tests.factories import SessionFactory, SideEffectFactory
from tests.interop.bulk_data_client import BulkDataClient, ndjson

pytestmark = pytest.mark.django_db


@pytest.fixture
def worker(monkeypatch):
    """The Celery worker: runs the exports sent to it when called."""
    sent: list[str] = []
    monkeypatch.setattr(tasks.fhir_bulk_export, "delay", sent.append)

    def run() -> None:
        while sent:
            tasks.fhir_bulk_export(sent.pop(0))

    return run


@pytest.fixture
def client(clinic_admin):
    return BulkDataClient(token_client(clinic_admin))


def start(client, django_capture_on_commit_callbacks, **parameters):
    with django_capture_on_commit_callbacks(execute=True):
        return client.kick_off(**parameters)


def test_a_bulk_data_client_exports_the_demo_clinic(
    client, worker, django_capture_on_commit_callbacks, tmp_path
):
    call_command("seed_demo", patients=6, seed=2, verbosity=0)
    status_url = start(client, django_capture_on_commit_callbacks)
    assert status_url.startswith("http://testserver/api/v1/fhir/$export-status/")

    manifest = client.wait(status_url, worker)
    assert client.polls[0] == (202, "queued")  # polled before the worker ran
    assert client.polls[-1][0] == 200
    assert manifest["request"] == "http://testserver/api/v1/fhir/$export"
    assert manifest["requiresAccessToken"] is True
    assert manifest["error"] == []
    export = FhirExport.objects.get()
    assert datetime.datetime.fromisoformat(manifest["transactionTime"]) == export.created_at
    types = [item["type"] for item in manifest["output"]]
    assert types[:4] == ["Patient", "Practitioner", "Condition", "Procedure"]

    files = client.download(manifest, tmp_path)
    for item in manifest["output"]:
        resources = ndjson(files[item["type"]])
        assert len(resources) == item["count"] > 0
        assert {r["resourceType"] for r in resources} == {item["type"]}
    assert len(ndjson(files["Patient"])) == Patient.objects.count() == 6

    cancelled = client.cancel(status_url)
    assert cancelled.status_code == 202
    assert cancelled.json()["resourceType"] == "OperationOutcome"
    gone = client.poll(status_url)
    assert gone.status_code == 404
    assert gone["Content-Type"].startswith("application/fhir+json")
    assert gone.json()["issue"][0]["code"] == "not-found"
    assert not export.directory.exists()
    assert client.http.get(manifest["output"][0]["url"]).status_code == 404
    actions = list(AccessLogEntry.objects.order_by("at").values_list("action", flat=True))
    assert actions.count("api.fhir-export.start") == 1
    assert actions.count("api.fhir-export.download") == len(manifest["output"])
    assert actions[-1] == "api.fhir-export.cancel"


def test_polling_a_running_export_shows_its_progress(client, django_capture_on_commit_callbacks):
    call_command("seed_demo", patients=3, seed=2, verbosity=0)
    status_url = start(client, django_capture_on_commit_callbacks)
    FhirExport.objects.update(status="running", patients_total=3, patients_done=2)
    response = client.poll(status_url)
    assert response.status_code == 202
    assert response["X-Progress"] == "2 of 3 patients"
    assert response.content == b""


def test_a_failed_export_answers_500_with_the_reason(client, django_capture_on_commit_callbacks):
    status_url = start(client, django_capture_on_commit_callbacks)
    FhirExport.objects.update(status="failed", error="OSError: disk full")
    response = client.poll(status_url)
    assert response.status_code == 500
    assert response.json()["issue"] == [
        {"severity": "error", "code": "exception", "diagnostics": "OSError: disk full"}
    ]


def test_type_and_since_export_only_what_changed_of_those_types(
    client, worker, django_capture_on_commit_callbacks, tmp_path, clinician
):
    session = SessionFactory(clinician=clinician)
    SideEffectFactory(session=session)
    SessionFactory()  # another patient, unchanged since
    since = timezone.now()
    late = SideEffectFactory(session=session, kind="bruising", recorded_by=clinician)

    status_url = start(
        client,
        django_capture_on_commit_callbacks,
        _type="AdverseEvent,Practitioner,Patient",
        _since=since.isoformat(),
    )
    manifest = client.wait(status_url, worker)
    assert "_since=" in manifest["request"] and "_type=" in manifest["request"]
    files = client.download(manifest, tmp_path)
    assert sorted(files) == ["AdverseEvent", "Practitioner"]  # the patient did not change
    assert [r["id"] for r in ndjson(files["AdverseEvent"])] == [str(late.pk)]
    assert [r["id"] for r in ndjson(files["Practitioner"])] == [str(clinician.pk)]  # named
    assert FhirExport.objects.get().patients_total == 1

    only_patients = start(client, django_capture_on_commit_callbacks, _type="Patient")
    manifest = client.wait(only_patients, worker)
    assert [(item["type"], item["count"]) for item in manifest["output"]] == [("Patient", 2)]


@pytest.mark.parametrize(
    ("parameters", "headers", "named"),
    [
        ({}, {}, "Prefer"),
        ({}, {"HTTP_PREFER": "respond-sync"}, "Prefer"),
        ({"_type": "Encounter"}, {"HTTP_PREFER": "respond-async"}, "_type"),
        ({"_type": ""}, {"HTTP_PREFER": "respond-async"}, "_type"),
        ({"_since": "2026-01-31"}, {"HTTP_PREFER": "respond-async"}, "_since"),
        ({"_since": "2026-01-31T08:00:00"}, {"HTTP_PREFER": "respond-async"}, "_since"),
        ({"_outputFormat": "text/csv"}, {"HTTP_PREFER": "respond-async"}, "_outputFormat"),
        ({"patient": "Patient/1"}, {"HTTP_PREFER": "respond-async"}, "patient"),
        ({"_typeFilter": "Procedure?status=completed"}, {"HTTP_PREFER": "respond-async"}, None),
    ],
)
def test_a_kick_off_refuses_what_it_cannot_do_naming_it(client, parameters, headers, named):
    response = client.http.get("/api/v1/fhir/$export", parameters, **headers)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/fhir+json")
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    [issue] = outcome["issue"]
    assert (issue["severity"], issue["code"]) == ("error", "invalid")
    assert issue["expression"] == [named or next(iter(parameters))]
    assert not FhirExport.objects.exists()


def test_lenient_handling_ignores_parameters_it_does_not_offer(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        response = client.http.get(
            "/api/v1/fhir/$export",
            {"_elements": "id", "_outputFormat": "ndjson"},
            HTTP_PREFER="respond-async, handling=lenient",
        )
    assert response.status_code == 202
    assert FhirExport.objects.get().bulk_request.types == []


@pytest.mark.parametrize("role", ["clinician", "front_desk"])
def test_only_clinic_admins_export_poll_or_cancel(request, role, clinic_admin):
    export = bulk.fhir_export_request(requested_by=clinic_admin, url="http://testserver/")
    other = token_client(request.getfixturevalue(role))
    status_url = f"/api/v1/fhir/$export-status/{export.pk}"
    for response in (
        other.get("/api/v1/fhir/$export", HTTP_PREFER="respond-async"),
        other.get(status_url),
        other.delete(status_url),
    ):
        assert response.status_code == 403
        assert response.json()["issue"][0]["code"] == "forbidden"
    assert FhirExport.objects.get().status == "queued"
    assert AccessLogEntry.objects.filter(action="api.denied").count() == 3


def test_exports_not_started_by_bulk_data_have_no_status_address(client):
    legacy = bulk.fhir_export_create()
    assert client.poll(f"/api/v1/fhir/$export-status/{legacy.pk}").status_code == 404


def test_a_cancel_stops_a_running_export_at_its_next_chunk(monkeypatch, clinic_admin, tmp_path):
    call_command("seed_demo", patients=3, seed=2, verbosity=0)
    monkeypatch.setattr(bulk, "CHUNK", 1)
    export = bulk.fhir_export_request(requested_by=clinic_admin, url="http://testserver/")

    def cancel_after_the_first(done: int, total: int) -> None:
        if done == 1:
            bulk.fhir_export_cancel(export=export)

    bulk.fhir_export_run(export=export, progress=cancel_after_the_first)
    export.refresh_from_db()
    assert (export.status, export.patients_done, export.error) == ("failed", 1, bulk.CANCELLED)
    assert not export.directory.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # sent outside a transaction
def test_a_kick_off_without_a_broker_is_refused_with_503(monkeypatch, client):
    def unreachable(export_id: str) -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(tasks.fhir_bulk_export, "delay", unreachable)
    response = client.http.get("/api/v1/fhir/$export", HTTP_PREFER="respond-async")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json()["issue"][0]["code"] == "transient"
    assert FhirExport.objects.get().status == "failed"
