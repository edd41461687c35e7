"""Clinic admins review, read-only, who saw or changed a patient and what a user did."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


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


def test_clinic_admin_sees_a_users_activity(clinic_admin, clinician, touched_patient):
    client = Client()
    client.force_login(clinic_admin)
    page = client.get(reverse("admin:auth_user_history", args=[clinician.pk])).content.decode()
    assert "api.patient.retrieve" in page
    assert f"patients.PatientEvent {touched_patient.pk}" in page


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
