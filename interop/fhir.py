"""The clinic's records as FHIR R4 resources (validated with the R4B models of fhir.resources),
following the mapping of DOMAIN.md: Patient, Condition, Procedure per session, Medication per
injectate (PRP too: see product_resource), AdverseEvent, Appointment, Observation and
Practitioner; and the patient's own answers: a QuestionnaireResponse per questionnaire begun,
with the Questionnaire it answers (written once in a bulk export, like a Practitioner).

Resource ids are the records' primary keys (an Observation from a session's pre-procedure pain
is ``session-<id>``), and every resource carries an identifier in the clinic's system, so a
record has the same id and identifier in every export.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Prefetch
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from patients.models import Instrument, OutcomeScore, Patient
from questionnaires.models import Answer, Invitation, Questionnaire, Response
from treatments.models import InjectateKind, InjectionSite, SessionStatus, TreatmentKind

MEDIA_TYPE = "application/fhir+json"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
TERMINOLOGY = "http://terminology.hl7.org/CodeSystem"
NPRS_LOINC = "72514-3"
LATERALITY_SNOMED = {
    "left": ("7771000", "Left"),
    "right": ("24028007", "Right"),
    "bilateral": ("51440002", "Right and left"),
    "midline": ("260528009", "Median"),
}
PROCEDURE_STATUS = {
    SessionStatus.PLANNED: "preparation",
    SessionStatus.COMPLETED: "completed",
    SessionStatus.CANCELLED: "not-done",
}
APPOINTMENT_STATUS = {
    "proposed": "proposed",
    "scheduled": "booked",
    "confirmed": "booked",
    "checked_in": "checked-in",
    "completed": "fulfilled",
    "cancelled": "cancelled",
    "no_show": "noshow",
}
ADVERSE_OUTCOME = {
    "recovering": "recovering",
    "resolved": "resolved",
    "resolved_with_sequelae": "resolvedWithSequelae",
    "not_resolved": "ongoing",
    "fatal": "fatal",
    "unknown": "unknown",
}
SEVERITY = {1: "mild", 2: "moderate"}  # grade 3 and above: severe
TREATMENTS = dict(TreatmentKind.choices)
# Resource types in the order a bulk export writes them.
RESOURCE_TYPES = (
    "Patient",
    "Practitioner",
    "Condition",
    "Procedure",
    "Medication",
    "AdverseEvent",
    "Appointment",
    "Observation",
    "Questionnaire",
    "QuestionnaireResponse",
)
# Resource types a bulk export writes once, however many patients' records name them.
SHARED_TYPES = ("Practitioner", "Questionnaire")


def system(kind: str) -> str:
    """The clinic's identifier system for a kind of record."""
    return f"{settings.FHIR_IDENTIFIER_BASE}/{kind}"


def reference(resource_type: str, pk: Any) -> dict[str, str]:
    return {"reference": f"{resource_type}/{pk}"}


def _identifier(kind: str, pk: Any) -> list[dict[str, str]]:
    return [{"system": system(kind), "value": str(pk)}]


def _concept(text: str, code: str = "", code_system: str = "", display: str = "") -> dict:
    concept: dict[str, Any] = {"text": text}
    if code:
        concept["coding"] = [{"system": code_system, "code": code, "display": display or text}]
    return concept


def instant(moment: Any) -> str:
    return timezone.localtime(moment).isoformat()


def _meta(*changed: Any) -> dict[str, str]:
    """When the record behind a resource last changed (what a Bulk Data ``_since`` compares)."""
    return {"lastUpdated": instant(max(changed))}


def last_updated(resource: dict[str, Any]) -> datetime.datetime | None:
    stamp = resource.get("meta", {}).get("lastUpdated")
    return datetime.datetime.fromisoformat(stamp) if stamp else None


def validated(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource, after the FHIR model of its type accepted it (raises if not)."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return resource


def patient_resource(patient: Patient) -> dict[str, Any]:
    telecom = [{"system": "phone", "value": patient.phone}] if patient.phone else []
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    return {
        "resourceType": "Patient",
        "id": str(patient.pk),
        "meta": _meta(patient.updated_at),
        "identifier": [{"system": system("mrn"), "value": patient.mrn}],
        "active": patient.archived_at is None,
        "name": [{"family": patient.family_name, "given": [patient.given_name]}],
        "gender": patient.sex,
        "birthDate": patient.birth_date.isoformat(),
        **({"telecom": telecom} if telecom else {}),
    }


def practitioner_resource(user: Any) -> dict[str, Any]:
    name = {"family": user.last_name or user.get_username()}
    if user.first_name:
        name["given"] = [user.first_name]
    return {
        "resourceType": "Practitioner",
        "id": str(user.pk),
        "identifier": _identifier("staff", user.pk),
        "active": user.is_active,
        "name": [name],
    }


def condition_resource(condition: Any) -> dict[str, Any]:
    resource = {
        "resourceType": "Condition",
        "id": str(condition.pk),
        "meta": _meta(condition.updated_at),
        "identifier": _identifier("condition", condition.pk),
        "clinicalStatus": {
            "coding": [{"system": f"{TERMINOLOGY}/condition-clinical", "code": condition.status}]
        },
        "code": _concept(condition.label, condition.icd10_code, ICD10),
        "bodySite": [
            _concept(f"{condition.get_laterality_display()} {condition.get_body_region_display()}")
        ],
        "subject": reference("Patient", condition.patient_id),
    }
    if condition.onset_date:
        resource["onsetDateTime"] = condition.onset_date.isoformat()
    return resource


def site_concept(site: InjectionSite) -> dict[str, Any]:
    """The injection site: its SNOMED CT body structure where known, and its laterality."""
    text = (
        f"{site.get_laterality_display()} {site.get_body_region_display().lower()}: "
        f"{site.structure} ({site.get_tissue_display().lower()})"
    )
    concept = _concept(text, site.snomed_code, SNOMED, site.structure)
    code, display = LATERALITY_SNOMED[site.laterality]
    concept["extension"] = [
        {
            "url": f"{settings.FHIR_IDENTIFIER_BASE}/StructureDefinition/laterality",
            "valueCodeableConcept": _concept(display, code, SNOMED),
        }
    ]
    return concept


def product_resource(injectate: Any) -> dict[str, Any]:
    """An injectate as a Medication with its batch (lot and expiry): PRP too. R4 lets a
    Procedure name what it used (usedReference) only as a Device, Medication or Substance, and
    has no element linking it to a BiologicallyDerivedProduct, which strict receivers therefore
    refuse there; a Medication keeps the kit's lot and expiry where every injectate has them."""
    name = injectate.product_name or injectate.get_kind_display()
    kind = "Platelet-rich plasma" if injectate.kind == InjectateKind.PRP else None
    resource: dict[str, Any] = {
        "resourceType": "Medication",
        "id": str(injectate.pk),
        "meta": _meta(injectate.updated_at),
        "identifier": _identifier("injectate", injectate.pk),
        "code": _concept(f"{kind or injectate.get_kind_display()}: {name}"),
    }
    if injectate.manufacturer:
        resource["manufacturer"] = {"display": injectate.manufacturer}
    batch = {}
    if injectate.lot_number:
        batch["lotNumber"] = injectate.lot_number
    if injectate.expiry_date:
        batch["expirationDate"] = injectate.expiry_date.isoformat()
    if batch:
        resource["batch"] = batch
    return resource


def procedure_resource(session: Any) -> dict[str, Any]:
    sites = list(session.sites.all())
    injectates = list(session.injectates.all())
    # The procedure says what its sites, injectates and course say, so it changes with them.
    parts = [session, *sites, *injectates, *([session.course] if session.course_id else [])]
    resource: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": str(session.pk),
        "meta": _meta(*(part.updated_at for part in parts)),
        "identifier": _identifier("session", session.pk),
        "status": PROCEDURE_STATUS[session.status],
        "code": _concept(
            f"Injection: {TREATMENTS.get(session.treatment, 'no injectate recorded')}"
        ),
        "subject": reference("Patient", session.patient_id),
        "performedDateTime": instant(session.performed_at),
        "performer": [{"actor": reference("Practitioner", session.clinician_id)}],
    }
    if sites:
        resource["bodySite"] = [site_concept(site) for site in sites]
    if injectates:
        resource["usedReference"] = [reference("Medication", i.pk) for i in injectates]
    if session.course_id:
        resource["reasonReference"] = [reference("Condition", session.course.condition_id)]
    if session.status == SessionStatus.CANCELLED and session.cancel_reason:
        resource["statusReason"] = _concept(session.cancel_reason)
    return resource


def adverse_event_resource(side_effect: Any) -> dict[str, Any]:
    # The HL7 code system spells its codes so, and codes are case-sensitive.
    serious = "Serious" if side_effect.serious else "Non-serious"
    severity = SEVERITY.get(side_effect.grade, "severe")
    resource: dict[str, Any] = {
        "resourceType": "AdverseEvent",
        "id": str(side_effect.pk),
        "meta": _meta(side_effect.updated_at),
        "identifier": _identifier("side-effect", side_effect.pk)[0],
        "actuality": "actual",
        "event": _concept(side_effect.get_kind_display()),
        "subject": reference("Patient", side_effect.session.patient_id),
        "date": side_effect.onset_date.isoformat(),
        "seriousness": {
            "coding": [{"system": f"{TERMINOLOGY}/adverse-event-seriousness", "code": serious}]
        },
        "severity": {
            "coding": [{"system": f"{TERMINOLOGY}/adverse-event-severity", "code": severity}]
        },
        "outcome": {
            "coding": [
                {
                    "system": f"{TERMINOLOGY}/adverse-event-outcome",
                    "code": ADVERSE_OUTCOME[side_effect.outcome],
                }
            ]
        },
        "suspectEntity": [{"instance": reference("Procedure", side_effect.session_id)}],
    }
    if side_effect.recorded_by_id:
        resource["recorder"] = reference("Practitioner", side_effect.recorded_by_id)
    return resource


def appointment_resource(follow_up: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": str(follow_up.pk),
        "meta": _meta(follow_up.updated_at),
        "identifier": _identifier("follow-up", follow_up.pk),
        "status": APPOINTMENT_STATUS[follow_up.status],
        "appointmentType": _concept(follow_up.get_kind_display()),
        "start": instant(follow_up.starts_at),
        "end": instant(follow_up.ends_at),
        "participant": [
            {"actor": reference("Patient", follow_up.patient_id), "status": "accepted"},
            {"actor": reference("Practitioner", follow_up.clinician_id), "status": "accepted"},
        ],
    }
    if follow_up.session_id:
        resource["supportingInformation"] = [reference("Procedure", follow_up.session_id)]
    return resource


def score_observation(score: Any) -> dict[str, Any]:
    response = _scored_from(score)
    if score.instrument == Instrument.NPRS:
        code = _nprs()
    else:
        code = _concept(score.get_instrument_display(), score.instrument, system("instrument"))
    return {
        "resourceType": "Observation",
        "id": f"score-{score.pk}",
        "meta": _meta(score.updated_at),
        "identifier": _identifier("outcome-score", score.pk),
        "status": "final",
        "category": [_survey()],
        "code": code,
        "subject": reference("Patient", score.patient_id),
        "effectiveDateTime": score.measured_on.isoformat(),
        "valueQuantity": {"value": float(score.score), "unit": "score"},
        "note": [{"text": f"Time point: {score.get_time_point_display()}"}],
        **(
            {"performer": [reference("Practitioner", score.recorded_by_id)]}
            if score.recorded_by_id
            else {}
        ),
        **({"derivedFrom": [reference("QuestionnaireResponse", response)]} if response else {}),
    }


def _scored_from(score: OutcomeScore) -> int | None:
    """The questionnaire response a patient-reported score was scored from."""
    if not score.patient_reported:
        return None
    scale_score = getattr(score, "scale_score", None)
    return scale_score.response_id if scale_score is not None else None


def questionnaire_url(questionnaire: Questionnaire) -> str:
    """The questionnaire's canonical URL; a response names it with its version."""
    return f"{system('questionnaire')}/{questionnaire.code}"


def _answer_system(questionnaire: Questionnaire) -> str:
    return f"{questionnaire_url(questionnaire)}/answers"


def questionnaire_resource(questionnaire: Questionnaire) -> dict[str, Any]:
    """A questionnaire as the patient reads it: each item (linkId: the instrument's own
    numbering) a choice among its options, coded by the value each scores."""
    answers = _answer_system(questionnaire)
    items = []
    for item in questionnaire.items.all():
        text = f"{item.prompt} {item.text}" if item.prompt else item.text
        items.append(
            {
                "linkId": item.code,
                "prefix": item.code,
                "text": text,
                "type": "choice",
                "required": False,
                "answerOption": [
                    {"valueCoding": {"system": answers, "code": str(o.value), "display": o.label}}
                    for o in item.options.all()
                ],
            }
        )
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": str(questionnaire.pk),
        "meta": _meta(questionnaire.updated_at),
        "url": questionnaire_url(questionnaire),
        "identifier": _identifier("questionnaire", questionnaire.code),
        "version": questionnaire.version,
        "title": questionnaire.name,
        "status": "active" if questionnaire.active else "retired",
        "subjectType": ["Patient"],
        "copyright": questionnaire.licence,
        "item": items,
    }
    if questionnaire.introduction:
        resource["description"] = questionnaire.introduction
    return resource


def questionnaire_response_resource(response: Response, invitation: Invitation) -> dict[str, Any]:
    """A patient's answers to one questionnaire at one time point (an extension names it), by
    the patient themself; in progress while the invitation is open, stopped if it ended
    unfinished."""
    questionnaire = response.questionnaire
    answers = list(response.answers.all())
    if response.completed_at is not None:
        status = "completed"
    elif invitation.is_open:
        status = "in-progress"
    else:
        status = "stopped"
    patient = reference("Patient", invitation.patient_id)
    changed = [response.started_at, *(a.answered_at for a in answers)]
    if response.completed_at is not None:
        changed.append(response.completed_at)
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": str(response.pk),
        "meta": _meta(*changed),
        "identifier": _identifier("questionnaire-response", response.pk)[0],
        "extension": [
            {
                "url": f"{settings.FHIR_IDENTIFIER_BASE}/StructureDefinition/time-point",
                "valueCoding": {
                    "system": system("time-point"),
                    "code": invitation.time_point,
                    "display": invitation.get_time_point_display(),
                },
            }
        ],
        "questionnaire": f"{questionnaire_url(questionnaire)}|{questionnaire.version}",
        "status": status,
        "subject": patient,
        "authored": instant(response.completed_at or max(changed)),
        "author": patient,
        "source": patient,
    }
    system_url = _answer_system(questionnaire)
    items = [
        {
            "linkId": answer.item.code,
            "text": answer.item.text,
            "answer": [
                {
                    "valueCoding": {
                        "system": system_url,
                        "code": str(answer.value),
                        "display": answer.option.label,
                    }
                }
            ],
        }
        for answer in sorted(answers, key=lambda a: a.item.position)
    ]
    if items:
        resource["item"] = items
    return resource


def session_pain_observation(session: Any) -> dict[str, Any]:
    """A session's pre-procedure pain: an NPRS reading, part of the procedure."""
    return {
        "resourceType": "Observation",
        "id": f"session-{session.pk}",
        "meta": _meta(session.updated_at),
        "identifier": _identifier("session-pain", session.pk),
        "status": "final",
        "category": [_survey()],
        "code": _nprs(),
        "subject": reference("Patient", session.patient_id),
        "partOf": [reference("Procedure", session.pk)],
        "effectiveDateTime": instant(session.performed_at),
        "valueQuantity": {"value": session.pre_pain_score, "unit": "score"},
        "performer": [reference("Practitioner", session.clinician_id)],
    }


def _nprs() -> dict[str, Any]:
    return _concept("NPRS pain", NPRS_LOINC, LOINC, "Pain severity - 0-10 verbal numeric rating")


def _survey() -> dict[str, Any]:
    return {"coding": [{"system": f"{TERMINOLOGY}/observation-category", "code": "survey"}]}


def patients_for_export(patients: Any) -> Any:
    """Patients with everything their export reads, in a fixed number of queries."""
    return patients.prefetch_related(
        "conditions",
        Prefetch(
            "sessions",
            queryset=_sessions(),
        ),
        "follow_ups",
        Prefetch("outcome_scores", queryset=OutcomeScore.objects.select_related("scale_score")),
        Prefetch("invitations", queryset=_invitations()),
    )


def _invitations() -> Any:
    """Invitations with the responses begun, their answers and the questionnaires answered."""
    answers = Answer.objects.select_related("item", "option")
    responses = Response.objects.prefetch_related(
        "questionnaire__items__options", Prefetch("answers", queryset=answers)
    ).order_by("started_at", "id")
    begun = Exists(Response.objects.filter(invitation=OuterRef("pk")))
    return (
        Invitation.objects.filter(begun)
        .prefetch_related(Prefetch("responses", queryset=responses))
        .order_by("due_at", "id")
    )


def _sessions() -> Any:
    from treatments.models import InjectionSession

    return InjectionSession.objects.select_related("course").prefetch_related(
        "injectates", "sites", "side_effects"
    )


def patient_resources(patient: Patient) -> Iterator[dict[str, Any]]:
    """Every resource of one patient's record, the practitioners it names included."""
    sessions = list(patient.sessions.all())
    side_effects = [effect for session in sessions for effect in session.side_effects.all()]
    follow_ups = list(patient.follow_ups.all())
    scores = list(patient.outcome_scores.all())
    staff_ids = (
        {s.clinician_id for s in sessions}
        | {f.clinician_id for f in follow_ups}
        | {e.recorded_by_id for e in side_effects if e.recorded_by_id}
        | {o.recorded_by_id for o in scores if o.recorded_by_id}
    )
    yield patient_resource(patient)
    for user in get_user_model().objects.filter(pk__in=staff_ids).order_by("pk"):
        yield practitioner_resource(user)
    for condition in patient.conditions.all():
        yield condition_resource(condition)
    for session in sessions:
        yield procedure_resource(session)
        for injectate in session.injectates.all():
            yield product_resource(injectate)
    for side_effect in side_effects:
        yield adverse_event_resource(side_effect)
    for follow_up in follow_ups:
        yield appointment_resource(follow_up)
    for score in scores:
        yield score_observation(score)
    for session in sessions:
        if session.pre_pain_score is not None and session.status == SessionStatus.COMPLETED:
            yield session_pain_observation(session)
    answered = [
        (response, invitation)
        for invitation in patient.invitations.all()
        for response in invitation.responses.all()
    ]
    questionnaires = {response.questionnaire_id: response.questionnaire for response, _ in answered}
    for pk in sorted(questionnaires):
        yield questionnaire_resource(questionnaires[pk])
    for response, invitation in answered:
        yield questionnaire_response_resource(response, invitation)


def patient_bundle(patient: Patient, resources: Iterable[dict[str, Any]] | None = None) -> dict:
    """The patient's record as a validated FHIR Bundle (type collection)."""
    base = settings.FHIR_IDENTIFIER_BASE
    entries = [
        {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r}
        for r in (resources if resources is not None else patient_resources(patient))
    ]
    bundle = {
        "resourceType": "Bundle",
        "id": f"patient-{patient.pk}",
        "identifier": {"system": system("export"), "value": f"patient-{patient.pk}"},
        "type": "collection",
        "timestamp": instant(timezone.now()),
        "entry": entries,
    }
    return validated(bundle)
