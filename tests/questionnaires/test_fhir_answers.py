"""A patient's answers leave the clinic as FHIR R4: a QuestionnaireResponse per questionnaire
answered (item codes, values and labels, the time point, the patient as author), the
Questionnaire it answers, and the scores as Observations derived from it; in the patient's
Bundle and, each questionnaire once, in the bulk export. (tests/interop/test_fhir_validators.py
runs the same resources of the demo clinic through independent validators.)"""

from __future__ import annotations

import datetime
import json

import pytest
from django.core.management import call_command
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from interop import bulk
from patients.models import OutcomeScore
from questionnaires import services
from questionnaires.models import Item, Response
from tests.conftest import token_client
from tests.questionnaires.conftest import consenting_patient, due_six_week_invitation

pytestmark = pytest.mark.django_db
BASE = "https://clinic.invalid/fhir"


def answered_six_weeks(patient=None):
    """The 6-week questionnaires answered: average pain 3, much better (+5), KOOS all Mild."""
    invitation = due_six_week_invitation(patient)
    chosen = {"NOW": 4, "WORST": 6, "AVERAGE": 3, "GRC": 5}
    items = Item.objects.filter(questionnaire__code__in=["nprs", "grc", "koos"])
    services.invitation_answer_all(
        invitation=invitation,
        answers={item.pk: chosen.get(item.code, 1) for item in items},
        new_problem=False,
    )
    return invitation


def bundle_of(user, patient) -> dict:
    response = token_client(user).get(
        f"/api/v1/patients/{patient.pk}/fhir/", HTTP_ACCEPT="application/fhir+json"
    )
    assert response.status_code == 200
    return json.loads(response.content)


def test_the_patients_bundle_holds_their_answers_and_the_questionnaires(clinician):
    invitation = answered_six_weeks()
    resources = [entry["resource"] for entry in bundle_of(clinician, invitation.patient)["entry"]]
    for resource in resources:
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    questionnaires = {r["url"]: r for r in resources if r["resourceType"] == "Questionnaire"}
    assert sorted(questionnaires) == [
        f"{BASE}/questionnaire/grc",
        f"{BASE}/questionnaire/koos",
        f"{BASE}/questionnaire/nprs",
    ]
    koos = questionnaires[f"{BASE}/questionnaire/koos"]
    assert len(koos["item"]) == 42 and koos["version"] == "LK1.0"
    assert "Free to use" in koos["copyright"]
    s4 = next(item for item in koos["item"] if item["linkId"] == "S4")
    assert [o["valueCoding"]["display"] for o in s4["answerOption"]][0] == "Always"

    responses = {
        r["questionnaire"].split("/")[-1]: r
        for r in resources
        if r["resourceType"] == "QuestionnaireResponse"
    }
    assert sorted(responses) == ["grc|clinic-1", "koos|LK1.0", "nprs|clinic-1"]
    nprs = responses["nprs|clinic-1"]
    patient = {"reference": f"Patient/{invitation.patient_id}"}
    assert (nprs["status"], nprs["subject"], nprs["author"]) == ("completed", patient, patient)
    assert nprs["extension"][0]["valueCoding"]["code"] == "6w"
    assert [(i["linkId"], i["answer"][0]["valueCoding"]["code"]) for i in nprs["item"]] == [
        ("NOW", "4"),
        ("WORST", "6"),
        ("AVERAGE", "3"),
    ]
    grc = responses["grc|clinic-1"]["item"][0]["answer"][0]["valueCoding"]
    assert (grc["code"], grc["display"]) == ("5", "A good deal better")
    assert len(responses["koos|LK1.0"]["item"]) == 42

    # The outcome scores say which answers they were scored from.
    koos_pain = OutcomeScore.objects.get(course=invitation.course, instrument="koos_pain")
    observation = next(r for r in resources if r["id"] == f"score-{koos_pain.pk}")
    koos_response = Response.objects.get(invitation=invitation, questionnaire__code="koos")
    assert observation["derivedFrom"] == [
        {"reference": f"QuestionnaireResponse/{koos_response.pk}"}
    ]
    assert observation["valueQuantity"]["value"] == 75.0


def test_answers_begun_and_not_finished_are_in_progress(clinician):
    invitation = due_six_week_invitation()
    item = Item.objects.get(questionnaire__code="nprs", code="NOW")
    services.answer_save(invitation=invitation, item=item, value=7)
    resources = [e["resource"] for e in bundle_of(clinician, invitation.patient)["entry"]]
    [response] = [r for r in resources if r["resourceType"] == "QuestionnaireResponse"]
    assert response["status"] == "in-progress"
    assert response["item"] == [
        {
            "linkId": "NOW",
            "text": "Your pain right now",
            "answer": [
                {
                    "valueCoding": {
                        "system": f"{BASE}/questionnaire/nprs/answers",
                        "code": "7",
                        "display": "7",
                    }
                }
            ],
        }
    ]


def test_the_bulk_export_writes_each_questionnaire_once_and_every_response(tmp_path):
    answered_six_weeks()
    answered_six_weeks(consenting_patient(given_name="Ines"))
    call_command("fhir_export", out=tmp_path, verbosity=0)
    read = {
        kind: [json.loads(line) for line in (tmp_path / f"{kind}.ndjson").read_text().splitlines()]
        for kind in ("Questionnaire", "QuestionnaireResponse")
    }
    assert sorted(q["url"].split("/")[-1] for q in read["Questionnaire"]) == ["grc", "koos", "nprs"]
    assert len(read["QuestionnaireResponse"]) == 6
    for kind, resources in read.items():
        for resource in resources:
            get_fhir_model_class(kind).model_validate(resource)


def test_answers_given_after_an_instant_are_in_an_export_since_then(clinic_admin, tmp_path):
    before = answered_six_weeks()
    since = timezone.now()
    later = answered_six_weeks(consenting_patient(given_name="Ines"))
    export = bulk.fhir_export_request(
        requested_by=clinic_admin,
        url="/fhir/$export",
        types=["Questionnaire", "QuestionnaireResponse"],
        since=since - datetime.timedelta(microseconds=1),
    )
    bulk.fhir_export_run(export=export, directory=tmp_path)
    responses = [
        json.loads(line)
        for line in (tmp_path / "QuestionnaireResponse.ndjson").read_text().splitlines()
    ]
    subjects = {r["subject"]["reference"] for r in responses}
    assert subjects == {f"Patient/{later.patient_id}"} != {f"Patient/{before.patient_id}"}
    questionnaires = (tmp_path / "Questionnaire.ndjson").read_text().splitlines()
    assert len(questionnaires) == 3  # the ones those answers answer, though they did not change
