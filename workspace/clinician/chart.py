"""A patient's chart, read at a glance: alerts first, then conditions, courses, the last
sessions on a small body map, outcome scores per instrument, side effects and follow-ups."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from patients.models import (
    INSTRUMENTS,
    ConditionStatus,
    Instrument,
    OutcomeScore,
    Patient,
    TimePoint,
)
from recordkeeping import audit
from recordkeeping.choices import Laterality
from recordkeeping.staff import signed_in
from treatments import selectors
from treatments.models import (
    CourseStatus,
    FollowUp,
    FollowUpStatus,
    InjectionSession,
    SessionStatus,
    SideEffect,
    TreatmentCourse,
    TreatmentKind,
)
from workspace.access import Request, clinicians_only
from workspace.clinician import bodymap

RECENT_SESSIONS = 5
CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 300, 110, 8


def condition_label(condition: Any) -> str:
    """ "Right knee: Primary osteoarthritis of knee (M17.1)": side and place first, as a
    clinician says it."""
    side = condition.get_laterality_display()
    region = condition.get_body_region_display().lower()
    place = (
        f"{side} {region}"
        if condition.laterality in (Laterality.LEFT, Laterality.RIGHT)
        else (f"{region.capitalize()} ({side.lower()})")
    )
    return f"{place}: {condition.label} ({condition.icd10_code})"


def course_label(course: TreatmentCourse) -> str:
    """ "Right knee: Primary osteoarthritis of knee (M17.1) · PRP · 1 of 3 sessions done · next
    due 14 Jan" (sessions_done and next_due from selectors.patient_courses)."""
    parts = [condition_label(course.condition), course.get_planned_treatment_display()]
    done = getattr(course, "sessions_done", None)
    if done is not None:
        parts.append(f"{done} of {course.planned_sessions} sessions done")
    if course.status != CourseStatus.ACTIVE:
        parts.append(course.get_status_display().lower())
    elif done is not None and done < course.planned_sessions:
        due: datetime.date | None = getattr(course, "next_due", None)
        if due is not None:
            late = " (overdue)" if due < timezone.localdate() else ""
            parts.append(f"next due {due:%-d %b %Y}{late}")
    return " · ".join(parts)


@dataclass(frozen=True)
class ScoreChart:
    """One instrument's readings as a small line chart, drawn on the server (no script)."""

    title: str
    unit_range: str
    points: list[tuple[float, float]]  # x, y in the chart's own units
    readings: list[tuple[datetime.date, Decimal]]
    better: str

    @property
    def polyline(self) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in self.points)

    @property
    def summary(self) -> str:
        first_on, first = self.readings[0]
        last_on, last = self.readings[-1]
        if len(self.readings) == 1:
            return f"{last.normalize():f} on {last_on:%-d %b %Y}"
        return (
            f"{first.normalize():f} on {first_on:%-d %b %Y} to {last.normalize():f} on "
            f"{last_on:%-d %b %Y} ({self.better} is better)"
        )


def score_chart(
    title: str,
    readings: list[tuple[datetime.date, Decimal]],
    low: Decimal,
    high: Decimal,
    better: str,
) -> ScoreChart:
    readings = sorted(readings)
    start, end = readings[0][0], readings[-1][0]
    span = max((end - start).days, 1)
    inner_w, inner_h = CHART_WIDTH - 2 * CHART_PAD, CHART_HEIGHT - 2 * CHART_PAD
    points = [
        (
            CHART_PAD + inner_w * ((day - start).days / span if len(readings) > 1 else 0.5),
            CHART_PAD + inner_h * float((high - value) / (high - low)),
        )
        for day, value in readings
    ]
    unit_range = f"{low.normalize():f}–{high.normalize():f}"
    return ScoreChart(title, unit_range, points, readings, better)


def score_charts(patient: Patient, sessions_pain: list[tuple[datetime.date, int]]) -> list[Any]:
    """A chart per instrument scored, and the pre-procedure pain of sessions apart: the pain a
    patient reports on the couch is not the questionnaire's score."""
    by_instrument: dict[str, list[tuple[datetime.date, Decimal]]] = {}
    for instrument, score, measured_on in patient.outcome_scores.order_by(
        "measured_on", "id"
    ).values_list("instrument", "score", "measured_on"):
        by_instrument.setdefault(instrument, []).append((measured_on, score))
    names = dict(Instrument.choices)
    charts = []
    for code, readings in sorted(by_instrument.items()):
        spec = INSTRUMENTS[code]
        charts.append(score_chart(names[code], readings, spec.minimum, spec.maximum, spec.better))
    if sessions_pain:
        readings = [(day, Decimal(pain)) for day, pain in sessions_pain]
        charts.append(
            score_chart(
                "Pre-procedure pain at sessions (NPRS 0-10)",
                readings,
                Decimal(0),
                Decimal(10),
                "lower",
            )
        )
    return charts


class ScoreForm(forms.ModelForm):
    """An outcome score recorded from the chart, checked as the API checks it."""

    class Meta:
        model = OutcomeScore
        fields = ["course", "instrument", "score", "time_point", "measured_on"]
        widgets = {"measured_on": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args: Any, patient: Patient, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.patient = patient
        course_field = cast(forms.ModelChoiceField, self.fields["course"])
        course_field.queryset = TreatmentCourse.objects.filter(patient=patient).select_related(
            "condition"
        )
        course_field.label_from_instance = course_label  # type: ignore[method-assign,assignment]
        self.fields["measured_on"].initial = timezone.localdate
        self.fields["time_point"].initial = TimePoint.OTHER


def age_on(born: datetime.date, day: datetime.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def chart_context(patient: Patient) -> dict[str, Any]:
    """Everything the chart shows, in a dozen queries however long the record."""
    now = timezone.now()
    courses = list(selectors.patient_courses(patient=patient))
    sessions = list(
        InjectionSession.objects.filter(patient=patient)
        .exclude(status=SessionStatus.PLANNED, performed_at__gt=now)
        .select_related("clinician", "signed_by")
        .order_by("-performed_at", "-id")
        .with_parts()[:RECENT_SESSIONS]
    )
    treatments = dict(TreatmentKind.choices)
    for session in sessions:
        session.dots = bodymap.dots(session.prefetched_sites)  # type: ignore[attr-defined]
        session.treatment_label = treatments.get(session.treatment, "")  # type: ignore[attr-defined]
    side_effects = list(
        SideEffect.objects.filter(session__patient=patient)
        .select_related("session", "site")
        .order_by("-onset_date", "-id")
    )
    pains = [
        (timezone.localdate(performed_at), pain or 0)
        for performed_at, pain in patient.sessions.filter(
            status=SessionStatus.COMPLETED, pre_pain_score__isnull=False
        )
        .order_by("performed_at")
        .values_list("performed_at", "pre_pain_score")
    ]
    follow_ups = list(
        FollowUp.objects.filter(patient=patient, starts_at__gte=now)
        .exclude(status__in=[FollowUpStatus.CANCELLED])
        .select_related("clinician")
        .order_by("starts_at")[:6]
    )
    repeatable = {
        course.pk
        for course in courses
        if course.sessions_done  # type: ignore[attr-defined]
    }
    for course in courses:
        course.label = course_label(course)  # type: ignore[attr-defined]
        course.repeatable = course.pk in repeatable  # type: ignore[attr-defined]
    conditions = [c for c in patient.conditions.all() if c.status == ConditionStatus.ACTIVE]
    for condition in conditions:
        condition.label_in_words = condition_label(condition)  # type: ignore[attr-defined]
    last_completed = next(
        (s for s in sessions if s.status == SessionStatus.COMPLETED and s.course_id), None
    )
    return {
        "patient": patient,
        "age": age_on(patient.birth_date, timezone.localdate()),
        "serious": [effect for effect in side_effects if effect.serious],
        "conditions": conditions,
        "courses": courses,
        "sessions": sessions,
        "side_effects": side_effects[:8],
        "charts": score_charts(patient, pains),
        "follow_ups": follow_ups,
        "repeat_course": last_completed.course_id if last_completed else None,
        "score_form": ScoreForm(patient=patient),
        "spots_front": bodymap.spots(bodymap.FRONT),
        "chart_size": (CHART_WIDTH, CHART_HEIGHT),
    }


@clinicians_only
def chart(request: Request, patient_id: int) -> HttpResponse:
    """A patient's chart, read at a glance."""
    patient = get_object_or_404(Patient, pk=patient_id)
    context = chart_context(patient)
    audit.access_record(request=request, action="workspace.chart", status=200, records=[patient])
    return render(request, "workspace/clinician/chart.html", context)


@clinicians_only
@require_POST
def score_record(request: Request, patient_id: int) -> HttpResponse:
    """Record an outcome score from the chart; errors come back next to their fields."""
    patient = get_object_or_404(Patient, pk=patient_id)
    form = ScoreForm(request.POST, patient=patient)
    if form.is_valid():
        with transaction.atomic():
            form.instance.recorded_by = signed_in(request.user)
            form.save()
        audit.access_record(
            request=request, action="workspace.score.add", status=201, records=[patient]
        )
        if not request.htmx:
            return redirect("workspace:chart", patient_id=patient.pk)
        context = chart_context(patient)
        context["score_saved"] = form.instance
        return render(request, "workspace/clinician/chart.html#scores", context)
    context = chart_context(patient)
    context["score_form"] = form
    audit.access_record(
        request=request, action="workspace.score.add", status=400, records=[patient]
    )
    template = (
        "workspace/clinician/chart.html#scores"
        if request.htmx
        else ("workspace/clinician/chart.html")
    )
    return render(request, template, context, status=200 if request.htmx else 400)
