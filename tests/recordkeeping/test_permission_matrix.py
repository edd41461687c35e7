"""Every API endpoint and admin page, for each role and for a user in no group: allowed,
denied, and which fields appear. Front desk answers hold no clinical field anywhere."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from recordkeeping.permissions import CLINICAL_MODELS, MATRIX, VIEW, allowed, readable_fields
from recordkeeping.roles import CLINIC_ADMIN, CLINICIAN, FRONT_DESK
from tests.conftest import token_client as api_for
from tests.factories import (
    FollowUpFactory,
    OutcomeScoreFactory,
    SideEffectFactory,
    SiteFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ROLES = [CLINICIAN, FRONT_DESK, CLINIC_ADMIN, None]
ENDPOINTS = {
    "patients.patient": "/api/v1/patients/",
    "patients.condition": "/api/v1/conditions/",
    "patients.outcomescore": "/api/v1/outcomes/",
    "treatments.treatmentcourse": "/api/v1/courses/",
    "treatments.injectionsession": "/api/v1/sessions/",
    "treatments.sideeffect": "/api/v1/side-effects/",
    "treatments.followup": "/api/v1/follow-ups/",
}


@pytest.fixture
def records():
    site = SiteFactory(injectate__prp=True)
    session = site.session
    SideEffectFactory(session=session, site=site)
    score = OutcomeScoreFactory(patient=session.patient)
    session.course = score.course
    session.notes = "Patient anxious."
    session.save()
    FollowUpFactory(patient=session.patient, session=session, course=score.course)
    return session


def user_with(role: str | None):
    return UserFactory(username=f"user-{role or 'none'}".replace(" ", "-").lower(), role=role)


def hidden_fields(user) -> set[str]:
    """Field names of clinical models this user may not read anywhere."""
    every, readable = set(), set()
    for label in CLINICAL_MODELS:
        model = apps.get_model(label)
        names = {f.name for f in model._meta.concrete_fields} | {
            rel.get_accessor_name() for rel in model._meta.related_objects
        }
        every |= names
        fields = readable_fields(user, model)
        if allowed(user, model, VIEW):
            readable |= names if fields is None else set(fields)
    return every - readable


def keys(data: Any) -> set[str]:
    if isinstance(data, dict):
        return set(data) | set().union(*(keys(value) for value in data.values()))
    if isinstance(data, list):
        return set().union(*(keys(item) for item in data)) if data else set()
    return set()


@pytest.mark.parametrize("role", ROLES)
def test_api_matrix(records, role):
    user = user_with(role)
    client = api_for(user)
    hidden = hidden_fields(user)
    for label, url in ENDPOINTS.items():
        model = apps.get_model(label)
        can_view = allowed(user, model, VIEW)
        listing = client.get(url)
        assert listing.status_code == (200 if can_view else 403), (role, url)
        if not can_view:
            continue
        rows = listing.json()["results"]
        assert rows, (role, url)
        detail = client.get(f"{url}{rows[0]['id']}/")
        assert detail.status_code == 200
        readable = readable_fields(user, model)
        if readable is not None:
            assert set(detail.json()) <= readable, (role, url)
        assert not keys(detail.json()) & hidden, (role, url, keys(detail.json()) & hidden)
        assert not keys(listing.json()) & hidden, (role, url)
    timeline = client.get(f"/api/v1/patients/{records.patient_id}/timeline/")
    if allowed(user, records.patient, VIEW):
        body = timeline.json()
        assert not keys(body) & hidden, (role, keys(body) & hidden)
        kinds = {event["kind"] for event in body["events"]}
        expected = {
            kind
            for kind, label in (
                ("session", "treatments.injectionsession"),
                ("side_effect", "treatments.sideeffect"),
                ("follow_up", "treatments.followup"),
                ("outcome", "patients.outcomescore"),
            )
            if allowed(user, apps.get_model(label), VIEW)
        }
        assert kinds == expected
    else:
        assert timeline.status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_api_writes_follow_the_matrix(records, role):
    user = user_with(role)
    client = api_for(user)
    patient = client.post(
        "/api/v1/patients/",
        {"given_name": "Ann", "family_name": "Byrne", "birth_date": "1980-01-01"},
        format="json",
    )
    assert patient.status_code == (201 if role in (CLINICIAN, FRONT_DESK) else 403)
    notes = client.patch(f"/api/v1/sessions/{records.pk}/", {"notes": "x"}, format="json")
    assert notes.status_code == (200 if role == CLINICIAN else 403)
    archive = client.post(f"/api/v1/patients/{records.patient_id}/archive/")
    assert archive.status_code == (200 if role in (CLINICIAN, FRONT_DESK) else 403)


def test_front_desk_cannot_write_clinical_fields_of_a_patient(records):
    client = api_for(user_with(FRONT_DESK))
    response = client.patch(
        f"/api/v1/patients/{records.patient_id}/", {"allergies": "penicillin"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"allergies": ["Unknown field."]}


@pytest.mark.parametrize("role", ROLES)
def test_admin_matrix(records, role):
    user = user_with(role)
    client = Client()
    client.force_login(user)
    objects = {
        "patients.patient": records.patient,
        "patients.condition": records.course.condition,
        "patients.outcomescore": records.patient.outcome_scores.get(),
        "treatments.treatmentcourse": records.course,
        "treatments.injectionsession": records,
        "treatments.injectate": records.injectates.get(),
        "treatments.sideeffect": records.side_effects.get(),
        "treatments.followup": records.follow_ups.get(),
    }
    index = client.get(reverse("admin:index")).content.decode()
    for label, obj in objects.items():
        model = type(obj)
        opts = model._meta
        name = f"admin:{opts.app_label}_{opts.model_name}"
        can_view = allowed(user, model, VIEW)
        assert (reverse(f"{name}_changelist") in index) == can_view, (role, label)
        changelist = client.get(reverse(f"{name}_changelist"))
        change = client.get(reverse(f"{name}_change", args=[obj.pk]))
        assert changelist.status_code == change.status_code == (200 if can_view else 403)
        if not can_view:
            continue
        readable = readable_fields(user, model)
        page = change.content.decode() + changelist.content.decode()
        for field in opts.concrete_fields:
            if readable is not None and field.name not in readable:
                assert f"field-{field.name}" not in page, (role, label, field.name)
        model_admin = admin.site._registry[model]
        request = change.wsgi_request
        add = client.get(reverse(f"{name}_add"))
        assert add.status_code == (200 if model_admin.has_add_permission(request) else 403)


def test_front_desk_admin_pages_show_no_clinical_detail(records):
    client = Client()
    client.force_login(user_with(FRONT_DESK))
    for url in (
        reverse("admin:patients_patient_change", args=[records.patient_id]),
        reverse("admin:treatments_injectionsession_change", args=[records.pk]),
        reverse("admin:treatments_injectionsession_changelist"),
        reverse("admin:treatments_treatmentcourse_change", args=[records.course_id]),
    ):
        page = client.get(url).content.decode()
        for clinical in ("Patient anxious.", "PRP", "Primary osteoarthritis", "Lidocaine"):
            assert clinical not in page, (url, clinical)


def test_matrix_names_only_real_fields():
    for grants in MATRIX.values():
        for label, grant in grants.items():
            names = {f.name for f in apps.get_model(label)._meta.get_fields()}
            assert grant.fields is None or grant.fields <= names, label


def test_group_permissions_mirror_the_matrix():
    from django.contrib.auth.models import Group

    apps_in_matrix = {label.split(".")[0] for grants in MATRIX.values() for label in grants}
    for role, grants in MATRIX.items():
        expected = {
            f"{label.split('.')[0]}.{action}_{label.split('.')[1]}"
            for label, grant in grants.items()
            for action in grant.actions
        }
        group = Group.objects.get(name=role)
        clinical = {
            f"{p.content_type.app_label}.{p.codename}"
            for p in group.permissions.select_related("content_type")
            if p.content_type.app_label in apps_in_matrix
        }
        assert clinical == expected, role
