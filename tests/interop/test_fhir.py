"""FHIR R4 export: a patient's Bundle and the clinic's bulk export validate with fhir.resources'
R4B models, every reference in a Bundle resolves inside it, and ids stay the same."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from interop import bulk as exports
from interop import tasks
from interop.models import FhirExport
from recordkeeping.models import AccessLogEntry
from tests.conftest import token_client as api_for
from tests.factories import (
    CourseFactory,
    FollowUpFactory,
    InjectateFactory,
    OutcomeScoreFactory,
    PatientFactory,
    SessionFactory,
    SideEffectFactory,
    SiteFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(clinician):
    """A patient with every kind of record."""
    patient = PatientFactory(given_name="Ines", family_name="Moreau")
    course = CourseFactory(patient=patient)
    session = SessionFactory(patient=patient, course=course, clinician=clinician, pre_pain_score=7)
    prp = InjectateFactory(session=session, prp=True, line=1, lot_number="ACP-2231")
    dextrose = InjectateFactory(session=session, line=2, lot_number="D-889")
    exosome = InjectateFactory(session=session, exosome=True, line=3)
    site = SiteFactory(session=session, injectate=prp, line=1, laterality="left")
    SiteFactory(
        session=session, injectate=dextrose, line=2, snomed_code="", structure="Pes anserine"
    )
    side_effect = SideEffectFactory(
        session=session, site=site, kind="infection", grade=3, serious=True, recorded_by=clinician
    )
    follow_up = FollowUpFactory(patient=patient, course=course, session=session)
    OutcomeScoreFactory(patient=patient, course=course, instrument="nprs", score=Decimal(6))
    OutcomeScoreFactory(
        patient=patient,
        course=course,
        instrument="koos_pain",
        score=Decimal(40),
        recorded_by=clinician,
    )
    return {
        "patient": patient,
        "session": session,
        "injectates": (prp, dextrose, exosome),
        "side_effect": side_effect,
        "follow_up": follow_up,
    }


def references(value) -> list[str]:
    if isinstance(value, dict):
        found = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return found + [ref for item in value.values() for ref in references(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in references(item)]
    return []


def export(api, patient) -> dict:
    response = api.get(f"/api/v1/patients/{patient.pk}/fhir/")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("application/fhir+json")
    return json.loads(response.content)


def test_the_bundle_validates_and_every_reference_resolves(api, record):
    bundle = export(api, record["patient"])
    Bundle.model_validate(bundle)
    resources = [entry["resource"] for entry in bundle["entry"]]
    for resource in resources:
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    present = {f"{r['resourceType']}/{r['id']}" for r in resources}
    refs = references(resources)
    assert refs and set(refs) <= present
    kinds = sorted({r["resourceType"] for r in resources})
    assert kinds == [
        "AdverseEvent",
        "Appointment",
        "Condition",
        "Medication",
        "Observation",
        "Patient",
        "Practitioner",
        "Procedure",
    ]


def test_the_records_map_as_the_domain_says(api, record):
    session, side_effect = record["session"], record["side_effect"]
    prp, dextrose, exosome = record["injectates"]
    by_key = {
        f"{e['resource']['resourceType']}/{e['resource']['id']}": e["resource"]
        for e in export(api, record["patient"])["entry"]
    }
    procedure = by_key[f"Procedure/{session.pk}"]
    assert procedure["status"] == "completed"
    # R4 allows only Device, Medication or Substance there: PRP is a Medication too.
    assert procedure["usedReference"] == [
        {"reference": f"Medication/{prp.pk}"},
        {"reference": f"Medication/{dextrose.pk}"},
        {"reference": f"Medication/{exosome.pk}"},
    ]
    knee = procedure["bodySite"][0]
    assert knee["coding"][0] == {
        "system": "http://snomed.info/sct",
        "code": "56716000",
        "display": "Medial collateral ligament",
    }
    assert knee["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "7771000"  # left
    assert "coding" not in procedure["bodySite"][1]  # no SNOMED code recorded: text only
    assert procedure["performer"] == [
        {"actor": {"reference": f"Practitioner/{session.clinician_id}"}}
    ]
    assert by_key[f"Medication/{prp.pk}"]["batch"]["lotNumber"] == "ACP-2231"
    assert by_key[f"Medication/{prp.pk}"]["code"]["text"].startswith("Platelet-rich plasma: ")
    medication = by_key[f"Medication/{dextrose.pk}"]
    assert medication["batch"] == {
        "lotNumber": "D-889",
        "expirationDate": dextrose.expiry_date.isoformat(),
    }
    event = by_key[f"AdverseEvent/{side_effect.pk}"]
    assert event["suspectEntity"] == [{"instance": {"reference": f"Procedure/{session.pk}"}}]
    # The HL7 code system's spelling: codes are case-sensitive.
    assert event["seriousness"]["coding"][0]["code"] == "Serious"
    assert event["severity"]["coding"][0]["code"] == "severe"
    codes = {key: r.get("code", {}).get("coding", [{}])[0].get("code") for key, r in by_key.items()}
    nprs = [by_key[key] for key, code in codes.items() if code == "72514-3"]
    assert sorted(o["valueQuantity"]["value"] for o in nprs) == [6, 7]  # score + session pain
    assert by_key[f"Appointment/{record['follow_up'].pk}"]["status"] == "booked"


def test_ids_and_identifiers_are_stable_across_exports(api, record):
    def keys(bundle):
        return sorted(
            (e["fullUrl"], json.dumps(e["resource"].get("identifier"), sort_keys=True))
            for e in bundle["entry"]
        )

    assert keys(export(api, record["patient"])) == keys(export(api, record["patient"]))


def test_front_desk_cannot_export_and_exports_are_logged(record, front_desk, clinic_admin):
    url = f"/api/v1/patients/{record['patient'].pk}/fhir/"
    assert api_for(front_desk).get(url).status_code == 403
    assert api_for(clinic_admin).get(url).status_code == 200
    entry = AccessLogEntry.objects.filter(action="api.patient.fhir").get()
    assert entry.user == clinic_admin and entry.patient_ids == [record["patient"].pk]


def test_bulk_export_of_a_seeded_clinic_writes_valid_ndjson(tmp_path):
    call_command("seed_demo", patients=25, seed=4, verbosity=0)
    call_command("fhir_export", out=tmp_path, verbosity=0)
    export = FhirExport.objects.get()
    assert export.status == "done" and export.patients_done == export.patients_total == 25
    seen: dict[str, set[str]] = {}
    for path in sorted(tmp_path.glob("*.ndjson")):
        lines = path.read_text().splitlines()
        assert len(lines) == export.counts[path.stem] > 0
        for line in lines:
            resource = json.loads(line)
            assert resource["resourceType"] == path.stem
            get_fhir_model_class(path.stem).model_validate(resource)
            seen.setdefault(path.stem, set()).add(resource["id"])
    assert len(seen["Patient"]) == 25
    assert AccessLogEntry.objects.filter(action="command.fhir-export", path=str(tmp_path)).exists()
    assert sum(export.counts.values()) == sum(len(ids) for ids in seen.values())  # no repeats


def test_clinic_admin_starts_follows_and_downloads_a_bulk_export(
    clinic_admin, clinician, record, django_capture_on_commit_callbacks
):
    admin = api_for(clinic_admin)
    assert api_for(clinician).post("/api/v1/fhir-exports/").status_code == 403
    with django_capture_on_commit_callbacks(execute=False) as queued:
        started = admin.post("/api/v1/fhir-exports/")
    assert started.status_code == 202 and started.json()["status"] == "queued"
    assert len(queued) == 1  # the task is sent once the request's transaction commits
    status_url = started["Content-Location"]
    export_id = started.json()["id"]

    tasks.fhir_bulk_export(export_id)  # what the worker runs
    status = admin.get(status_url).json()
    assert status["status"] == "done" and status["patients_done"] == 1
    files = {item["type"]: item for item in status["output"]}
    assert files["Procedure"]["count"] == 1
    download = admin.get(f"/api/v1/fhir-exports/{export_id}/Procedure.ndjson")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/fhir+ndjson"
    line = b"".join(download.streaming_content).decode().strip()
    assert json.loads(line)["id"] == str(record["session"].pk)
    assert admin.get(f"/api/v1/fhir-exports/{export_id}/Nonsense.ndjson").status_code == 404
    actions = set(AccessLogEntry.objects.values_list("action", flat=True))
    assert {"api.fhir-export.start", "api.fhir-export.download"} <= actions


def test_a_failed_export_says_why(monkeypatch, record, tmp_path):
    export = exports.fhir_export_create()

    def broken(patient):
        raise ValueError("broken record")

    monkeypatch.setattr("interop.fhir.patient_resources", broken)
    with pytest.raises(ValueError):
        exports.fhir_export_run(export=export, directory=tmp_path)
    export.refresh_from_db()
    assert (export.status, export.error) == ("failed", "ValueError: broken record")


@pytest.mark.parametrize(
    ("serious", "grade", "code"), [(True, 3, "Serious"), (False, 1, "Non-serious")]
)
def test_seriousness_is_coded_as_the_hl7_code_system_spells_it(api, serious, grade, code):
    side_effect = SideEffectFactory(serious=serious, grade=grade)
    bundle = export(api, side_effect.session.patient)
    [event] = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "AdverseEvent"
    ]
    assert event["seriousness"]["coding"] == [
        {
            "system": "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness",
            "code": code,
        }
    ]
