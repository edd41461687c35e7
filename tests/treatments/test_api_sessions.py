"""One request logs a whole session: injectates and sites nested, all or nothing."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from tests.factories import (
    CourseFactory,
    InjectateFactory,
    PatientFactory,
    SessionFactory,
    SideEffectFactory,
    SiteFactory,
)
from treatments.models import Injectate, InjectionSession, InjectionSite

pytestmark = pytest.mark.django_db

URL = "/api/v1/sessions/"


def expiry(days: int = 200) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


def session_payload(patient, clinician, **overrides):
    return {
        "patient": patient.pk,
        "clinician": clinician.pk,
        "performed_at": (timezone.now() - datetime.timedelta(hours=1)).isoformat(),
        "status": "completed",
        "guidance": "ultrasound",
        "consent_obtained": True,
        "pre_pain_score": 7,
        "injectates": [
            {
                "line": 1,
                "kind": "prp",
                "volume_ml": "5.0",
                "lot_number": "K1",
                "expiry_date": expiry(),
                "whole_blood_ml": "30",
                "spins": 2,
                "anticoagulant": "acd_a",
                "activation": "none",
                "leukocytes": "poor",
                "platelet_count": 1100,
                "baseline_platelet_count": 240,
            },
            {
                "line": 2,
                "kind": "dextrose",
                "volume_ml": "10",
                "lot_number": "D2",
                "expiry_date": expiry(),
                "dextrose_pct": "15",
                "anaesthetic": "lidocaine",
                "anaesthetic_pct": "0.5",
            },
        ],
        "sites": [
            {
                "line": 1,
                "injectate_line": 1,
                "body_region": "knee",
                "structure": "Knee joint",
                "tissue": "intra_articular",
                "laterality": "right",
                "volume_ml": "5",
            },
            {
                "line": 2,
                "injectate_line": 2,
                "body_region": "knee",
                "structure": "Medial collateral ligament",
                "tissue": "ligament",
                "laterality": "right",
                "volume_ml": "4",
                "needle_gauge": 25,
            },
            {
                "line": 3,
                "injectate_line": 2,
                "body_region": "knee",
                "structure": "Pes anserinus",
                "tissue": "enthesis",
                "laterality": "right",
                "volume_ml": "3",
            },
        ],
    } | overrides


def test_one_request_logs_a_session_with_injectates_and_sites(api, clinician):
    patient = PatientFactory()
    response = api.post(URL, session_payload(patient, clinician), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert response["ETag"]
    assert [i["kind"] for i in body["injectates"]] == ["prp", "dextrose"]
    assert body["injectates"][0]["concentration_factor"] == "4.6"
    assert body["injectates"][0]["paw_platelet_band"] == "P3"
    assert [(s["structure"], s["injectate_line"]) for s in body["sites"]] == [
        ("Knee joint", 1),
        ("Medial collateral ligament", 2),
        ("Pes anserinus", 2),
    ]
    session = InjectionSession.objects.get(pk=body["id"])
    assert session.sites.get(line=3).injectate.kind == "dextrose"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p["sites"][2].update(injectate_line=3), "sites.2.injectate_line"),
        (lambda p: p["sites"][1].update(volume_ml="0"), "sites.1.volume_ml"),
        (lambda p: p["sites"][1].update(needle_gauge=40), "sites.1.needle_gauge"),
        (lambda p: p["injectates"][1].update(dextrose_pct="80"), "injectates.1.dextrose_pct"),
        (lambda p: p["injectates"][0].update(spins=None), "injectates.0.spins"),
        (lambda p: p["injectates"][1].update(expiry_date="2001-01-01"), "injectates.1.expiry_date"),
        (lambda p: p["injectates"][1].update(line=1), "injectates.1.line"),
        (lambda p: p.update(pre_pain_score=11), "pre_pain_score"),
        (lambda p: p.update(consent_obtained=False), "consent_obtained"),
        (
            lambda p: p.update(
                performed_at=(timezone.now() + datetime.timedelta(days=1)).isoformat()
            ),
            "performed_at",
        ),
        (lambda p: p["sites"][0].update(colour="red"), "sites.0.colour"),
        (lambda p: p.update(mood="good"), "mood"),
    ],
)
def test_a_bad_part_leaves_no_session_behind(api, clinician, change, field):
    payload = session_payload(PatientFactory(), clinician)
    change(payload)
    response = api.post(URL, payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert body["status"] == 400 and body["title"] == "Bad Request"
    assert field in body["errors"], body
    for model in (InjectionSession, Injectate, InjectionSite):
        assert not model.objects.exists()


def test_put_replaces_nested_parts_by_number(api, clinician):
    created = api.post(URL, session_payload(PatientFactory(), clinician), format="json").json()
    payload = {k: v for k, v in created.items() if k not in ("injectates", "sites")}
    payload["injectates"] = [created["injectates"][1] | {"volume_ml": "12.00"}]
    payload["sites"] = [created["sites"][1] | {"line": 1}]
    response = api.put(f"{URL}{created['id']}/", payload, format="json")
    assert response.status_code == 200, response.json()
    session = InjectionSession.objects.get(pk=created["id"])
    assert [(i.line, i.kind, str(i.volume_ml)) for i in session.injectates.all()] == [
        (2, "dextrose", "12.00")
    ]
    assert [(s.line, s.injectate.line) for s in session.sites.all()] == [(1, 2)]


def test_patch_without_parts_keeps_them(api, clinician):
    site = SiteFactory(session__clinician=clinician)
    response = api.patch(f"{URL}{site.session_id}/", {"notes": "Tolerated well."}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["notes"] == "Tolerated well."
    assert len(response.json()["sites"]) == 1


def test_a_site_with_a_side_effect_is_not_dropped_by_a_replace(api, clinician):
    site = SiteFactory()
    SideEffectFactory(session=site.session, site=site)
    response = api.patch(f"{URL}{site.session_id}/", {"sites": []}, format="json")
    assert response.status_code == 400
    assert "side effect" in response.json()["errors"]["sites"][0]
    assert InjectionSite.objects.filter(pk=site.pk).exists()


def test_moving_the_session_after_a_batch_expiry_is_refused(api):
    injectate = InjectateFactory(expiry_date=timezone.localdate() + datetime.timedelta(days=3))
    later = (timezone.now() + datetime.timedelta(days=30)).isoformat()
    response = api.patch(
        f"{URL}{injectate.session_id}/", {"performed_at": later, "status": "planned"}, format="json"
    )
    assert response.status_code == 400
    assert "performed_at" in response.json()["errors"]


def test_stale_if_match_is_refused_and_changes_nothing(api):
    session = SessionFactory(notes="first")
    etag = api.get(f"{URL}{session.pk}/")["ETag"]
    fresh = api.patch(f"{URL}{session.pk}/", {"notes": "second"}, HTTP_IF_MATCH=etag)
    assert fresh.status_code == 200
    stale = api.patch(f"{URL}{session.pk}/", {"notes": "third"}, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert stale.json()["status"] == 412
    session.refresh_from_db()
    assert session.notes == "second"
    assert (
        api.patch(
            f"{URL}{session.pk}/", {"notes": "third"}, HTTP_IF_MATCH=fresh["ETag"]
        ).status_code
        == 200
    )


def test_cancel_a_planned_session_with_reason(api):
    session = SessionFactory(status="planned", consent_obtained=False)
    response = api.post(f"{URL}{session.pk}/cancel/", {"reason": "Patient unwell."})
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancel_reason"] == "Patient unwell."
    completed = SessionFactory()
    refused = api.post(f"{URL}{completed.pk}/cancel/", {"reason": "x"})
    assert refused.status_code == 400
    assert "status" in refused.json()["errors"]


def test_sessions_can_not_be_deleted(api):
    session = SessionFactory()
    assert api.delete(f"{URL}{session.pk}/").status_code == 405
    assert InjectionSession.objects.filter(pk=session.pk).exists()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"treatment": "prp"}, {"prp", "prp+dextrose"}),
        ({"treatment": "prp_dextrose"}, {"prp+dextrose"}),
        ({"treatment": "dextrose"}, {"dextrose", "prp+dextrose"}),
        ({"body_region": "elbow"}, {"dextrose"}),
        ({"lot_number": "LOT-PRP"}, {"prp", "prp+dextrose"}),
        ({"status": "planned"}, set()),
    ],
)
def test_session_filters(api, query, expected):
    made = {}
    for name, kinds in (
        ("prp", ["prp"]),
        ("dextrose", ["dextrose"]),
        ("prp+dextrose", ["prp", "dextrose"]),
    ):
        session = SessionFactory(notes=name)
        for line, kind in enumerate(kinds, start=1):
            traits = {"prp": True, "lot_number": "LOT-PRP"} if kind == "prp" else {}
            injectate = InjectateFactory(session=session, line=line, **traits)
        SiteFactory(
            session=session,
            injectate=injectate,
            body_region="elbow" if name == "dextrose" else "knee",
        )
        made[name] = session
    response = api.get(URL, query)
    assert response.status_code == 200
    assert {s["notes"] for s in response.json()["results"]} == expected


def test_sessions_filter_by_clinician_and_date(api, clinician):
    mine = SessionFactory(
        clinician=clinician, performed_at=timezone.now() - datetime.timedelta(days=2)
    )
    SessionFactory(performed_at=timezone.now() - datetime.timedelta(days=2))
    SessionFactory(clinician=clinician, performed_at=timezone.now() - datetime.timedelta(days=40))
    since = (timezone.now() - datetime.timedelta(days=7)).isoformat()
    response = api.get(URL, {"clinician": clinician.pk, "performed_after": since})
    assert [s["id"] for s in response.json()["results"]] == [mine.pk]


def test_course_must_belong_to_the_patient(api, clinician):
    payload = session_payload(PatientFactory(), clinician, course=CourseFactory().pk)
    response = api.post(URL, payload, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["course"] == ["This course belongs to another patient."]
