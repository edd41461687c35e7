from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from tests.factories import (
    FollowUpFactory,
    InjectateFactory,
    OutcomeScoreFactory,
    SessionFactory,
    SideEffectFactory,
    SiteFactory,
)

pytestmark = pytest.mark.django_db


def test_timeline_lists_everything_in_date_order(api):
    now = timezone.now()
    first = SessionFactory(performed_at=now - datetime.timedelta(days=40))
    patient = first.patient
    site = SiteFactory(session=first, injectate=InjectateFactory(session=first, prp=True))
    second = SessionFactory(patient=patient, performed_at=now - datetime.timedelta(days=10))
    effect = SideEffectFactory(
        session=first,
        site=site,
        onset_date=timezone.localdate(first.performed_at) + datetime.timedelta(days=1),
    )
    score = OutcomeScoreFactory(
        patient=patient, measured_on=timezone.localdate() - datetime.timedelta(days=50)
    )
    visit = FollowUpFactory(patient=patient, session=second)
    SessionFactory()  # another patient's

    response = api.get(f"/api/v1/patients/{patient.pk}/timeline/")
    assert response.status_code == 200
    body = response.json()
    assert body["patient"]["mrn"] == patient.mrn
    order = [(e["kind"], e[e["kind"]]["id"]) for e in body["events"]]
    assert order == [
        ("outcome", score.pk),
        ("session", first.pk),
        ("side_effect", effect.pk),
        ("session", second.pk),
        ("follow_up", visit.pk),
    ]
    session = body["events"][1]["session"]
    assert session["injectates"][0]["kind"] == "prp"
    assert session["sites"][0]["structure"] == site.structure
    assert session["sites"][0]["injectate_line"] == site.injectate.line


def test_timeline_of_unknown_patient_is_404(api):
    assert api.get("/api/v1/patients/424242/timeline/").status_code == 404
