from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.db.models.functions import Upper
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from clinic import fhir
from clinic.api.base import RecordViewSet
from clinic.permissions import VIEW, allowed, can_export_fhir
from patients import selectors, services
from patients.filters import ConditionFilter, OutcomeScoreFilter, PatientFilter
from patients.models import Condition, OutcomeScore, Patient
from patients.serializers import ConditionSerializer, OutcomeScoreSerializer, PatientSerializer
from treatments import services as treatment_services
from treatments.serializers import FollowUpSerializer, SessionSerializer, SideEffectSerializer


class TimelineEventSerializer(serializers.Serializer):
    """One event; of the four record fields, only the one named by ``kind`` is present."""

    kind = serializers.ChoiceField(choices=["session", "side_effect", "follow_up", "outcome"])
    at = serializers.DateTimeField(
        help_text="When it happened. Side effects (dated) sort at the end of their day, "
        "outcome scores (dated) at its start."
    )
    session = SessionSerializer(required=False, allow_null=True)
    side_effect = SideEffectSerializer(required=False, allow_null=True)
    follow_up = FollowUpSerializer(required=False, allow_null=True)
    outcome = OutcomeScoreSerializer(required=False, allow_null=True)

    def to_representation(self, event: selectors.TimelineEvent) -> dict[str, Any]:
        return {
            "kind": event.kind,
            "at": self.fields["at"].to_representation(event.at),
            event.kind: self.fields[event.kind].to_representation(event.record),
        }


class TimelineSerializer(serializers.Serializer):
    patient = PatientSerializer()
    events = TimelineEventSerializer(many=True)


class PatientViewSet(RecordViewSet):
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

    @extend_schema(
        request=None,
        responses={(200, "application/fhir+json"): OpenApiTypes.OBJECT},
        description="The patient's whole record as a FHIR R4 Bundle (type collection): "
        "Patient, Practitioner, Condition, Procedure, Medication / BiologicallyDerivedProduct, "
        "AdverseEvent, Appointment and Observation resources.",
    )
    @action(detail=True, methods=["get"], permission_action=VIEW)
    def fhir(self, request: Request, pk: str | None = None) -> Response:
        if not can_export_fhir(request.user):
            raise PermissionDenied("Your role does not allow exporting clinical records.")
        patient = self.get_object()
        self.read_records = [patient]
        exported = fhir.patients_for_export(Patient.objects.filter(pk=patient.pk)).get()
        return Response(fhir.patient_bundle(exported), content_type=fhir.MEDIA_TYPE)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        # Consent or channel may have changed: upcoming reminders follow.
        treatment_services.patient_reminders_sync(patient=serializer.save())

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

    @extend_schema(responses=TimelineSerializer)
    @action(
        detail=True,
        methods=["get"],
        filter_backends=[],
        pagination_class=None,
        permission_action=VIEW,
    )
    def timeline(self, request: Request, pk: str | None = None) -> Response:
        """Sessions (with injectates and sites), side effects, follow-ups and outcome scores,
        oldest first."""
        patient = self.get_object()
        self.read_records = [patient]
        events = [
            event
            for event in selectors.patient_timeline(patient=patient)
            if allowed(request.user, type(event.record), VIEW)
        ]
        body = TimelineSerializer(
            {"patient": patient, "events": events}, context=self.get_serializer_context()
        )
        return Response(body.data)


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
