"""FHIR through the API: a patient's record as a Bundle, and the bulk export of the clinic
(clinic admins): start one, follow its progress, download its NDJSON files. Every export,
start and download is recorded in the access log."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import FileResponse, Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from kombu.exceptions import OperationalError
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

import treatments.api
from interop import bulk as exports
from interop import fhir
from interop.models import FhirExport
from patients.models import Patient
from recordkeeping import audit
from recordkeeping.api.errors import PROBLEM_CONTENT_TYPE, problem
from recordkeeping.permissions import VIEW, can_bulk_export, can_export_fhir


class PatientViewSet(treatments.api.PatientViewSet):
    """Patients, with their record as FHIR."""

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


class FhirExportSerializer(serializers.ModelSerializer):
    output = serializers.SerializerMethodField(
        help_text="One NDJSON file per resource type, once the export is done."
    )

    class Meta:
        model = FhirExport
        fields = [
            "id",
            "status",
            "patients_total",
            "patients_done",
            "counts",
            "error",
            "created_at",
            "finished_at",
            "output",
        ]

    def get_output(self, export: FhirExport) -> list[dict[str, Any]]:
        request = self.context["request"]
        return [
            {
                "type": kind,
                "url": request.build_absolute_uri(
                    reverse("fhir-export-file", args=[export.pk, kind])
                ),
                "count": count,
            }
            for kind, count in export.counts.items()
        ]


class ExportPermission:
    permission_classes = [IsAuthenticated]

    def check(self, request: Request) -> None:
        if not can_bulk_export(request.user):
            raise PermissionDenied("Only clinic admins export the whole clinic.")


class FhirExportsView(ExportPermission, APIView):
    @extend_schema(request=None, responses={202: FhirExportSerializer})
    def post(self, request: Request) -> Response:
        """Start a bulk export of every patient's record; follow it at the returned URL."""
        from interop.tasks import fhir_bulk_export

        self.check(request)
        export = exports.fhir_export_create(requested_by=request.user)
        unreachable: list[bool] = []

        def send() -> None:  # once the export row is committed (at once outside a transaction)
            try:
                fhir_bulk_export.delay(str(export.pk))
            except OperationalError:  # the broker (Redis) is out of reach
                unreachable.append(True)

        transaction.on_commit(send)
        if unreachable:
            detail = "The task queue cannot be reached just now; start the export again shortly."
            exports.fhir_export_fail(export=export, error=detail)
            audit.access_record(request=request, action="api.fhir-export.start", status=503)
            return Response(
                problem(503, detail),
                status=503,
                content_type=PROBLEM_CONTENT_TYPE,
                headers={"Retry-After": "30"},
            )
        audit.access_record(request=request, action="api.fhir-export.start", status=202)
        response = Response(
            FhirExportSerializer(export, context={"request": request}).data, status=202
        )
        response["Content-Location"] = reverse("fhir-export", args=[export.pk])
        return response


class FhirExportView(ExportPermission, APIView):
    @extend_schema(responses=FhirExportSerializer)
    def get(self, request: Request, pk: str) -> Response:
        """The export's status and progress, and its files once done."""
        self.check(request)
        export = FhirExport.objects.filter(pk=pk).first()
        if export is None:
            raise Http404
        return Response(FhirExportSerializer(export, context={"request": request}).data)


class FhirExportFileView(ExportPermission, APIView):
    @extend_schema(responses={(200, "application/fhir+ndjson"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: str, resource_type: str) -> FileResponse:
        """One resource type's NDJSON file of a finished export."""
        self.check(request)
        export = FhirExport.objects.filter(pk=pk).first()
        path = exports.export_file(export, resource_type) if export else None
        if path is None:
            raise Http404
        audit.access_record(request=request, action="api.fhir-export.download", status=200)
        return FileResponse(
            path.open("rb"), content_type="application/fhir+ndjson", filename=path.name
        )
