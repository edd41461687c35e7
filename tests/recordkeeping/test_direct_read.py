"""Serializers reading columns straight off the instance (DirectReadMixin) give exactly what
DRF's own field-by-field read gives, for every role, in any current time zone."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import timezone
from rest_framework import serializers
from rest_framework.request import Request

from patients.models import Condition, OutcomeScore, Patient
from patients.serializers import ConditionSerializer, OutcomeScoreSerializer, PatientSerializer
from recordkeeping.api.base import DirectReadMixin
from tests.factories import UserFactory
from treatments.models import FollowUp, InjectionSession, SideEffect, TreatmentCourse
from treatments.serializers import (
    CourseSerializer,
    FollowUpSerializer,
    SessionSerializer,
    SideEffectSerializer,
)

pytestmark = pytest.mark.django_db

READS = [
    (PatientSerializer, Patient.objects.all),
    (ConditionSerializer, Condition.objects.all),
    (CourseSerializer, TreatmentCourse.objects.all),
    (SessionSerializer, InjectionSession.objects.with_parts),
    (SideEffectSerializer, SideEffect.objects.all),
    (FollowUpSerializer, FollowUp.objects.select_related("patient").all),
    (OutcomeScoreSerializer, OutcomeScore.objects.all),
]


@pytest.fixture
def history(db):
    call_command("seed_demo", patients=12, seed=5, verbosity=0)


def read(serializer_class, records, role):
    request = Request(RequestFactory().get("/"))
    request.user = UserFactory(role=role)
    return serializer_class(records, many=True, context={"request": request}).data


@pytest.mark.parametrize("zone", ["UTC", "America/St_Johns"])
@pytest.mark.parametrize("role", ["Clinician", "Front desk", "Clinic admin"])
@pytest.mark.parametrize(
    ("serializer_class", "records"), READS, ids=[read[0].__name__ for read in READS]
)
def test_it_reads_what_drf_reads(history, monkeypatch, serializer_class, records, role, zone):
    rows = list(records()[:40])
    assert rows
    with timezone.override(zone):
        direct = read(serializer_class, rows, role)
        monkeypatch.setattr(
            DirectReadMixin, "to_representation", serializers.Serializer.to_representation
        )
        drfs = read(serializer_class, rows, role)
    assert direct == drfs
    if role == "Clinician":  # reads every field of these (other roles: some, or none)
        assert all(len(row) == len(serializer_class.Meta.fields) for row in direct)
