"""The reports at /api/v1/reports/, as JSON or, with ``?format=csv``, a CSV download."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

import treatments.api
from patients.models import OutcomeScore
from recordkeeping import audit
from recordkeeping.api.renderers import CSVRenderer
from recordkeeping.choices import BodyRegion
from recordkeeping.permissions import (
    RECALL_CLINICAL_FILTERS,
    VIEW,
    allowed,
    can_run_report,
    report_columns,
)
from reports import selectors as reports
from treatments.models import TreatmentKind

UNKNOWN_FORMAT = "Use json or csv."
FILTER_FIELDS = {field.name for field in dataclasses.fields(reports.ReportFilters)}


class ReportQuerySerializer(serializers.Serializer):
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    treatment = serializers.ChoiceField(choices=TreatmentKind.choices, required=False)
    condition = serializers.CharField(required=False, max_length=10, help_text="ICD-10 code")
    body_region = serializers.ChoiceField(choices=BodyRegion.choices, required=False)
    clinician = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.all(), required=False
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (
            attrs.get("date_from")
            and attrs.get("date_to")
            and attrs["date_from"] > attrs["date_to"]
        ):
            raise serializers.ValidationError({"date_to": "The range ends before it starts."})
        return attrs

    def filters(self) -> reports.ReportFilters:
        data = {k: v for k, v in self.validated_data.items() if k in FILTER_FIELDS}
        if data.get("clinician") is not None:
            data["clinician"] = data["clinician"].pk
        return reports.ReportFilters(**data)


class OutcomesQuerySerializer(ReportQuerySerializer):
    patient_reported = serializers.ChoiceField(
        choices=["true", "false"],
        required=False,
        help_text="true: only changes measured from patients' own answers (the baseline and "
        "the reading both patient-reported scores); false: only the others.",
    )

    def filters(self) -> reports.ReportFilters:
        chosen = self.validated_data.get("patient_reported")
        return dataclasses.replace(
            super().filters(), patient_reported=None if chosen is None else chosen == "true"
        )


class ScheduleQuerySerializer(ReportQuerySerializer):
    """The bookings' and the waitlist's reports: by dates and clinician (their rows are not
    tied to a course's treatment or condition)."""

    # None takes the parent's field out (DRF); the stubs do not know it.
    treatment = None  # type: ignore[assignment]
    condition = None  # type: ignore[assignment]
    body_region = None  # type: ignore[assignment]


class RecallQuerySerializer(ReportQuerySerializer):
    lot_number = serializers.CharField(max_length=64)


class ReportView(APIView):
    """A report: rows of one SQL aggregation, filtered by the query."""

    name = ""
    query_serializer: type[ReportQuerySerializer] = ReportQuerySerializer
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer, CSVRenderer]
    empty_query_is_unset = True  # ?treatment= (an unset form field) filters by nothing

    def run(self, query: ReportQuerySerializer) -> reports.Rows:
        raise NotImplementedError

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        # Only a report's rows are CSV: errors (problem details) and the OPTIONS description
        # are JSON, also when ?format=csv asked for the rows.
        is_report = isinstance(response.data, dict) and "columns" in response.data
        if response.status_code >= 400 or not is_report:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        try:
            return super().perform_content_negotiation(request, force)
        except Http404 as error:  # DRF's answer to an unknown ?format=
            raise serializers.ValidationError({"format": [UNKNOWN_FORMAT]}) from error

    def get(self, request: Request) -> Response:
        if not can_run_report(request.user, self.name):
            raise PermissionDenied("Your role does not allow this report.")
        params = {k: v for k, v in request.query_params.items() if k != "format" and v != ""}
        shown = report_columns(request.user, self.name)
        if shown is not None and RECALL_CLINICAL_FILTERS & set(params):
            raise PermissionDenied(
                "Your role may filter the recall list by lot, dates and clinician only."
            )
        query = self.query_serializer(data=params)
        query.is_valid(raise_exception=True)
        report = self.run(query)
        columns = [name for name in report.columns if shown is None or name in shown]
        rows = [{name: row[name] for name in columns} for row in report]
        patients = {row["patient"] for row in rows if "patient" in row}
        audit.access_record(
            request=request, action=f"api.report.{self.name}", status=200, patient_ids=patients
        )
        response = Response({"report": self.name, "columns": columns, "rows": rows})
        if getattr(request.accepted_renderer, "format", "") == "csv":
            response["Content-Disposition"] = f'attachment; filename="{self.name}.csv"'
        return response


def report(
    name: str,
    run: Callable[[ReportQuerySerializer], reports.Rows],
    description: str,
    query_serializer: type[ReportQuerySerializer] = ReportQuerySerializer,
) -> type[ReportView]:
    """A ReportView subclass for one report, with its own OpenAPI operation."""
    title = name.title().replace("-", "")

    @extend_schema(
        parameters=[query_serializer],
        description=description + " Add `?format=csv` for a CSV download of the rows.",
        operation_id=f"report_{name.replace('-', '_')}",
        responses={
            (200, "application/json"): inline_serializer(
                f"{title}Report",
                {
                    "report": serializers.CharField(),
                    "columns": serializers.ListField(child=serializers.CharField()),
                    "rows": serializers.ListField(child=serializers.DictField()),
                },
            ),
            (200, "text/csv"): OpenApiTypes.STR,  # a header row of the columns, then the rows
        },
    )
    def get(self: ReportView, request: Request) -> Response:
        return ReportView.get(self, request)

    return type(
        f"{title}ReportView",
        (ReportView,),
        {
            "name": name,
            "run": lambda self, query: run(query),
            "query_serializer": query_serializer,
            "get": get,
        },
    )


REPORT_VIEWS = {
    "outcomes": report(
        "outcomes",
        lambda q: reports.outcomes(q.filters()),
        "Per instrument and time point: patients, courses, median change from baseline and "
        "the share of responders (improvement reaching the MCID). `patient_reported=true` "
        "limits it to changes measured from patients' own answers.",
        OutcomesQuerySerializer,
    ),
    "safety": report(
        "safety",
        lambda q: reports.safety(q.filters()),
        "Side effects per 100 completed sessions by what was injected, kind and grade.",
    ),
    "serious-events": report(
        "serious-events",
        lambda q: reports.serious_events(q.filters()),
        "Every serious side effect (grade 3 or above) of the sessions in scope.",
    ),
    "activity": report(
        "activity",
        lambda q: reports.activity(q.filters()),
        "Completed sessions per clinician and month.",
    ),
    "courses-ended": report(
        "courses-ended",
        lambda q: reports.courses_ended(q.filters()),
        "Courses completed or stopped in the range, with the reasons for stopping.",
    ),
    "prom-completion": report(
        "prom-completion",
        lambda q: reports.prom_completion(q.filters()),
        "Per treatment and time point: patient questionnaires due (date filters: the day they "
        "were due), completed, missed and still open, and the share completed.",
    ),
    "attendance": report(
        "attendance",
        lambda q: reports.attendance(q.filters()),
        "Per month and clinician, of the follow-ups booked in the range: bookings, no-shows and "
        "their share of the visits that fell due, cancellations and late cancellations (within "
        "LATE_CANCEL_HOURS of the start) and their share of the bookings.",
        ScheduleQuerySerializer,
    ),
    "waitlist-fills": report(
        "waitlist-fills",
        lambda q: reports.waitlist_fills(q.filters()),
        "Per month patients joined the waitlist: entries, booked from it, withdrawn, lapsed and "
        "still waiting, the share booked and the median days to the booking.",
        ScheduleQuerySerializer,
    ),
    "recall": report(
        "recall",
        lambda q: reports.recall(lot_number=q.validated_data["lot_number"], filters=q.filters()),
        "Every patient who received the product lot, with the session date, product and sites "
        "(clinicians and clinic admins) and how to reach them. The front desk sees the contact "
        "columns only.",
        RecallQuerySerializer,
    ),
}


class CourseResponseSerializer(serializers.Serializer):
    instrument = serializers.CharField()
    time_point = serializers.CharField()
    baseline = serializers.DecimalField(max_digits=5, decimal_places=1)
    baseline_on = serializers.DateField()
    score = serializers.DecimalField(max_digits=5, decimal_places=1)
    measured_on = serializers.DateField()
    change = serializers.DecimalField(max_digits=5, decimal_places=1)
    improvement = serializers.DecimalField(
        max_digits=5, decimal_places=1, help_text="Change in the instrument's better direction."
    )
    mcid = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    mcid_unit = serializers.CharField(allow_null=True)
    responder = serializers.BooleanField(allow_null=True)


class CourseViewSet(treatments.api.CourseViewSet):
    """Courses, with what the reports add: each course's responses."""

    # A course has a few rows (instruments by time points): they come whole, as one list.
    @extend_schema(responses=CourseResponseSerializer(many=True))
    @action(
        detail=True,
        methods=["get"],
        permission_action=VIEW,
        pagination_class=None,
        filter_backends=[],
    )
    def responses(self, request: Request, pk: str | None = None) -> Response:
        """Change from baseline per instrument and time point, and whether each reaches the
        instrument's MCID (responder). Pre-procedure pain scores of sessions count as NPRS."""
        if not allowed(request.user, OutcomeScore, VIEW):
            raise PermissionDenied("Your role does not allow outcome scores.")
        course = self.get_object()
        self.read_records = [course]
        rows = reports.course_responses(course_id=course.pk)
        return Response(CourseResponseSerializer(rows, many=True).data)
