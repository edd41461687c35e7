"""Change history, access log and the tamper-evident hash chain over both."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import ProgrammingError, connection, transaction
from django.db.models import F
from django.test import Client
from django.urls import reverse
from pghistory.models import Event

from patients.models import InstrumentMcid, Patient
from recordkeeping.audit import AUDITED_TABLES
from recordkeeping.models import AccessLogEntry, AuditChainEntry
from recordkeeping.roles import CLINICIAN
from tests.factories import (
    AddendumFactory,
    DeliveryFactory,
    FollowUpRuleFactory,
    OutcomeScoreFactory,
    PatientFactory,
    SessionFactory,
    SideEffectFactory,
    SiteFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def sql(statement: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def test_bulk_update_leaves_history_rows():
    patients = PatientFactory.create_batch(3)
    Patient.objects.filter(pk__in=[p.pk for p in patients]).update(email="new@example.org")
    events = apps.get_model("patients", "PatientEvent").objects.filter(pgh_label="update")
    assert sorted(events.values_list("pgh_obj_id", flat=True)) == sorted(p.pk for p in patients)
    assert set(events.values_list("email", flat=True)) == {"new@example.org"}


def test_raw_sql_changes_are_recorded_too():
    patient = PatientFactory()
    sql("UPDATE patients_patient SET phone = '+447700900555' WHERE id = %s", [patient.pk])
    event = apps.get_model("patients", "PatientEvent").objects.get(
        pgh_obj_id=patient.pk, pgh_label="update"
    )
    assert event.phone == "+447700900555"


def test_api_change_is_recorded_with_user_and_request_id(api, clinician):
    patient = PatientFactory()
    response = api.patch(
        f"/api/v1/patients/{patient.pk}/",
        {"phone": "+447700900321"},
        format="json",
        HTTP_X_REQUEST_ID="req-12345678",
    )
    assert response["X-Request-ID"] == "req-12345678"
    event = apps.get_model("patients", "PatientEvent").objects.get(
        pgh_obj_id=patient.pk, pgh_label="update"
    )
    assert event.pgh_context.metadata["user"] == clinician.pk
    assert event.pgh_context.metadata["request_id"] == "req-12345678"
    assert event.pgh_context.metadata["url"] == f"/api/v1/patients/{patient.pk}/"


def test_api_reads_are_logged_with_user_ip_and_patients(api, clinician):
    first, second = PatientFactory(), PatientFactory()
    api.get("/api/v1/patients/", REMOTE_ADDR="10.1.2.3")
    api.get(f"/api/v1/patients/{first.pk}/timeline/")
    api.get("/api/v1/patients/", {"search": second.family_name})
    entries = list(AccessLogEntry.objects.order_by("id"))
    assert [e.action for e in entries] == [
        "api.patient.list",
        "api.patient.timeline",
        "api.patient.list",
    ]
    assert all(e.user == clinician for e in entries)
    assert entries[0].ip == "10.1.2.3"
    assert set(entries[0].patient_ids) == {first.pk, second.pk}
    assert entries[1].patient_ids == [first.pk]
    assert entries[2].patient_ids == [second.pk]
    assert "search=" in entries[2].path


def test_admin_reads_are_logged(clinician, clinician_client):
    session = SessionFactory()
    clinician_client.get(reverse("admin:patients_patient_changelist"))
    clinician_client.get(reverse("admin:treatments_injectionsession_change", args=[session.pk]))
    entries = list(AccessLogEntry.objects.order_by("id"))
    assert [e.action for e in entries] == ["admin.patient.list", "admin.injectionsession.view"]
    assert entries[0].patient_ids == [session.patient_id]
    assert entries[1].patient_ids == [session.patient_id]
    assert {e.user for e in entries} == {clinician}


def test_failed_logins_and_refusals_are_logged(front_desk):
    Client().post(reverse("admin:login"), {"username": "desk.ito", "password": "wrong"})
    from rest_framework.test import APIClient

    APIClient().post("/api/v1/auth/token/", {"username": "nobody", "password": "x"})
    client = Client()
    client.force_login(front_desk)
    client.get("/api/v1/side-effects/")
    entries = list(
        AccessLogEntry.objects.order_by("id").values_list("action", "username", "status")
    )
    assert entries == [
        ("login.failed", "desk.ito", 401),
        ("login.failed", "nobody", 401),
        ("api.denied", "desk.ito", 403),
    ]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE clinic_accesslogentry SET action = 'x'",
        "DELETE FROM clinic_accesslogentry",
        "UPDATE clinic_auditchainentry SET hash = 'x'",
        "DELETE FROM clinic_auditchainentry",
        "UPDATE patients_patientevent SET phone = ''",
        "DELETE FROM patients_patientevent",
    ],
)
def test_audit_rows_cannot_be_changed_or_removed(api, statement):
    PatientFactory()
    api.get("/api/v1/patients/")
    with pytest.raises(ProgrammingError, match="Cannot"), transaction.atomic():
        sql(statement)


def test_verify_audit_passes_on_an_intact_chain(api, capsys):
    PatientFactory.create_batch(2)
    api.get("/api/v1/patients/")
    call_command("verify_audit")
    assert "Audit chain intact" in capsys.readouterr().out


def tampered(statement: str, params: list) -> str:
    sql("SET session_replication_role = replica")  # triggers off, as an intruder with rights
    try:
        sql(statement, params)
    finally:
        sql("SET session_replication_role = origin")
    with pytest.raises(CommandError) as broken:
        call_command("verify_audit")
    return str(broken.value)


def test_verify_audit_names_a_removed_history_row():
    patient = PatientFactory()
    event = apps.get_model("patients", "PatientEvent").objects.get(pgh_obj_id=patient.pk)
    message = tampered("DELETE FROM patients_patientevent WHERE pgh_id = %s", [event.pk])
    assert f"patients_patientevent row {event.pk}" in message
    assert "is missing" in message


def test_verify_audit_names_an_altered_access_row(api):
    api.get("/api/v1/patients/")
    entry = AccessLogEntry.objects.get()
    message = tampered("UPDATE clinic_accesslogentry SET username = 'x' WHERE id = %s", [entry.pk])
    assert f"clinic_accesslogentry row {entry.pk}" in message
    assert "was altered" in message


def test_verify_audit_finds_a_removed_chain_entry():
    PatientFactory()
    PatientFactory()
    first = AuditChainEntry.objects.order_by("position").first()
    message = tampered("DELETE FROM clinic_auditchainentry WHERE id = %s", [first.pk])
    assert "chain entries 1 to 1 are missing" in message or "not in the chain" in message


APPS = {"clinic", "patients", "treatments"}


def test_every_history_table_is_chained():
    event_tables = {
        model._meta.db_table
        for model in apps.get_models()
        if issubclass(model, Event)
        and model._meta.app_label in {"clinic", "patients", "treatments"}
    }
    logs = {"clinic_accesslogentry", "treatments_reminderdelivery"}
    assert event_tables | logs == set(AUDITED_TABLES)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = 'clinic_audit_chain'"
        )
        chained = {row[0] for row in cursor.fetchall()}
    assert chained == set(AUDITED_TABLES)


@pytest.fixture
def a_row_in_every_audit_table(api):
    """At least one row in every audited table and the chain."""
    session = SessionFactory()
    SiteFactory(session=session)
    SideEffectFactory(session=session)
    OutcomeScoreFactory(patient=session.patient)
    AddendumFactory()
    DeliveryFactory()
    FollowUpRuleFactory()
    InstrumentMcid.objects.update(value=F("value") + 1)
    UserFactory(role=CLINICIAN)
    api.get("/api/v1/patients/")
    tables = [*AUDITED_TABLES, "clinic_auditchainentry"]
    counts = {table: row_count(table) for table in tables}
    assert all(counts.values()), counts
    # As in a transaction of its own: PostgreSQL truncates no table with foreign key checks
    # still pending on it.
    sql("SET CONSTRAINTS ALL IMMEDIATE")
    return counts


def row_count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - names from AUDITED_TABLES
        return cursor.fetchone()[0]


@pytest.mark.parametrize("table", [*AUDITED_TABLES, "clinic_auditchainentry"])
def test_audit_tables_cannot_be_truncated(a_row_in_every_audit_table, table):
    with pytest.raises(ProgrammingError, match=f"Cannot truncate {table}"), transaction.atomic():
        sql(f"TRUNCATE {table}")
    assert row_count(table) == a_row_in_every_audit_table[table]


def test_a_truncate_cascading_into_the_access_log_is_refused(a_row_in_every_audit_table):
    with pytest.raises(ProgrammingError, match="Cannot truncate"), transaction.atomic():
        sql("TRUNCATE auth_user CASCADE")
    assert row_count("clinic_accesslogentry") == a_row_in_every_audit_table["clinic_accesslogentry"]


def test_every_audit_table_refuses_truncate():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = 'clinic_audit_no_truncate' AND t.tgenabled = 'O'"
        )
        refusing = {row[0] for row in cursor.fetchall()}
    assert refusing == {*AUDITED_TABLES, "clinic_auditchainentry"}
