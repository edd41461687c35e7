from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.db.models.functions import Upper
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from patients import services
from patients.filters import ConditionFilter, OutcomeScoreFilter, PatientFilter
from patients.models import Condition, OutcomeScore, Patient
from patients.serializers import ConditionSerializer, OutcomeScoreSerializer, PatientSerializer
from recordkeeping import audit
from recordkeeping.api.base import RecordViewSet
from recordkeeping.api.errors import PROBLEM_CONTENT_TYPE, problem


class PatientViewSet(RecordViewSet):
    """Patients: demographics, contact, reminder consent and cautions; archived, never deleted.
    The floors above add what they know of a patient (treatments: the timeline and reminders;
    fhir: the export)."""

    queryset = Patient.objects.all()
    serializer_class = PatientSerializer
    filterset_class = PatientFilter
    search_fields = ["=mrn", "family_name", "given_name"]
    ordering_fields = ["family_name", "given_name", "birth_date", "created_at", "id"]

    @property
    def searching(self) -> bool:
        request = getattr(self, "request", None)
        return bool(request is not None and request.query_params.get("search"))

    @property
    def ordering(self) -> list[str]:
        # A search matches a few of many patients. Sorted by keys no index holds, PostgreSQL
        # first finds the matches through the trigram indexes (milliseconds), instead of
        # walking the name index through most of the table for a page of matches.
        if self.searching:
            return ["family_key", "given_key", "id"]
        return ["family_name", "given_name", "id"]

    def get_queryset(self) -> QuerySet[Patient]:
        queryset = super().get_queryset()
        if self.searching:
            queryset = queryset.annotate(
                family_key=Upper("family_name"), given_key=Upper("given_name")
            )
        return queryset

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Register a patient; one who may be on record already answers 409 with the
        candidates (MRN, name, date of birth, what matched) unless ``confirm_new`` is true."""
        try:
            return super().create(request, *args, **kwargs)
        except services.PossibleDuplicates as found:
            audit.access_record(
                request=request,
                action="api.patient.duplicates",
                status=409,
                records=found.candidates,
            )
            message = (
                "Patients on record may be the same person; send confirm_new=true to register "
                "a new patient anyway."
            )
            body = problem(409, f"confirm_new: {message}", {"confirm_new": [message]})
            body["candidates"] = [
                {
                    "id": patient.pk,
                    "mrn": patient.mrn,
                    "given_name": patient.given_name,
                    "family_name": patient.family_name,
                    "birth_date": patient.birth_date.isoformat(),
                    "matched_on": patient.matched_on,  # type: ignore[attr-defined]
                }
                for patient in found.candidates
            ]
            return Response(body, status=409, content_type=PROBLEM_CONTENT_TYPE)

    @extend_schema(request=None, responses=PatientSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request: Request, pk: str | None = None) -> Response:
        """Archive the patient: kept with every record, left out of active lists."""
        return self.respond_with(services.patient_archive(patient=self.get_object()))

    @extend_schema(request=None, responses=PatientSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, pk: str | None = None) -> Response:
        """Bring an archived patient back to the active lists."""
        return self.respond_with(services.patient_restore(patient=self.get_object()))


class ConditionViewSet(RecordViewSet):
    queryset = Condition.objects.all()
    serializer_class = ConditionSerializer
    filterset_class = ConditionFilter
    ordering_fields = ["onset_date", "created_at", "id"]


class OutcomeScoreViewSet(RecordViewSet):
    queryset = OutcomeScore.objects.all()
    author_field = "recorded_by"
    serializer_class = OutcomeScoreSerializer
    filterset_class = OutcomeScoreFilter
    ordering_fields = ["measured_on", "created_at", "id"]
    ordering = ["-measured_on", "-id"]
