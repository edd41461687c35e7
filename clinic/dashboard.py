"""The reports page in the admin: outcome and safety charts, activity and the recall list, for
the roles that may run each report (clinic.permissions.REPORTS)."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from clinic import audit, reports
from clinic.choices import BodyRegion
from clinic.permissions import (
    RECALL_CLINICAL_FILTERS,
    REPORTS,
    can_run_report,
    report_columns,
)
from clinic.roles import CLINICIAN
from patients.models import Instrument, TimePoint
from treatments.models import TreatmentKind

INSTRUMENT_NAMES = dict(Instrument.choices)
TIME_POINT_NAMES = dict(TimePoint.choices)


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
    lot_number = forms.CharField(required=False, max_length=64, label="Recall: lot number")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
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
    query = {k: v for k, v in request.GET.items() if v and k != "lot_number"}
    if "condition" in query:
        query["condition"] = query["condition"].strip().upper()
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": "Reports",
        "form": form,
        "allowed": allowed,
        "csv_query": urlencode({**query, "format": "csv"}),
    }
    if form.is_bound and not form.is_valid():
        return TemplateResponse(request, "admin/reports.html", context)
    if "outcomes" in allowed:
        context["outcomes"] = [
            row
            | {
                "instrument_label": INSTRUMENT_NAMES[row["instrument"]],
                "time_point_label": TIME_POINT_NAMES[row["time_point"]],
            }
            for row in reports.outcomes(filters)
        ]
        context["outcome_chart"] = outcome_chart(context["outcomes"])
    if "safety" in allowed:
        context["safety"] = reports.safety(filters)
        context["safety_chart"] = safety_chart(context["safety"])
        context["serious_events"] = reports.serious_events(filters)
    if "activity" in allowed:
        context["activity"] = reports.activity(filters)
        context["courses_ended"] = reports.courses_ended(filters)
    lot = form.cleaned_data.get("lot_number", "").strip() if form.is_valid() else ""
    patients: set[int] = set()
    if lot and "recall" in allowed:
        rows = reports.recall(lot_number=lot, filters=filters)
        columns = report_columns(request.user, "recall")
        if columns is not None:
            rows = [{k: v for k, v in row.items() if k in columns} for row in rows]
        context["recall"], context["lot"] = rows, lot
        context["recall_query"] = urlencode({**query, "lot_number": lot, "format": "csv"})
        patients = {row["patient"] for row in rows}
    patients |= {row["patient"] for row in context.get("serious_events", [])}
    audit.access_record(request=request, action="admin.reports", status=200, patient_ids=patients)
    return TemplateResponse(request, "admin/reports.html", context)


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
    names = dict(TreatmentKind.choices)
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
