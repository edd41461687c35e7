"""A role never learns a field it may not read by filtering, ordering or searching on it: for
each role and each field the permission matrix hides from it, every API filter, ordering and
search parameter and every admin change-list lookup that touches the field is refused, and the
others still work."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import models
from django.test import Client
from django.urls import reverse

from patients.api import ConditionViewSet, OutcomeScoreViewSet, PatientViewSet
from recordkeeping.permissions import MATRIX
from recordkeeping.roles import CLINIC_ADMIN, CLINICIAN, FRONT_DESK
from tests.conftest import token_client
from tests.factories import (
    FollowUpFactory,
    OutcomeScoreFactory,
    SideEffectFactory,
    SiteFactory,
    UserFactory,
)
from treatments.api import CourseViewSet, FollowUpViewSet, SessionViewSet, SideEffectViewSet

pytestmark = pytest.mark.django_db

ROLES = [CLINICIAN, FRONT_DESK, CLINIC_ADMIN]
LISTS = {
    "/api/v1/patients/": PatientViewSet,
    "/api/v1/conditions/": ConditionViewSet,
    "/api/v1/outcomes/": OutcomeScoreViewSet,
    "/api/v1/courses/": CourseViewSet,
    "/api/v1/sessions/": SessionViewSet,
    "/api/v1/side-effects/": SideEffectViewSet,
    "/api/v1/follow-ups/": FollowUpViewSet,
}
# A value of each kind of filter (others get "x"; a value a filter cannot take is a 400 of its
# own, which names the parameter with another message).
SAMPLE = {
    "BooleanFilter": "true",
    "NumberFilter": "1",
    "DateFilter": "2026-01-01",
    "MomentFilter": "2026-01-01T00:00:00Z",
}


def hidden(role: str, label: str) -> set[str]:
    """The fields of a model the matrix does not let ``role`` read (all, for a model it may not
    see): read straight from the matrix, not through the code under test."""
    model = apps.get_model(label)
    every = {f.name for f in model._meta.get_fields()}
    grant = MATRIX[role].get(label)
    if grant is None:
        return every
    return set() if grant.fields is None else every - grant.fields


def touches_hidden(role: str, model: type[models.Model], path: str) -> bool:
    """Whether a lookup path walks through a field hidden from ``role``."""
    for part in path.split("__"):
        names = {f.name: f for f in model._meta.get_fields()}
        field = names.get(part)
        if field is None:
            return False
        if part in hidden(role, model._meta.label_lower) and field.concrete:
            return True
        if not field.is_relation:
            return False
        model = field.related_model
        if not field.concrete and not MATRIX[role].get(model._meta.label_lower):
            return True  # rows of a model the role may not see at all
    return False


def filter_paths(filterset: type, name: str) -> tuple[str, ...]:
    declared = filterset.base_filters[name]
    if declared.method:
        return filterset.reads[name]
    return (declared.field_name,)


REFUSED = "Your role may not read this field, so it may not filter, search or order by it."


@pytest.fixture
def records():
    site = SiteFactory(injectate__prp=True)
    session = site.session
    SideEffectFactory(session=session, site=site)
    score = OutcomeScoreFactory(patient=session.patient)
    session.course = score.course
    session.save()
    FollowUpFactory(patient=session.patient, course=score.course)
    return session


def test_every_filter_by_a_method_says_what_it_reads():
    for viewset in LISTS.values():
        filterset = viewset.filterset_class
        for name, declared in filterset.base_filters.items():
            if declared.method:
                assert name in getattr(filterset, "reads", {}), (filterset.__name__, name)


@pytest.mark.parametrize("role", ROLES)
def test_api_refuses_every_parameter_that_touches_a_hidden_field(records, role):
    client = token_client(UserFactory(role=role))
    refused_count = 0
    for url, viewset in LISTS.items():
        model = viewset().get_queryset().model
        if model._meta.label_lower not in MATRIX[role]:
            assert client.get(url).status_code == 403
            continue
        filterset = viewset.filterset_class
        for name, declared in filterset.base_filters.items():
            answer = client.get(url, {name: SAMPLE.get(type(declared).__name__, "x")})
            errors = answer.json().get("errors", {}) if answer.status_code == 400 else {}
            if any(touches_hidden(role, model, p) for p in filter_paths(filterset, name)):
                refused_count += 1
                assert errors.get(name) == [REFUSED], (role, url, name, answer.content)
            else:
                assert errors.get(name) != [REFUSED], (role, url, name)
        for term in viewset.ordering_fields:
            answer = client.get(url, {"ordering": f"-{term}"})
            assert answer.status_code == (400 if touches_hidden(role, model, term) else 200)
        search = [f.lstrip("^=@$") for f in getattr(viewset, "search_fields", [])]
        if search:
            answer = client.get(url, {"search": "a"})
            refused = any(touches_hidden(role, model, f) for f in search)
            assert answer.status_code == (400 if refused else 200)
    if role == FRONT_DESK:
        assert refused_count >= 7  # the seven of the test below, at least


@pytest.mark.parametrize(
    ("url", "parameter", "value"),
    [
        ("/api/v1/patients/", "anticoagulant_use", "false"),
        ("/api/v1/sessions/", "lot_number", "D12345"),
        ("/api/v1/sessions/", "treatment", "prp"),
        ("/api/v1/sessions/", "body_region", "knee"),
        ("/api/v1/sessions/", "guidance", "landmark"),
        ("/api/v1/courses/", "condition", None),
        ("/api/v1/courses/", "planned_treatment", "prp"),
    ],
)
def test_front_desk_cannot_count_rows_by_a_clinical_value(records, url, parameter, value):
    value = value or records.course.condition_id
    patient = records.patient
    narrowed = {"mrn": patient.mrn} if url == "/api/v1/patients/" else {"patient": patient.pk}
    desk = token_client(UserFactory(role=FRONT_DESK))
    answer = desk.get(url, {**narrowed, parameter: value})
    assert answer.status_code == 400
    assert answer.json()["errors"] == {parameter: [REFUSED]}
    assert f"{parameter}: {REFUSED}" in answer.json()["detail"]
    clinician = token_client(UserFactory(role=CLINICIAN))
    assert len(clinician.get(url, {**narrowed, parameter: value}).json()["results"]) == 1


def admin_lookups(role: str) -> list[tuple[str, str, bool]]:
    """(change list URL, lookup, refused?): every field hidden from the role in each admin it
    may open, and the record's id, which every role that opens the list reads."""
    cases = []
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label_lower
        if label not in MATRIX[role] or not hasattr(model_admin, "visible"):
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        cases.append((url, "id__isnull", False))
        for field in model._meta.concrete_fields:
            if field.name in hidden(role, label):
                cases.append((url, f"{field.name}__isnull", True))
    return cases


@pytest.mark.parametrize("role", ROLES)
def test_admin_refuses_lookups_on_hidden_fields(records, role):
    client = Client()
    client.force_login(UserFactory(role=role))
    cases = admin_lookups(role)
    assert cases
    for url, lookup, refused in cases:
        status = client.get(url, {lookup: "True"}).status_code
        assert status == (400 if refused else 200), (role, url, lookup, status)
    if role == FRONT_DESK:
        assert sum(refused for *_, refused in cases) >= 10


def test_admin_refuses_the_front_desks_searches_of_hidden_text(records):
    records.patient.allergies = "Allergic to chlorhexidine"
    records.patient.save()
    records.notes = "Very anxious about needles"
    records.save()
    desk = Client()
    desk.force_login(UserFactory(role=FRONT_DESK))
    for url, lookup in (
        ("admin:patients_patient_changelist", {"allergies__icontains": "chlorhexidine"}),
        ("admin:treatments_injectionsession_changelist", {"notes__icontains": "anxious"}),
        ("admin:patients_patient_changelist", {"anticoagulant_use__exact": "1"}),
        ("admin:treatments_injectionsession_changelist", {"pre_pain_score__gte": "0"}),
        ("admin:treatments_injectionsession_changelist", {"treatment": "prp"}),
        ("admin:treatments_treatmentcourse_changelist", {"planned_treatment": "prp"}),
    ):
        answer = desk.get(reverse(url), lookup)
        assert answer.status_code == 400, (url, lookup)
        assert "chlorhexidine" not in answer.content.decode()
    # The course search of the booking screen's autocomplete no longer looks at conditions.
    course_admin = admin.site._registry[records.course.__class__] if records.course else None
    if course_admin is not None:
        request = desk.get(reverse("admin:index")).wsgi_request
        assert "condition__icd10_code" not in course_admin.get_search_fields(request)
