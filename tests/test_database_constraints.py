"""The database itself refuses every invalid row, whatever path the write takes.

Each case writes a valid row through a factory, then breaks one rule with ``QuerySet.update``
(no model validation runs) and expects PostgreSQL to answer with the named constraint.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.utils import timezone

from patients.models import InstrumentMcid
from recordkeeping.roles import CLINIC_ADMIN, FRONT_DESK
from tests.factories import (
    AddendumFactory,
    ClinicianFactory,
    ConditionFactory,
    CourseFactory,
    DeliveryFactory,
    FollowUpFactory,
    FollowUpRuleFactory,
    InjectateFactory,
    OutcomeScoreFactory,
    PatientFactory,
    ReminderFactory,
    SessionFactory,
    SideEffectFactory,
    SiteFactory,
    UserFactory,
)
from tests.treatments.desk_factories import BookingAnswerFactory, WaitlistEntryFactory
from treatments.models import Injectate, InjectionSession, InjectionSite, SideEffect

pytestmark = pytest.mark.django_db

today = timezone.localdate
Updates = dict[str, Any] | Callable[[Any], dict[str, Any]]


def days(n: int) -> datetime.date:
    return today() + datetime.timedelta(days=n)


def other_patients_mrn(patient: Any) -> dict[str, Any]:
    return {"mrn": PatientFactory().mrn}


def another_sessions_injectate(site: Any) -> dict[str, Any]:
    return {"injectate": InjectateFactory()}


def another_sessions_site(side_effect: Any) -> dict[str, Any]:
    return {"site": SiteFactory()}


def taken_injectate_line(injectate: Any) -> dict[str, Any]:
    return {"line": InjectateFactory(session=injectate.session, line=injectate.line + 1).line}


def taken_site_line(site: Any) -> dict[str, Any]:
    return {"line": SiteFactory(session=site.session, line=site.line + 1).line}


def before_session(row: Any) -> dict[str, Any]:
    session_day = timezone.localdate(row.session.performed_at)
    return {
        "onset_date" if hasattr(row, "onset_date") else "expiry_date": session_day
        - datetime.timedelta(days=5)
    }


PRP = {"prp": True}
EXOSOME = {"exosome": True}
SALINE = {"kind": "saline", "dextrose_pct": None, "anaesthetic": "", "anaesthetic_pct": None}


def McidFactory() -> InstrumentMcid:  # noqa: N802 - used like the factories beside it
    """The installed NPRS MCID (one row per instrument exists from the start)."""
    return InstrumentMcid.objects.get(instrument="nprs")


CASES: list[tuple[str, Callable[..., Any], dict[str, Any], Updates]] = [
    # Patient
    ("patients_patient_mrn_unique", PatientFactory, {}, other_patients_mrn),
    ("patients_patient_names_present", PatientFactory, {}, {"family_name": ""}),
    ("patients_patient_birth_date_not_future", PatientFactory, {}, {"birth_date": days(10)}),
    (
        "patients_patient_birth_date_within_130_years",
        PatientFactory,
        {},
        {"birth_date": datetime.date(1880, 1, 1)},
    ),
    ("patients_patient_phone_e164", PatientFactory, {}, {"phone": "07700 900123"}),
    (
        "patients_patient_reminder_consent_has_date",
        PatientFactory,
        {},
        {"reminder_consent": True, "reminder_consent_on": None},
    ),
    (
        "patients_patient_sms_reminders_need_phone",
        PatientFactory,
        {},
        {"reminder_channel": "sms", "phone": ""},
    ),
    (
        "patients_patient_email_reminders_need_email",
        PatientFactory,
        {},
        {"reminder_channel": "email", "email": ""},
    ),
    ("patients_patient_sex_valid", PatientFactory, {}, {"sex": "f"}),
    ("patients_patient_reminder_channel_valid", PatientFactory, {}, {"reminder_channel": "fax"}),
    # Condition
    ("patients_condition_icd10_format", ConditionFactory, {}, {"icd10_code": "knee"}),
    ("patients_condition_label_present", ConditionFactory, {}, {"label": ""}),
    ("patients_condition_onset_not_future", ConditionFactory, {}, {"onset_date": days(10)}),
    ("patients_condition_body_region_valid", ConditionFactory, {}, {"body_region": "nose"}),
    ("patients_condition_laterality_valid", ConditionFactory, {}, {"laterality": "up"}),
    ("patients_condition_status_valid", ConditionFactory, {}, {"status": "cured"}),
    # Outcome score
    (
        "patients_outcomescore_score_within_instrument_range",
        OutcomeScoreFactory,
        {},
        {"score": Decimal("11")},
    ),
    (
        "patients_outcomescore_measured_not_future",
        OutcomeScoreFactory,
        {},
        {"measured_on": days(10)},
    ),
    (
        "patients_outcomescore_one_per_course_time_point",
        OutcomeScoreFactory,
        {"time_point": "6w"},
        lambda score: {
            "time_point": OutcomeScoreFactory(patient=score.patient, course=score.course).time_point
        },
    ),
    (
        "patients_outcomescore_patient_reported_not_typed",
        OutcomeScoreFactory,
        {},
        lambda score: {"patient_reported": True, "recorded_by": ClinicianFactory()},
    ),
    ("patients_outcomescore_instrument_valid", OutcomeScoreFactory, {}, {"instrument": "mood"}),
    ("patients_outcomescore_time_point_valid", OutcomeScoreFactory, {}, {"time_point": "1d"}),
    # Course
    ("treatments_course_planned_sessions_range", CourseFactory, {}, {"planned_sessions": 0}),
    ("treatments_course_interval_weeks_range", CourseFactory, {}, {"planned_interval_weeks": 27}),
    ("treatments_course_stopped_has_reason", CourseFactory, {}, {"status": "stopped"}),
    ("treatments_course_ended_after_start", CourseFactory, {}, {"ended_on": days(-365)}),
    ("treatments_course_planned_treatment_valid", CourseFactory, {}, {"planned_treatment": "x"}),
    ("treatments_course_status_valid", CourseFactory, {}, {"status": "paused"}),
    # Session
    ("treatments_session_pre_pain_score_range", SessionFactory, {}, {"pre_pain_score": 11}),
    (
        "treatments_session_signed_by_and_at_together",
        SessionFactory,
        {},
        {"signed_at": timezone.now},
    ),
    (
        "treatments_session_signed_only_when_completed",
        SessionFactory,
        {"status": "planned"},
        lambda s: {"signed_at": timezone.now(), "signed_by": s.clinician},
    ),
    ("treatments_session_completed_needs_consent", SessionFactory, {}, {"consent_obtained": False}),
    ("treatments_session_status_valid", SessionFactory, {"status": "planned"}, {"status": "done"}),
    ("treatments_session_status_moves_forward", SessionFactory, {}, {"status": "planned"}),
    (
        "treatments_session_status_moves_forward",
        SessionFactory,
        {"status": "cancelled", "cancel_reason": "Unwell."},
        {"status": "completed"},
    ),
    (
        "treatments_injectionsession_clinician_is_a_clinician",
        SessionFactory,
        {},
        lambda s: {"clinician": UserFactory(role=FRONT_DESK)},
    ),
    (
        "treatments_injectionsession_clinician_is_a_clinician",
        SessionFactory,
        {},
        lambda s: {"clinician": ClinicianFactory(is_active=False)},
    ),
    ("treatments_session_guidance_valid", SessionFactory, {}, {"guidance": "ct"}),
    (
        "treatments_injectate_expiry_not_before_session",
        InjectateFactory,
        {},
        lambda i: {"performed_at": timezone.now() + datetime.timedelta(days=400)},
    ),
    # Injectate
    ("treatments_injectate_line_unique", InjectateFactory, {}, taken_injectate_line),
    ("treatments_injectate_line_range", InjectateFactory, {}, {"line": 0}),
    ("treatments_injectate_volume_range", InjectateFactory, {}, {"volume_ml": Decimal("61")}),
    ("treatments_injectate_whole_blood_range", InjectateFactory, PRP, {"whole_blood_ml": 241}),
    ("treatments_injectate_spins_one_or_two", InjectateFactory, PRP, {"spins": 3}),
    ("treatments_injectate_platelet_count_positive", InjectateFactory, PRP, {"platelet_count": 0}),
    (
        "treatments_injectate_baseline_platelets_positive",
        InjectateFactory,
        PRP,
        {"baseline_platelet_count": 0},
    ),
    ("treatments_injectate_dextrose_pct_range", InjectateFactory, {}, {"dextrose_pct": 80}),
    ("treatments_injectate_anaesthetic_pct_range", InjectateFactory, {}, {"anaesthetic_pct": 3}),
    ("treatments_injectate_particles_positive", InjectateFactory, EXOSOME, {"particles_per_ml": 0}),
    ("treatments_injectate_prp_fields_only_for_prp", InjectateFactory, {}, {"spins": 1}),
    ("treatments_injectate_prp_preparation_recorded", InjectateFactory, PRP, {"spins": None}),
    (
        "treatments_injectate_dextrose_fields_only_for_dextrose",
        InjectateFactory,
        PRP,
        {"dextrose_pct": 15},
    ),
    (
        "treatments_injectate_dextrose_has_concentration",
        InjectateFactory,
        {},
        {"dextrose_pct": None},
    ),
    (
        "treatments_injectate_exosome_fields_only_for_exosome",
        InjectateFactory,
        {},
        {"exosome_source": "amniotic"},
    ),
    (
        "treatments_injectate_exosome_lot_and_expiry_required",
        InjectateFactory,
        EXOSOME,
        {"expiry_date": None},
    ),
    (
        "treatments_injectate_local_anaesthetic_named",
        InjectateFactory,
        {},
        {
            "kind": "local_anaesthetic",
            "dextrose_pct": None,
            "anaesthetic": "",
            "anaesthetic_pct": None,
        },
    ),
    ("treatments_injectate_kind_valid", InjectateFactory, SALINE, {"kind": "botox"}),
    ("treatments_injectate_anticoagulant_valid", InjectateFactory, PRP, {"anticoagulant": "x"}),
    ("treatments_injectate_leukocytes_valid", InjectateFactory, PRP, {"leukocytes": "some"}),
    ("treatments_injectate_red_cells_valid", InjectateFactory, PRP, {"red_cells": "some"}),
    ("treatments_injectate_activation_valid", InjectateFactory, PRP, {"activation": "uv"}),
    ("treatments_injectate_anaesthetic_valid", InjectateFactory, {}, {"anaesthetic": "ether"}),
    (
        "treatments_injectate_exosome_source_valid",
        InjectateFactory,
        EXOSOME,
        {"exosome_source": "x"},
    ),
    # Injection site
    ("treatments_injectionsite_line_unique", SiteFactory, {}, taken_site_line),
    ("treatments_injectionsite_line_range", SiteFactory, {}, {"line": 51}),
    ("treatments_injectionsite_volume_range", SiteFactory, {}, {"volume_ml": 0}),
    ("treatments_injectionsite_needle_gauge_range", SiteFactory, {}, {"needle_gauge": 16}),
    ("treatments_injectionsite_snomed_format", SiteFactory, {}, {"snomed_code": "MCL"}),
    ("treatments_injectionsite_structure_present", SiteFactory, {}, {"structure": ""}),
    ("treatments_injectionsite_body_region_valid", SiteFactory, {}, {"body_region": "nose"}),
    ("treatments_injectionsite_tissue_valid", SiteFactory, {}, {"tissue": "bone"}),
    ("treatments_injectionsite_laterality_valid", SiteFactory, {}, {"laterality": "up"}),
    (
        "treatments_injectionsite_injectate_same_session",
        SiteFactory,
        {},
        another_sessions_injectate,
    ),
    # Side effect
    ("treatments_sideeffect_grade_range", SideEffectFactory, {}, {"grade": 6, "serious": True}),
    ("treatments_sideeffect_grade_3_and_above_serious", SideEffectFactory, {}, {"grade": 3}),
    (
        "treatments_sideeffect_resolved_after_onset",
        SideEffectFactory,
        {},
        lambda e: {
            "outcome": "resolved",
            "resolved_date": e.onset_date - datetime.timedelta(days=1),
        },
    ),
    ("treatments_sideeffect_onset_not_future", SideEffectFactory, {}, {"onset_date": days(10)}),
    (
        "treatments_sideeffect_resolved_date_matches_outcome",
        SideEffectFactory,
        {},
        {"outcome": "resolved"},
    ),
    ("treatments_sideeffect_fatal_is_grade_5", SideEffectFactory, {}, {"outcome": "fatal"}),
    ("treatments_sideeffect_kind_valid", SideEffectFactory, {}, {"kind": "rash"}),
    ("treatments_sideeffect_relatedness_valid", SideEffectFactory, {}, {"relatedness": "maybe"}),
    ("treatments_sideeffect_outcome_valid", SideEffectFactory, {}, {"outcome": "fine"}),
    ("treatments_sideeffect_reported_by_valid", SideEffectFactory, {}, {"reported_by": "dog"}),
    ("treatments_sideeffect_onset_not_before_session", SideEffectFactory, {}, before_session),
    ("treatments_sideeffect_site_same_session", SideEffectFactory, {}, another_sessions_site),
    # Signed sessions and addenda
    (
        "treatments_session_signed_is_final",
        SessionFactory,
        {"signed": True},
        {"notes": "changed after signing"},
    ),
    # Follow-up
    (
        "treatments_followup_ends_after_start",
        FollowUpFactory,
        {},
        lambda f: {"ends_at": f.starts_at},
    ),
    ("treatments_followup_kind_valid", FollowUpFactory, {}, {"kind": "visit"}),
    (
        "treatments_followup_no_overlap_per_clinician",
        FollowUpFactory,
        {},
        lambda f: {
            "starts_at": FollowUpFactory(clinician=f.clinician).starts_at,
            "ends_at": f.ends_at + datetime.timedelta(days=30),
        },
    ),
    ("treatments_followup_status_valid", FollowUpFactory, {}, {"status": "late"}),
    (
        "treatments_followup_clinician_is_a_clinician",
        FollowUpFactory,
        {},
        lambda f: {"clinician": UserFactory(role=CLINIC_ADMIN)},
    ),
    # MCID
    ("patients_instrumentmcid_value_positive", McidFactory, {}, {"value": 0}),
    ("patients_instrumentmcid_instrument_valid", McidFactory, {}, {"instrument": "iq"}),
    ("patients_instrumentmcid_unit_valid", McidFactory, {}, {"unit": "mm"}),
    (
        "patients_instrumentmcid_value_positive",
        McidFactory,
        {},
        {"unit": "percent", "value": 150},
    ),
    # Follow-up rule
    ("treatments_followuprule_one_timing", FollowUpRuleFactory, {}, {"at_course_interval": True}),
    ("treatments_followuprule_days_after_range", FollowUpRuleFactory, {}, {"days_after": 400}),
    ("treatments_followuprule_minutes_range", FollowUpRuleFactory, {}, {"minutes": 2}),
    ("treatments_followuprule_kind_valid", FollowUpRuleFactory, {}, {"kind": "visit"}),
    ("treatments_followuprule_treatment_valid", FollowUpRuleFactory, {}, {"treatment": "tea"}),
    # Reminder
    (
        "treatments_reminder_one_per_offset_and_time",
        ReminderFactory,
        {},
        lambda r: {
            "hours_before": ReminderFactory(follow_up=r.follow_up, hours_before=48).hours_before
        },
    ),
    (
        "treatments_reminder_attempt_not_before_due",
        ReminderFactory,
        {},
        lambda r: {"next_attempt_at": r.due_at - datetime.timedelta(minutes=1)},
    ),
    ("treatments_reminder_status_valid", ReminderFactory, {}, {"status": "lost"}),
    # Waitlist and the patients' answers to reminders
    (
        "treatments_waitlistentry_dates_in_order",
        WaitlistEntryFactory,
        {},
        lambda w: {"latest": w.earliest - datetime.timedelta(days=1)},
    ),
    ("treatments_waitlistentry_minutes_range", WaitlistEntryFactory, {}, {"minutes": 300}),
    (
        "treatments_waitlistentry_booked_names_its_booking",
        WaitlistEntryFactory,
        {},
        {"status": "booked"},
    ),
    ("treatments_waitlistentry_kind_valid", WaitlistEntryFactory, {}, {"kind": "visit"}),
    ("treatments_waitlistentry_status_valid", WaitlistEntryFactory, {}, {"status": "gone"}),
]
# The session-date trigger is exercised by updating the session, not the injectate.
UPDATES_PARENT = {"treatments_injectate_expiry_not_before_session": "session"}


@pytest.mark.parametrize(
    ("constraint", "factory", "traits", "updates"), CASES, ids=[case[0] for case in CASES]
)
def test_database_rejects_invalid_row(constraint, factory, traits, updates):
    row = factory(**traits)
    changes = updates(row) if callable(updates) else updates
    target = getattr(row, UPDATES_PARENT[constraint]) if constraint in UPDATES_PARENT else row
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # deferred uniques too
        type(target).objects.filter(pk=target.pk).update(
            **{k: v() if callable(v) else v for k, v in changes.items()}
        )
    assert refused.value.__cause__.diag.constraint_name == constraint


# Rules checked when a row is first written (the row can never be updated afterwards).
INSERT_CASES = [
    ("treatments_addendum_text_present", AddendumFactory, {"text": ""}),
    (
        "treatments_reminderdelivery_sent_once",
        lambda: DeliveryFactory(reminder=DeliveryFactory().reminder),
        {},
    ),
    (
        "treatments_reminderdelivery_reason_unless_sent",
        DeliveryFactory,
        {"outcome": "failed", "reason": ""},
    ),
    ("treatments_reminderdelivery_outcome_valid", DeliveryFactory, {"outcome": "lost"}),
    ("treatments_reminderdelivery_channel_valid", DeliveryFactory, {"channel": "fax"}),
    (
        "treatments_injectionsession_clinician_is_a_clinician",
        lambda **values: SessionFactory(clinician=UserFactory(), **values),
        {},
    ),
    (
        "treatments_followup_clinician_is_a_clinician",
        lambda **values: FollowUpFactory(clinician=UserFactory(is_superuser=True), **values),
        {},
    ),
    ("treatments_bookinganswer_answer_valid", BookingAnswerFactory, {"answer": "maybe"}),
    (
        "treatments_bookinganswer_link_answers_once",
        lambda: BookingAnswerFactory(link=BookingAnswerFactory().link, answer="cancelled"),
        {},
    ),
]


@pytest.mark.parametrize(("constraint", "factory", "values"), INSERT_CASES)
def test_database_rejects_invalid_new_row(constraint, factory, values):
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        factory(**values)
    assert refused.value.__cause__.diag.constraint_name == constraint


def test_expired_batch_is_refused_on_insert():
    session = SessionFactory()
    with pytest.raises(IntegrityError) as refused:
        InjectateFactory(session=session, expiry_date=days(-30))
    assert refused.value.__cause__.diag.constraint_name == (
        "treatments_injectate_expiry_not_before_session"
    )


def test_every_database_rule_has_a_case():
    """A new constraint or trigger check without a case above fails here."""
    names = {
        constraint.name
        for app in ("patients", "treatments")
        for model in apps.get_app_config(app).get_models()
        for constraint in model._meta.constraints
    }
    for app in ("patients", "treatments"):
        for model in apps.get_app_config(app).get_models():
            for trigger in getattr(model._meta, "triggers", []):
                names |= set(re.findall(r"CONSTRAINT = '(\w+)'", str(trigger.func or "")))
    assert names == {case[0] for case in CASES} | {case[0] for case in INSERT_CASES}


@pytest.mark.parametrize(
    "factory",
    [
        PatientFactory,
        ConditionFactory,
        CourseFactory,
        SessionFactory,
        SideEffectFactory,
        FollowUpFactory,
        OutcomeScoreFactory,
    ],
)
def test_database_refuses_to_delete_clinical_records(factory):
    row = factory()
    with pytest.raises(ProgrammingError, match="Cannot delete rows"), transaction.atomic():
        # Past the ORM's own on_delete checks: the database is what refuses.
        type(row).objects.filter(pk=row.pk)._raw_delete(row._state.db)
    assert type(row).objects.filter(pk=row.pk).exists()


def test_mrn_is_generated_and_never_reused():
    first = PatientFactory()
    with transaction.atomic():
        rolled_back = PatientFactory()
        transaction.set_rollback(True)
    second = PatientFactory()
    assert re.fullmatch(r"MRN\d{8}", first.mrn)
    numbers = [int(p.mrn[3:]) for p in (first, rolled_back, second)]
    assert numbers[0] < numbers[1] < numbers[2]


def signed_session_with_parts():
    site = SiteFactory(line=1)
    SiteFactory(session=site.session, injectate=site.injectate, line=2)
    effect = SideEffectFactory(session=site.session, site=site)
    session = site.session
    InjectionSession.objects.filter(pk=session.pk).update(
        signed_by=session.clinician, signed_at=timezone.now()
    )
    return session, site, effect


def refused_as_signed(write):
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        write()
    assert refused.value.__cause__.diag.constraint_name == "treatments_session_signed_is_final"


def test_parts_of_a_signed_session_cannot_change_or_go():
    session, site, effect = signed_session_with_parts()
    injectate = site.injectate
    refused_as_signed(lambda: Injectate.objects.filter(pk=injectate.pk).update(volume_ml=9))
    refused_as_signed(lambda: InjectionSite.objects.filter(pk=site.pk).update(volume_ml=1))
    refused_as_signed(lambda: InjectionSite.objects.filter(session=session, line=2).delete())
    refused_as_signed(lambda: InjectateFactory(session=session, line=9))
    refused_as_signed(lambda: SideEffect.objects.filter(pk=effect.pk).update(grade=2))
    refused_as_signed(lambda: InjectionSession.objects.filter(pk=session.pk).update(signed_at=None))


def test_a_side_effect_found_after_signing_is_still_recorded_and_kept_up_to_date():
    session, _, _ = signed_session_with_parts()
    later = SideEffectFactory(session=session, kind="swelling")
    SideEffect.objects.filter(pk=later.pk).update(
        outcome="resolved", resolved_date=later.onset_date
    )
    later.refresh_from_db()
    assert later.outcome == "resolved"


def test_addenda_are_final():
    addendum = AddendumFactory()
    with pytest.raises(ProgrammingError, match="Cannot"), transaction.atomic():
        type(addendum).objects.filter(pk=addendum.pk).update(text="rewritten")
    with pytest.raises(ProgrammingError, match="Cannot"), transaction.atomic():
        type(addendum).objects.filter(pk=addendum.pk).delete()
