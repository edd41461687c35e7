"""Who may do what: one matrix of role x model x action, with the fields each role may read.

The API (permission class, serializers) and the admin (ModelAdmin permissions and fields) both
read it. Superusers may do everything; a user in no group may do nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.constants import LOOKUP_SEP

from recordkeeping.roles import CLINIC_ADMIN, CLINICIAN, FRONT_DESK

VIEW, ADD, CHANGE = "view", "add", "change"
# Giving a colleague's unsigned session to another clinician (recorded with a reason).
REASSIGN = "reassign"
EDIT = frozenset({VIEW, ADD, CHANGE})
READ = frozenset({VIEW})
RECORD_FIELDS = frozenset({"id", "created_at", "updated_at"})


@dataclass(frozen=True)
class Grant:
    actions: frozenset[str]
    fields: frozenset[str] | None = None  # readable fields; None: all of them

    def can_read(self, field: str) -> bool:
        return self.fields is None or field in self.fields


CLINICAL_MODELS = (
    "patients.patient",
    "patients.condition",
    "patients.outcomescore",
    "treatments.treatmentcourse",
    "treatments.injectionsession",
    "treatments.injectate",
    "treatments.injectionsite",
    "treatments.sideeffect",
    "treatments.followup",
    "treatments.addendum",
)

# What every role reads: the follow-up rules and whether reminders went out.
SCHEDULING_MODELS = (
    "treatments.followuprule",
    "treatments.reminder",
    "treatments.reminderdelivery",
)
SEE_SCHEDULING = {model: Grant(READ) for model in SCHEDULING_MODELS}

MATRIX: dict[str, dict[str, Grant]] = {
    CLINICIAN: {model: Grant(EDIT) for model in CLINICAL_MODELS}
    | SEE_SCHEDULING
    | {"patients.instrumentmcid": Grant(READ), "stock.product": Grant(READ)},
    FRONT_DESK: {
        # Demographics, contact and reminder consent; no allergies or medication.
        "patients.patient": Grant(
            EDIT,
            RECORD_FIELDS
            | {"mrn", "given_name", "family_name", "birth_date", "sex", "phone", "email"}
            | {"reminder_channel", "reminder_consent", "reminder_consent_on", "archived_at"},
        ),
        # Enough of a course to book its next visit; not what is injected.
        "treatments.treatmentcourse": Grant(
            READ,
            RECORD_FIELDS
            | {"patient", "start_date", "status", "ended_on"}
            | {"planned_sessions", "planned_interval_weeks"},
        ),
        # The date and status of sessions only.
        "treatments.injectionsession": Grant(
            READ, RECORD_FIELDS | {"patient", "course", "clinician", "performed_at", "status"}
        ),
        "treatments.followup": Grant(EDIT),
    }
    | SEE_SCHEDULING,
    # Reviews everything, edits no clinical content; keeps the follow-up rules, and corrects
    # who performed an unsigned session.
    CLINIC_ADMIN: {model: Grant(READ) for model in CLINICAL_MODELS}
    | {"treatments.injectionsession": Grant(READ | {REASSIGN})}
    | SEE_SCHEDULING
    | {"treatments.followuprule": Grant(EDIT), "patients.instrumentmcid": Grant(EDIT)}
    # The product presets clinicians pick from (stock); the front desk has no use for them.
    | {"stock.product": Grant(EDIT)},
}


# Patient-reported outcomes: clinicians and clinic admins read the answers and scores;
# clinicians review a new problem a patient reports; the front desk sees who to call (an
# invitation's time point and state, not the answers) and records the calls; the clinic admin
# keeps the schedule of time points.
QUESTIONNAIRE_TEXT = (
    "questionnaires.questionnaire",
    "questionnaires.item",
    "questionnaires.option",
    "questionnaires.scale",
    "questionnaires.conversionrow",
    "questionnaires.schedulepoint",
)
QUESTIONNAIRE_ANSWERS = (
    "questionnaires.response",
    "questionnaires.answer",
    "questionnaires.scalescore",
    "questionnaires.problemreport",
    "questionnaires.invitation",
    "questionnaires.invitationmessage",
    "questionnaires.invitationcall",
)
INVITATION_CALL_FIELDS = RECORD_FIELDS | {
    "patient",
    "course",
    "time_point",
    "due_at",
    "closes_at",
    "status",
    "messages_sent",
    "sent_at",
    "opened_at",
    "completed_at",
    "chase_from",
}
MATRIX[CLINICIAN] |= {model: Grant(READ) for model in QUESTIONNAIRE_TEXT + QUESTIONNAIRE_ANSWERS}
MATRIX[CLINICIAN] |= {
    "questionnaires.problemreport": Grant(READ | {CHANGE}),
    "questionnaires.invitationcall": Grant(EDIT),
}
MATRIX[FRONT_DESK] |= {
    "questionnaires.invitation": Grant(READ, INVITATION_CALL_FIELDS),
    "questionnaires.invitationmessage": Grant(READ),
    "questionnaires.invitationcall": Grant(EDIT),
}
MATRIX[CLINIC_ADMIN] |= {
    model: Grant(READ) for model in QUESTIONNAIRE_TEXT + QUESTIONNAIRE_ANSWERS
} | {"questionnaires.schedulepoint": Grant(EDIT)}


# The waitlist: the front desk keeps it; clinicians and clinic admins read it.
MATRIX[FRONT_DESK] |= {"treatments.waitlistentry": Grant(EDIT)}
MATRIX[CLINICIAN] |= {"treatments.waitlistentry": Grant(READ)}
MATRIX[CLINIC_ADMIN] |= {"treatments.waitlistentry": Grant(READ)}


def label_of(model: type[models.Model] | models.Model) -> str:
    return model._meta.label_lower


def grants(user: Any, model: type[models.Model] | models.Model) -> Grant | None:
    """What ``user`` may do with ``model``: the union of their roles' grants."""
    if not (user and user.is_authenticated and user.is_active and user.is_staff):
        return None
    label = label_of(model)
    if user.is_superuser:
        return Grant(EDIT | {REASSIGN})
    roles = _roles(user)
    found = [MATRIX[role][label] for role in roles if label in MATRIX.get(role, {})]
    if not found:
        return None
    actions = frozenset().union(*(grant.actions for grant in found))
    if any(grant.fields is None for grant in found):
        return Grant(actions)
    return Grant(actions, frozenset().union(*(grant.fields for grant in found)))  # type: ignore[arg-type]


def allowed(user: Any, model: type[models.Model] | models.Model, action: str) -> bool:
    grant = grants(user, model)
    return grant is not None and action in grant.actions


def readable_fields(user: Any, model: type[models.Model] | models.Model) -> frozenset[str] | None:
    """The fields ``user`` may read of ``model``; None for all, empty for none."""
    grant = grants(user, model)
    if grant is None:
        return frozenset()
    return grant.fields


def path_readable(user: Any, model: type[models.Model], path: str) -> bool:
    """Whether ``user`` may read every field a lookup path walks through (``session__patient``,
    ``allergies__icontains``, ``injectates__lot_number``): a filter, ordering or search on a
    field the role cannot read would tell its value by which records match."""
    for part in path.split(LOOKUP_SEP):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return True  # a lookup or transform (icontains, gte, year): the fields end here
        if not field.concrete:  # a reverse relation: whether related rows exist, and theirs
            model = field.related_model  # type: ignore[assignment]
            if not allowed(user, model, VIEW):
                return False
            continue
        readable = readable_fields(user, model)  # empty for a model the role may not see
        if readable is not None and field.name not in readable:
            return False
        if not field.is_relation:
            return True
        model = field.related_model  # type: ignore[assignment]
    return True


def clinicians() -> models.QuerySet[Any]:
    """Who may perform a session or hold a booking: active members of the Clinician group."""
    return get_user_model().objects.filter(is_active=True, groups__name=CLINICIAN)


def roles_of(user: Any) -> frozenset[str]:
    """The names of the user's groups (read once per request)."""
    return _roles(user)


def _roles(user: Any) -> frozenset[str]:
    cached = getattr(user, "_clinic_roles", None)
    if cached is None:
        cached = remember_roles(user, user.groups.values_list("name", flat=True))
    return cached


def remember_roles(user: Any, names: Any) -> frozenset[str]:
    """Keep the user's group names on the user for this request (read with the user, they
    cost no query of their own)."""
    user._clinic_roles = frozenset(name for name in names if name)
    return user._clinic_roles


# Reports: who may run each. Outcomes, safety and activity are clinical review (clinicians and
# clinic admins); the front desk runs the recall list to phone patients, seeing only who and
# how to reach them, not what was injected where.
REVIEW = frozenset({CLINICIAN, CLINIC_ADMIN})
REPORTS: dict[str, frozenset[str]] = {
    "outcomes": REVIEW,
    "safety": REVIEW,
    "serious-events": REVIEW,
    "activity": REVIEW,
    "courses-ended": REVIEW,
    "attendance": REVIEW,
    "waitlist-fills": REVIEW,
    "prom-completion": REVIEW,
    "recall": REVIEW | {FRONT_DESK},
}
RECALL_CONTACT_COLUMNS = frozenset(
    {"patient", "mrn", "given_name", "family_name", "phone", "email", "session", "session_date"}
)
# Filters that would tell the front desk what was given or treated: theirs is the call list.
RECALL_CLINICAL_FILTERS = frozenset({"treatment", "condition", "body_region"})


def can_run_report(user: Any, name: str) -> bool:
    if not (user and user.is_authenticated and user.is_active and user.is_staff):
        return False
    return user.is_superuser or bool(_roles(user) & REPORTS[name])


def report_columns(user: Any, name: str) -> frozenset[str] | None:
    """The columns of a report the user sees; None for all."""
    if name == "recall" and not (user.is_superuser or _roles(user) & REVIEW):
        return RECALL_CONTACT_COLUMNS
    return None


def can_export_fhir(user: Any) -> bool:
    """Exports hold the whole clinical record: only roles that read every clinical model."""
    from django.apps import apps

    return all(allowed(user, apps.get_model(label), VIEW) for label in CLINICAL_MODELS)


def can_bulk_export(user: Any) -> bool:
    """The whole clinic's records leave only by a clinic admin's hand."""
    if not (user and user.is_authenticated and user.is_active and user.is_staff):
        return False
    return user.is_superuser or CLINIC_ADMIN in _roles(user)
