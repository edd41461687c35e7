"""The reports page in the admin: outcome and safety charts, activity and the recall list, for
the roles that may run each report (clinic.permissions.REPORTS)."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse

from patients.models import Instrument, TimePoint
from recordkeeping import audit
from recordkeeping.choices import BodyRegion, Laterality
from recordkeeping.permissions import (
    RECALL_CLINICAL_FILTERS,
    REPORTS,
    can_run_report,
    report_columns,
)
from recordkeeping.roles import CLINICIAN
from reports import selectors as reports
from treatments.models import (
    CourseStatus,
    Grade,
    InjectateKind,
    Relatedness,
    SideEffectKind,
    SideEffectOutcome,
    TreatmentKind,
)

INSTRUMENT_NAMES = dict(Instrument.choices)
TIME_POINT_NAMES = dict(TimePoint.choices)
# The words people read for the codes in the reports' rows, per column (the API and the CSV
# downloads keep the codes: they are data for other programs).
LABELS: dict[str, dict[Any, str]] = {
    "instrument": INSTRUMENT_NAMES,
    "time_point": TIME_POINT_NAMES,
    # A session's treatment is what its injectates add up to; "none" when it recorded none.
    "treatment": {**dict(TreatmentKind.choices), "none": "No injectate recorded"},
    "kind": dict(SideEffectKind.choices),
    "grade": dict(Grade.choices),
    "outcome": dict(SideEffectOutcome.choices),
    "relatedness": dict(Relatedness.choices),
    "status": dict(CourseStatus.choices),
    "injectate": dict(InjectateKind.choices),
    "laterality": dict(Laterality.choices),
    "body_region": dict(BodyRegion.choices),
}
# The recall list's columns on the page: a call list that fits a laptop's screen (the lot is in
# the heading). The clinical ones only for the roles that read the whole recall report
# (clinic.permissions.report_columns).
RECALL_CONTACT_HEADINGS = ["Patient", "MRN", "Phone", "Email", "Session"]
RECALL_CLINICAL_HEADINGS = ["Product", "Expiry", "Sites"]


class ReportFilterForm(forms.Form):
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    treatment = forms.ChoiceField(
        choices=[("", "All treatments"), *TreatmentKind.choices], required=False
    )
    condition = forms.CharField(required=False, max_length=10, label="ICD-10 code")
    body_region = forms.ChoiceField(
        choices=[("", "All regions"), *BodyRegion.choices], required=False
    )
    clinician = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(groups__name=CLINICIAN).order_by("last_name"),
        required=False,
        empty_label="All clinicians",
    )
    patient_reported = forms.BooleanField(required=False, label="Outcomes: patient-reported only")
    lot_number = forms.CharField(required=False, max_length=64, label="Recall: lot number")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The range ends before it starts.")
        return data

    def filters(self) -> reports.ReportFilters:
        data = self.cleaned_data
        return reports.ReportFilters(
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            treatment=data.get("treatment") or None,
            condition=(data.get("condition") or "").strip().upper() or None,
            body_region=data.get("body_region") or None,
            clinician=data["clinician"].pk if data.get("clinician") else None,
            patient_reported=True if data.get("patient_reported") else None,
        )


def reports_page(request: HttpRequest) -> HttpResponse:
    allowed = [name for name in REPORTS if can_run_report(request.user, name)]
    if not allowed:
        raise PermissionDenied
    form = ReportFilterForm(request.GET or None)
    filters = form.filters() if form.is_valid() else reports.ReportFilters()
    if report_columns(request.user, "recall") is not None:  # the front desk's call list
        filters = dataclasses.replace(filters, treatment=None, condition=None, body_region=None)
        for name in RECALL_CLINICAL_FILTERS:
            form.fields.pop(name, None)
    query = {k: v for k, v in request.GET.dict().items() if v and k != "lot_number"}
    if "condition" in query:
        query["condition"] = query["condition"].strip().upper()
    if "patient_reported" in query:
        query["patient_reported"] = "true"  # the API's spelling of the ticked box
    patients: set[int] = set()  # whose records the page shows, for the access log
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": "Reports",
        "late_cancel_hours": settings.LATE_CANCEL_HOURS,
        "form": form,
        "allowed": allowed,
        "csv_query": urlencode({**query, "format": "csv"}),
    }
    if form.is_bound and not form.is_valid():
        return TemplateResponse(request, "admin/reports.html", context)
    if "outcomes" in allowed:
        outcomes = reports.outcomes(filters)
        context["outcomes"] = readable(outcomes)
        context["outcome_chart"] = outcome_chart(outcomes)
    if "prom-completion" in allowed:
        completion = reports.prom_completion(filters)
        context["completion"] = readable(completion)
        context["completion_chart"] = completion_chart(completion)
    if "safety" in allowed:
        safety = reports.safety(filters)
        context["safety"] = readable(safety)
        context["safety_chart"] = safety_chart(safety)
        serious_events = reports.serious_events(filters)
        context["serious_events"] = readable(serious_events)
        patients |= {row["patient"] for row in serious_events}
    if "activity" in allowed:
        context["activity"] = reports.activity(filters)
        context["courses_ended"] = readable(reports.courses_ended(filters))
    if "attendance" in allowed:
        # Bookings and the waitlist are not a course's: only the dates and clinician apply.
        schedule_filters = dataclasses.replace(
            filters, treatment=None, condition=None, body_region=None
        )
        context["attendance"] = reports.attendance(schedule_filters)
    if "waitlist-fills" in allowed:
        context["waitlist_fills"] = reports.waitlist_fills(
            dataclasses.replace(filters, treatment=None, condition=None, body_region=None)
        )
    lot = form.cleaned_data.get("lot_number", "").strip() if form.is_valid() else ""
    if lot and "recall" in allowed:
        rows: list[dict[str, Any]] = reports.recall(lot_number=lot, filters=filters)
        columns = report_columns(request.user, "recall")
        if columns is not None:
            rows = [{k: v for k, v in row.items() if k in columns} for row in rows]
        context["lot"] = lot
        context["recall_headings"] = RECALL_CONTACT_HEADINGS + (
            RECALL_CLINICAL_HEADINGS if columns is None else []
        )
        context["recall"] = [recall_row(row) for row in rows]
        context["recall_patients"] = len({row["patient"] for row in rows})
        context["recall_query"] = urlencode({**query, "lot_number": lot, "format": "csv"})
        patients |= {row["patient"] for row in rows}
    context["sections"] = page_sections(context)
    audit.access_record(request=request, action="admin.reports", status=200, patient_ids=patients)
    return TemplateResponse(request, "admin/reports.html", context)


def page_sections(context: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The links at the top of the page (anchor, title, what it holds): the recall first when
    one was asked for, since it is what the person came for."""
    sections = []
    if "recall" in context:
        count = context["recall_patients"]
        patients = f"{count} patient{pluralize(count)}"
        sections.append(("recall", f"Recall of lot {context['lot']}", patients))
    if "outcomes" in context:
        sections.append(("outcomes", "Outcomes", ""))
    if "completion" in context:
        sections.append(("completion", "Questionnaires completed", ""))
    if "safety" in context:
        events = len(context["serious_events"])
        sections.append(("safety", "Safety", ""))
        sections.append(("serious", "Serious events", f"{events}"))
    if "attendance" in context:
        sections.append(("attendance", "No-shows and late cancellations", ""))
    if "waitlist_fills" in context:
        sections.append(("waitlist-fills", "Waitlist", ""))
    if "activity" in context:
        sections.append(("activity", "Activity", ""))
        sections.append(("courses-ended", "Courses completed or stopped", ""))
    return sections


def readable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with each code replaced by its label (a code without one is shown as it is)."""
    return [
        {
            key: LABELS[key].get(value, value) if key in LABELS and value is not None else value
            for key, value in row.items()
        }
        for row in rows
    ]


def site_label(site: str) -> str:
    """One site of the recall list's ``sites`` (reports.recall joins laterality, body region
    and structure with spaces, the two codes first) as people read it: "Left knee: Pes
    anserinus"."""
    laterality, _, rest = site.partition(" ")
    region, _, structure = rest.partition(" ")
    side = LABELS["laterality"].get(laterality, laterality)
    place = LABELS["body_region"].get(region, region)
    where = f"{side} {place.lower()}" if side else place
    return f"{where}: {structure}" if structure else where


def recall_row(row: dict[str, Any]) -> dict[str, Any]:
    """A recall row as the page shows it: its cells under RECALL_*_HEADINGS, and the patient and
    session they link to."""
    cells = [
        f"{row['family_name']}, {row['given_name']}",
        row["mrn"],
        row["phone"],
        row["email"],
        row["session_date"],
    ]
    if "product_name" in row:  # the whole report, not the front desk's call list
        kind = LABELS["injectate"].get(row["injectate"], row["injectate"])
        sites = (site_label(site) for site in row["sites"].split("; ") if site)
        cells += [f"{row['product_name']} ({kind})", row["expiry_date"], "; ".join(sites)]
    return {"patient": row["patient"], "session": row["session"], "cells": cells}


def outcome_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Responder share per time point, one line per instrument."""
    points = [p for p in TimePoint.values if p not in (TimePoint.BASELINE, TimePoint.OTHER)]
    series: dict[str, dict[str, float | None]] = defaultdict(dict)
    for row in rows:
        if row["responder_pct"] is not None:
            series[row["instrument"]][row["time_point"]] = float(row["responder_pct"])
    return {
        "labels": [TIME_POINT_NAMES[p] for p in points],
        "datasets": [
            {"label": INSTRUMENT_NAMES[code], "data": [values.get(p) for p in points]}
            for code, values in sorted(series.items())
        ],
    }


def safety_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Side effects per 100 sessions by treatment, stacked by grade."""
    names = LABELS["treatment"]
    treatments = sorted({row["treatment"] for row in rows})
    per_grade: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in rows:
        if row["grade"] is not None:
            per_grade[row["grade"]][row["treatment"]] += float(row["per_100_sessions"])
    return {
        "labels": [names.get(t, t.capitalize()) for t in treatments],
        "datasets": [
            {"label": f"Grade {grade}", "data": [round(values[t], 2) for t in treatments]}
            for grade, values in sorted(per_grade.items())
        ],
    }


def completion_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The share of patient questionnaires completed per time point, one line per treatment."""
    points = [p for p in TimePoint.values if p not in (TimePoint.WEEK_2, TimePoint.OTHER)]
    series: dict[str, dict[str, float]] = defaultdict(dict)
    for row in rows:
        series[row["treatment"]][row["time_point"]] = float(row["completion_pct"])
    names = LABELS["treatment"]
    return {
        "labels": [TIME_POINT_NAMES[p] for p in points],
        "datasets": [
            {"label": names.get(code, code), "data": [values.get(p) for p in points]}
            for code, values in sorted(series.items())
        ],
    }
