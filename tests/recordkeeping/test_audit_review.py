"""Clinic admins review, read-only, who saw or changed a patient and what a user did."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from recordkeeping.models import AccessLogEntry
from tests.factories import (
    FollowUpFactory,
    PatientFactory,
    SessionFactory,
    SideEffectFactory,
)

pytestmark = pytest.mark.django_db


class Table(HTMLParser):
    """The text of each body row of the table with ``id``, cell by cell."""

    def __init__(self, html: str, id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.id, self.rows, self._depth, self._row, self._cell = id, [], 0, None, None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and (self._depth or ("id", self.id) in attrs):
            self._depth += 1
        elif self._depth and tag == "tr":
            self._row = []
        elif self._depth and tag == "td":
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._depth:
            self._depth -= 1
        elif tag == "td" and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def rows(response, table: str) -> list[list[str]]:
    assert response.status_code == 200
    return Table(response.content.decode(), table).rows


@pytest.fixture
def reviewer(clinic_admin) -> Client:
    client = Client()
    client.force_login(clinic_admin)
    return client


@pytest.fixture
def touched_patient(api):
    patient = PatientFactory(family_name="Quinlan")
    api.get(f"/api/v1/patients/{patient.pk}/")
    api.patch(f"/api/v1/patients/{patient.pk}/", {"phone": "+447700900777"}, format="json")
    return patient


def test_clinic_admin_sees_who_saw_or_changed_a_patient(clinic_admin, clinician, touched_patient):
    client = Client()
    client.force_login(clinic_admin)
    response = client.get(reverse("admin:patients_patient_history", args=[touched_patient.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    access = page[page.index('id="access-history"') : page.index('id="change-history"')]
    changes = page[page.index('id="change-history"') :]
    assert "api.patient.retrieve" in access and clinician.username in access
    assert "phone" in changes and clinician.username in changes
    log = client.get(
        reverse("admin:clinic_accesslogentry_changelist"), {"patient": touched_patient.pk}
    )
    assert log.status_code == 200
    assert "api.patient.retrieve" in log.content.decode()


def test_patient_history_lists_changes_to_their_sessions_side_effects_and_follow_ups(
    api, reviewer, clinician
):
    patient = PatientFactory(family_name="Quinlan")
    session = SessionFactory(patient=patient, clinician=clinician)
    effect = SideEffectFactory(session=session)
    follow_up = FollowUpFactory(patient=patient, clinician=clinician, session=session)
    someone_elses = SessionFactory(clinician=clinician)
    for url, change in [
        (f"/api/v1/sessions/{session.pk}/", {"notes": "Tolerated well."}),
        (
            f"/api/v1/side-effects/{effect.pk}/",
            {"outcome": "resolved", "resolved_date": effect.onset_date.isoformat()},
        ),
        (f"/api/v1/follow-ups/{follow_up.pk}/", {"notes": "Bring the scan."}),
        (f"/api/v1/sessions/{someone_elses.pk}/", {"notes": "Another patient."}),
    ]:
        assert api.patch(url, change, format="json").status_code == 200

    response = reviewer.get(reverse("admin:patients_patient_history", args=[patient.pk]))

    changes = [row[1:5] for row in rows(response, "change-history")]
    assert ["dr.hale", f"injection session {session.pk}", "update", "notes"] in changes
    assert [
        "dr.hale",
        f"side effect {effect.pk}",
        "update",
        "outcome, resolved_date",
    ] in changes
    assert ["dr.hale", f"follow-up {follow_up.pk}", "update", "notes"] in changes
    recorded = {record for _, record, label, _ in changes if label == "insert"}
    assert {
        f"patient {patient.pk}",
        f"injection session {session.pk}",
        f"side effect {effect.pk}",
        f"follow-up {follow_up.pk}",
    } <= recorded
    assert not any(f"injection session {someone_elses.pk}" == row[1] for row in changes)


def test_clinic_admin_sees_a_users_activity(clinic_admin, clinician, touched_patient):
    client = Client()
    client.force_login(clinic_admin)
    response = client.get(reverse("admin:auth_user_history", args=[clinician.pk]))
    assert "api.patient.retrieve" in response.content.decode()
    changes = [row[2:5] for row in rows(response, "change-history")]
    assert [f"patient {touched_patient.pk}", "update", "phone"] in changes


def test_review_screens_are_for_clinic_admins_only(clinician, front_desk, touched_patient):
    for user in (clinician, front_desk):
        client = Client()
        client.force_login(user)
        url = reverse("admin:patients_patient_history", args=[touched_patient.pk])
        assert client.get(url).status_code == 403
        assert client.get(reverse("admin:clinic_accesslogentry_changelist")).status_code == 403


def test_access_log_is_read_only(clinic_admin, touched_patient):
    client = Client()
    client.force_login(clinic_admin)
    page = client.get(reverse("admin:clinic_accesslogentry_changelist")).content.decode()
    assert "delete_selected" not in page
    assert client.get(reverse("admin:clinic_accesslogentry_add")).status_code == 403


def test_access_log_names_each_entrys_patients_with_a_link_and_the_client_address(api, reviewer):
    first = PatientFactory(given_name="Ada", family_name="Quinlan")
    second = PatientFactory(given_name="Bea", family_name="Roth")
    api.get("/api/v1/patients/", REMOTE_ADDR="10.1.2.3")
    first.refresh_from_db()
    second.refresh_from_db()

    response = reviewer.get(reverse("admin:clinic_accesslogentry_changelist"))

    page = response.content.decode()
    assert "Client IP" in page
    # cells after the time: who, action, status, address, patients, request
    listing = [row for row in rows(response, "result_list") if row[1] == "api.patient.list"]
    assert len(listing) == 1
    assert listing[0][3] == "10.1.2.3"
    assert f"{first.mrn} Ada Quinlan" in listing[0][4]
    assert f"{second.mrn} Bea Roth" in listing[0][4]
    link = reverse("admin:patients_patient_change", args=[first.pk])
    assert f'<a href="{link}">{first.mrn} Ada Quinlan</a>' in page
    # Reading their names on this page is itself a read of patient data.
    seen = AccessLogEntry.objects.get(action="admin.accesslogentry.list")
    assert sorted(seen.patient_ids) == sorted([first.pk, second.pk])


def test_access_log_reads_the_patients_of_a_page_in_one_query(api_for, reviewer, clinician):
    def page_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = reviewer.get(reverse("admin:clinic_accesslogentry_changelist"))
            assert response.status_code == 200
        return len(queries)

    PatientFactory()
    api_for(clinician).get("/api/v1/patients/")
    few = page_queries()
    PatientFactory.create_batch(5)
    for _ in range(5):
        api_for(clinician).get("/api/v1/patients/")
    assert page_queries() == few
