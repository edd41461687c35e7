from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.core.validators import RegexValidator
from django.db.models import Count

from demo.seed import CONDITIONS, Chunk, DemoClinic, demo_clinicians
from patients.models import ICD10_REGEX, OutcomeScore, Patient
from reports import selectors as reports
from treatments.models import (
    FollowUp,
    Injectate,
    InjectionSession,
    InjectionSite,
    SideEffect,
    TreatmentCourse,
)

pytestmark = pytest.mark.django_db


def test_seed_demo_fills_a_realistic_clinic(capsys):
    call_command("seed_demo", patients=120, seed=7, verbosity=0)
    out = capsys.readouterr().out
    assert "Seeded 120 patients" in out
    assert Patient.objects.count() == 120
    kinds = set(Injectate.objects.values_list("kind", flat=True))
    assert {"prp", "dextrose", "exosome"} <= kinds
    combined = (
        InjectionSession.objects.annotate(n=Count("injectates__kind", distinct=True))
        .filter(n=2)
        .count()
    )
    assert combined > 0, "PRP + dextrose or PRP + exosome sessions"
    regions = set(InjectionSite.objects.values_list("body_region", flat=True))
    assert len(regions) >= 4
    sessions = InjectionSession.objects.completed().count()
    side_effect_rate = SideEffect.objects.count() / sessions
    assert 0.15 < side_effect_rate < 0.7
    assert FollowUp.objects.filter(status="scheduled").exists()
    assert OutcomeScore.objects.filter(time_point="baseline").count() > 0
    assert OutcomeScore.objects.filter(time_point="3m").count() > 0
    assert set(TreatmentCourse.objects.values_list("status", flat=True)) >= {
        "active",
        "completed",
    }


def test_same_seed_gives_the_same_clinic():
    clinicians = demo_clinicians(3)

    def snapshot(seed: int) -> list[tuple]:
        clinic = DemoClinic(seed=seed, today=datetime.date(2026, 6, 1), clinicians=clinicians)
        chunk = Chunk()
        for _ in range(30):
            clinic.add_patient(chunk)
        return [
            tuple(
                getattr(row, f.attname)
                for f in row._meta.concrete_fields
                if not f.is_relation and f.name not in ("id", "mrn")
            )
            for rows in vars(chunk).values()
            for row in rows
        ]

    assert snapshot(5) == snapshot(5)
    assert snapshot(5) != snapshot(6)


def test_no_clinician_is_double_booked():
    call_command("seed_demo", patients=200, seed=3, verbosity=0)
    call_command("seed_demo", patients=50, seed=4, verbosity=0)
    clashes = (
        FollowUp.objects.values("clinician", "starts_at").annotate(n=Count("id")).filter(n__gt=1)
    )
    assert not clashes.exists()


def test_demo_pain_before_each_session_follows_the_course_as_its_scores_do():
    call_command("seed_demo", patients=300, seed=1, verbosity=0)
    first_sessions = (
        InjectionSession.objects.completed()
        .filter(course__isnull=False)
        .order_by("course_id", "performed_at")
        .distinct("course_id")
    )
    baselines = dict(
        OutcomeScore.objects.filter(instrument="nprs", time_point="baseline").values_list(
            "course", "score"
        )
    )
    gaps = [abs(s.pre_pain_score - baselines[s.course_id]) for s in first_sessions]
    assert sum(gaps) / len(gaps) < 1, "the first session's pain is the course's baseline pain"
    shares = {
        (row["instrument"], row["time_point"]): row["responder_pct"]
        for row in reports.outcomes(reports.ReportFilters())
    }
    # The NPRS's 2 points are about 30 % of a baseline where the others' MCIDs are 10-17 %, so
    # it lags them, but not by a whole order.
    assert 25 <= shares[("nprs", "6w")] <= 70
    assert 40 <= shares[("nprs", "3m")] <= 75
    for instrument in ("womac", "odi", "quickdash", "prtee"):
        assert 45 <= shares[(instrument, "6w")] <= 80, instrument


def test_demo_conditions_are_valid_icd10():
    for template in CONDITIONS:
        RegexValidator(ICD10_REGEX)(template.code)
