from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from patients.models import InstrumentMcid
from tests.factories import (
    FollowUpFactory,
    OutcomeScoreFactory,
    ReminderFactory,
    SideEffectFactory,
    SiteFactory,
)
from treatments.models import FollowUpRule

pytestmark = pytest.mark.django_db

CLINICAL_APPS = {"patients", "treatments"}


@pytest.fixture
def records():
    """One of every record, linked as in a real clinic."""
    site = SiteFactory(injectate__prp=True)
    session = site.session
    side_effect = SideEffectFactory(session=session, site=site)
    score = OutcomeScoreFactory(patient=session.patient)
    session.course = score.course
    session.save()
    follow_up = FollowUpFactory(patient=session.patient, session=session, course=score.course)
    return {
        "patient": session.patient,
        "condition": score.course.condition,
        "outcomescore": score,
        "treatmentcourse": score.course,
        "injectionsession": session,
        "injectate": site.injectate,
        "sideeffect": side_effect,
        "followup": follow_up,
        "followuprule": FollowUpRule.objects.order_by("id").first(),
        "reminder": ReminderFactory(follow_up=follow_up),
        "instrumentmcid": InstrumentMcid.objects.get(instrument="nprs"),
    }


def clinical_model_admins():
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in CLINICAL_APPS
    ]


@pytest.mark.parametrize("user_fixture", ["superuser", "clinician"])
def test_every_clinical_admin_page_renders(request, records, user_fixture):
    client = Client()
    client.force_login(request.getfixturevalue(user_fixture))
    for model, model_admin in clinical_model_admins():
        opts = model._meta
        name = f"admin:{opts.app_label}_{opts.model_name}"
        changelist = client.get(reverse(f"{name}_changelist"))
        assert changelist.status_code == 200, opts.model_name
        obj = records[opts.model_name]
        change_url = reverse(f"{name}_change", args=[obj.pk])
        assert change_url in changelist.content.decode(), opts.model_name
        change = client.get(change_url)
        assert change.status_code == 200, opts.model_name
        add = client.get(reverse(f"{name}_add"))
        can_add = model_admin.has_add_permission(change.wsgi_request)
        assert add.status_code == (200 if can_add else 403), opts.model_name


def test_changelist_filters_and_search_answer(superuser, records, client):
    client.force_login(superuser)
    session = records["injectionsession"]
    url = reverse("admin:treatments_injectionsession_changelist")
    for query in (
        {"treatment": "prp"},
        {"treatment": "prp_dextrose"},
        {"side_effect_grade": "any"},
        {"side_effect_grade": "3"},
        {"clinician": str(session.clinician_id)},
        {"status": "completed"},
        {"q": session.patient.mrn},
        {"q": session.patient.family_name},
        {"performed_at__year": str(session.performed_at.year)},
    ):
        assert client.get(url, query).status_code == 200, query
    found = client.get(url, {"treatment": "prp"}).content.decode()
    assert str(session.patient) in found
    empty = client.get(url, {"treatment": "prp_dextrose"}).content.decode()
    assert str(session.patient) not in empty


def test_patient_page_shows_conditions_courses_sessions_and_follow_ups(superuser, records, client):
    client.force_login(superuser)
    patient = records["patient"]
    page = client.get(reverse("admin:patients_patient_change", args=[patient.pk])).content.decode()
    assert "Primary osteoarthritis of knee" in page
    assert "Recent sessions" in page
    assert (
        reverse("admin:treatments_injectionsession_change", args=[records["injectionsession"].pk])
        in page
    )
    assert reverse("admin:treatments_followup_change", args=[records["followup"].pk]) in page
    assert "PRP" in page


def test_admin_search_finds_patient_by_mrn_and_name(superuser, records, client):
    client.force_login(superuser)
    patient = records["patient"]
    url = reverse("admin:patients_patient_changelist")
    for term in (patient.mrn, patient.family_name, patient.family_name[:4].lower()):
        assert patient.mrn in client.get(url, {"q": term}).content.decode(), term
    assert patient.mrn not in client.get(url, {"q": "Nobody"}).content.decode()


def test_admin_finds_a_batchs_injectates_by_lot_in_any_case_or_product_words(
    superuser, records, client
):
    client.force_login(superuser)
    injectate = records["injectate"]
    injectate.lot_number, injectate.product_name = "K20931", "Arthrex Angel PRP kit"
    injectate.save()
    url = reverse("admin:treatments_injectate_changelist")
    found = f"/admin/treatments/injectate/{injectate.pk}/"
    for term in ("K20931", "k20931", "angel prp"):
        assert found in client.get(url, {"q": term}).content.decode(), term
    for term in ("K2093", "Nobody"):  # a lot is matched whole
        assert found not in client.get(url, {"q": term}).content.decode(), term


def test_nothing_clinical_can_be_deleted_from_the_admin(superuser, records, client):
    client.force_login(superuser)
    for model, _ in clinical_model_admins():
        opts = model._meta
        obj = records[opts.model_name]
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[obj.pk])
        assert client.post(url, {"post": "yes"}).status_code == 403, opts.model_name
        assert model.objects.filter(pk=obj.pk).exists()
        changelist = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        assert "delete_selected" not in changelist.content.decode()


def test_archive_action_keeps_the_patient(superuser, records, client):
    client.force_login(superuser)
    patient = records["patient"]
    response = client.post(
        reverse("admin:patients_patient_changelist"),
        {"action": "archive", "_selected_action": [patient.pk]},
        follow=True,
    )
    assert "Archived: 1." in response.content.decode()
    patient.refresh_from_db()
    assert patient.is_archived


def test_cancel_action_refuses_a_completed_session(superuser, records, client):
    client.force_login(superuser)
    session = records["injectionsession"]
    response = client.post(
        reverse("admin:treatments_injectionsession_changelist"),
        {"action": "cancel", "_selected_action": [session.pk]},
        follow=True,
    )
    assert "Only a planned session can be cancelled." in response.content.decode()
    session.refresh_from_db()
    assert session.status == "completed"


def test_front_desk_patient_page_shows_no_clinical_detail(front_desk, records, client):
    client.force_login(front_desk)
    patient = records["patient"]
    response = client.get(reverse("admin:patients_patient_change", args=[patient.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert patient.family_name in page
    assert "Upcoming follow-ups" in page
    assert "Recent sessions" not in page
    session_url = reverse(
        "admin:treatments_injectionsession_change", args=[records["injectionsession"].pk]
    )
    assert session_url not in page
    assert "Primary osteoarthritis" not in page


@pytest.mark.parametrize("user_fixture", ["clinician", "front_desk", "clinic_admin"])
def test_each_role_reaches_the_admin_index(request, client, user_fixture):
    client.force_login(request.getfixturevalue(user_fixture))
    page = client.get(reverse("admin:index")).content.decode()
    assert "Patients" in page


def test_front_desk_sees_only_date_and_status_of_a_session(front_desk, records, client):
    client.force_login(front_desk)
    session = records["injectionsession"]
    url = reverse("admin:treatments_injectionsession_change", args=[session.pk])
    page = client.get(url).content.decode()
    assert "field-performed_at" in page and "field-status" in page
    for hidden in ("field-notes", "field-pre_pain_score", "injectates-group", "side_effects-group"):
        assert hidden not in page
