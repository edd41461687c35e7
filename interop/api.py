"""FHIR through the API: a patient's record as a Bundle, and the bulk export of the clinic
(clinic admins): start one, follow its progress, download its NDJSON files. Every export,
start, cancel and download is recorded in the access log.

The bulk export is offered twice: as the FHIR Bulk Data Access protocol (v2) that stock clients
drive (``GET [base]/$export`` with ``Prefer: respond-async``, a status address answering 202
with ``X-Progress`` and then 200 with the manifest, ``DELETE`` to cancel; errors as FHIR
OperationOutcomes), and as the clinic's own ``/api/v1/fhir-exports/`` of before."""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.http import FileResponse, Http404
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from kombu.exceptions import OperationalError
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

import treatments.api
from interop import bulk as exports
from interop import fhir
from interop.models import ExportStatus, FhirExport, FhirExportRequest
from patients.models import Patient
from recordkeeping import audit
from recordkeeping.api.errors import PROBLEM_CONTENT_TYPE, api_exception_handler, problem
from recordkeeping.api.renderers import FastJSONRenderer
from recordkeeping.permissions import VIEW, can_bulk_export, can_export_fhir

NDJSON_MEDIA_TYPE = "application/fhir+ndjson"


class FhirJSONRenderer(FastJSONRenderer):
    """JSON under FHIR's media type, which FHIR clients ask for (``Accept``). Its format is
    JSON's: ``?format=json`` picks either, and the schema offers no second format."""

    media_type = fhir.MEDIA_TYPE
    format = "json"


class PatientViewSet(treatments.api.PatientViewSet):
    """Patients, with their record as FHIR."""

    @extend_schema(
        request=None,
        responses={(200, fhir.MEDIA_TYPE): OpenApiTypes.OBJECT},
        summary="A patient's record as a FHIR Bundle",
        description="The patient's whole record as a FHIR R4 Bundle (type collection): "
        "Patient, Practitioner, Condition, Procedure, Medication, AdverseEvent, Appointment "
        "and Observation resources, and the patient's answers to questionnaires as "
        "QuestionnaireResponse resources with the Questionnaire each answers.",
    )
    @action(
        detail=True,
        methods=["get"],
        permission_action=VIEW,
        renderer_classes=[FastJSONRenderer, FhirJSONRenderer],
    )
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
        return output_files(self.context["request"], export)


def output_files(request: Request, export: FhirExport) -> list[dict[str, Any]]:
    return [
        {
            "type": kind,
            "url": request.build_absolute_uri(reverse("fhir-export-file", args=[export.pk, kind])),
            "count": count,
        }
        for kind, count in sorted(export.counts.items(), key=_written_order)
    ]


def _written_order(item: tuple[str, int]) -> tuple[int, str]:
    """The order of ``fhir.RESOURCE_TYPES`` (the stored counts keep none), older types last."""
    kind = item[0]
    known = kind in fhir.RESOURCE_TYPES
    return (fhir.RESOURCE_TYPES.index(kind) if known else len(fhir.RESOURCE_TYPES), kind)


class ExportView(APIView):
    """A view of the whole clinic's export: for clinic admins only."""

    permission_classes = [IsAuthenticated]

    def check(self, request: Request) -> None:
        if not can_bulk_export(request.user):
            raise PermissionDenied("Only clinic admins export the whole clinic.")


BROKER_DOWN = "The task queue cannot be reached just now; start the export again shortly."


def enqueue(export: FhirExport) -> bool:
    """Send the export to the worker once its row is committed (at once outside a
    transaction); False when the broker cannot be reached, and the export is marked failed."""
    from interop.tasks import fhir_bulk_export

    unreachable: list[bool] = []

    def send() -> None:
        try:
            fhir_bulk_export.delay(str(export.pk))
        except OperationalError:  # the broker (Redis) is out of reach
            unreachable.append(True)

    transaction.on_commit(send)
    if unreachable:
        exports.fhir_export_fail(export=export, error=BROKER_DOWN)
    return not unreachable


class FhirExportsView(ExportView):
    @extend_schema(
        request=None, responses={202: FhirExportSerializer}, summary="Start a bulk FHIR export"
    )
    def post(self, request: Request) -> Response:
        """Start a bulk export of every patient's record; follow it at the returned URL."""
        self.check(request)
        export = exports.fhir_export_create(requested_by=request.user)
        if not enqueue(export):
            audit.access_record(request=request, action="api.fhir-export.start", status=503)
            return Response(
                problem(503, BROKER_DOWN),
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


class FhirExportView(ExportView):
    @extend_schema(responses=FhirExportSerializer, summary="A bulk FHIR export's progress")
    def get(self, request: Request, pk: str) -> Response:
        """The export's status and progress, and its files once done."""
        self.check(request)
        export = FhirExport.objects.filter(pk=pk).first()
        if export is None:
            raise Http404
        return Response(FhirExportSerializer(export, context={"request": request}).data)


class FhirExportFileView(ExportView):
    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        """The file is NDJSON whatever ``Accept`` says (Bulk Data clients ask for
        ``application/fhir+ndjson``); a refusal is JSON."""
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        responses={(200, NDJSON_MEDIA_TYPE): OpenApiTypes.BINARY},
        summary="Download one file of a bulk FHIR export",
    )
    def get(self, request: Request, pk: str, resource_type: str) -> FileResponse:
        """One resource type's NDJSON file of a finished export."""
        self.check(request)
        export = FhirExport.objects.filter(pk=pk).first()
        path = exports.export_file(export, resource_type) if export else None
        if path is None:
            raise Http404
        audit.access_record(request=request, action="api.fhir-export.download", status=200)
        return FileResponse(path.open("rb"), content_type=NDJSON_MEDIA_TYPE, filename=path.name)


# -- FHIR Bulk Data Access (https://hl7.org/fhir/uv/bulkdata/export.html) ---------------------

ISSUE_TYPES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 406: "invalid"}
ISSUE_TYPES |= {405: "not-supported", 415: "invalid", 429: "throttled", 503: "transient"}
OUTPUT_FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")
# Kick-off parameters of the specification this server does not offer: refused, unless the
# client asks for lenient handling (Prefer: handling=lenient), when they are ignored.
UNSUPPORTED = ("_elements", "patient", "includeAssociatedData", "_typeFilter")
ASYNC_ONLY = "Prefer: respond-async is required: the export runs in the background."


def operation_outcome(
    status: int, detail: str, errors: Mapping[str, list[str]] | None = None
) -> dict[str, Any]:
    """A FHIR OperationOutcome: one issue per parameter or header at fault, naming it."""
    code = ISSUE_TYPES.get(status, "exception" if status >= 500 else "processing")
    severity = "information" if status < 300 else "error"
    issues = [
        {"severity": severity, "code": code, "diagnostics": " ".join(messages)}
        | ({"expression": [field]} if field != "non_field_errors" else {})
        for field, messages in (errors or {}).items()
    ] or [{"severity": severity, "code": code, "diagnostics": detail}]
    return {"resourceType": "OperationOutcome", "issue": issues}


def outcome_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """The API's refusals (logged as everywhere), as FHIR clients read them."""
    response = api_exception_handler(exc, context)
    if response is not None:
        data = response.data
        response.data = operation_outcome(response.status_code, data["detail"], data["errors"])
        response.content_type = fhir.MEDIA_TYPE
    return response


class OutcomeIssueSerializer(serializers.Serializer):
    severity = serializers.ChoiceField(["fatal", "error", "warning", "information"])
    code = serializers.CharField(help_text="An R4 issue type: invalid, forbidden, not-found, ...")
    diagnostics = serializers.CharField()
    expression = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="The parameter or header."
    )


class OperationOutcomeSerializer(serializers.Serializer):
    resourceType = serializers.ChoiceField(["OperationOutcome"])  # noqa: N815 - FHIR's name
    issue = OutcomeIssueSerializer(many=True)


class ManifestFileSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="The resource type of every line of the file.")
    url = serializers.URLField()
    count = serializers.IntegerField(help_text="How many resources (lines) it holds.")


class ManifestSerializer(serializers.Serializer):
    transactionTime = serializers.DateTimeField(  # noqa: N815 - the specification's names
        help_text="When the export was asked for: it holds every change up to then, so a "
        "next export with `_since` set to this misses nothing."
    )
    request = serializers.URLField(help_text="The kick-off request.")
    requiresAccessToken = serializers.BooleanField(  # noqa: N815
        help_text="Always true: send the same `Authorization` header to download the files."
    )
    output = ManifestFileSerializer(many=True)
    error = ManifestFileSerializer(many=True, help_text="Always empty.")


def outcome_responses(*codes: int) -> dict[Any, Any]:
    return {
        (code, fhir.MEDIA_TYPE): OpenApiResponse(OperationOutcomeSerializer, description=text)
        for code, text in (
            (400, "A parameter or header is not one the export takes; the issue names it."),
            (401, "Not logged in, or the token is missing or wrong."),
            (403, "Only clinic admins export the whole clinic."),
            (404, "No such export, or it was cancelled."),
            (500, "The export failed; the issue says why."),
            (503, "The task queue cannot be reached just now; try again shortly."),
        )
        if code in codes
    }


class BulkDataView(ExportView):
    renderer_classes = [FhirJSONRenderer, FastJSONRenderer]

    def get_exception_handler(self) -> Any:
        return outcome_exception_handler


def _since(value: str) -> datetime.datetime | None:
    """A FHIR instant (date, time and time zone), or None."""
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    return None if "T" not in value or timezone.is_naive(moment) else moment


def kick_off_parameters(request: Request) -> tuple[list[str], datetime.datetime | None]:
    """The kick-off's ``_type`` and ``_since``, every other parameter checked."""
    prefer = {part.strip() for part in request.headers.get("Prefer", "").split(",")}
    if "respond-async" not in prefer:
        raise exceptions.ValidationError({"Prefer": [ASYNC_ONLY]})
    lenient = "handling=lenient" in prefer
    query = request.query_params
    errors: dict[str, list[str]] = {}
    for name in query:
        if name in {"_type", "_since", "_outputFormat"}:
            continue
        if not lenient:
            known = name in UNSUPPORTED
            errors[name] = [
                "This server does not offer this parameter."
                if known
                else "Not a parameter of $export."
            ]
    fmt = query.get("_outputFormat")
    if fmt is not None and fmt not in OUTPUT_FORMATS:
        errors["_outputFormat"] = ["Only application/fhir+ndjson is written."]
    types = [kind.strip() for value in query.getlist("_type") for kind in value.split(",")]
    unknown = [kind for kind in types if kind not in fhir.RESOURCE_TYPES]
    if unknown:
        errors["_type"] = [
            f"Not exported: {', '.join(unknown) or '(empty)'}. "
            f"This server exports {', '.join(fhir.RESOURCE_TYPES)}."
        ]
    since = _since(query["_since"]) if "_since" in query else None
    if "_since" in query and since is None:
        errors["_since"] = ["Give an instant with its time zone, e.g. 2026-01-31T08:00:00Z."]
    if errors:
        raise exceptions.ValidationError(errors)
    return types, since


RESOURCE_TYPE_PATTERN = "|".join(fhir.RESOURCE_TYPES)


class BulkExportKickOffView(BulkDataView):
    @extend_schema(
        operation_id="fhir_export",
        summary="Start a FHIR Bulk Data export of the clinic",
        description="The system-level `$export` of FHIR Bulk Data Access: every patient's "
        "record, as NDJSON files per resource type. Poll the `Content-Location` address: "
        "202 with `X-Progress` while it runs, then 200 with the manifest. Clinic admins only.",
        parameters=[
            OpenApiParameter(
                "Prefer",
                location=OpenApiParameter.HEADER,
                required=True,
                enum=["respond-async", "respond-async, handling=lenient"],
                description="The export runs in the background; `handling=lenient` ignores "
                "parameters this server does not offer instead of refusing them.",
            ),
            OpenApiParameter(
                "_type",
                str,
                pattern=f"^({RESOURCE_TYPE_PATTERN})(,({RESOURCE_TYPE_PATTERN}))*$",
                description="Only these resource types, separated by commas (default: all).",
            ),
            OpenApiParameter(
                "_since",
                OpenApiTypes.DATETIME,
                description="Only resources whose record changed after this instant (with its "
                "time zone); the practitioners these name come with them.",
            ),
            OpenApiParameter("_outputFormat", str, enum=list(OUTPUT_FORMATS)),
            OpenApiParameter(
                "Content-Location",
                location=OpenApiParameter.HEADER,
                response=[202],
                description="The export's status address.",
            ),
        ],
        responses={
            (202, fhir.MEDIA_TYPE): OpenApiResponse(
                OperationOutcomeSerializer, description="Started; poll `Content-Location`."
            ),
            **outcome_responses(400, 401, 403, 503),
        },
    )
    def get(self, request: Request) -> Response:
        self.check(request)
        types, since = kick_off_parameters(request)
        export = exports.fhir_export_request(
            requested_by=request.user,
            url=request.build_absolute_uri(),
            types=types,
            since=since,
        )
        if not enqueue(export):
            audit.access_record(request=request, action="api.fhir-export.start", status=503)
            return Response(
                operation_outcome(503, BROKER_DOWN),
                status=503,
                content_type=fhir.MEDIA_TYPE,
                headers={"Retry-After": "30"},
            )
        audit.access_record(request=request, action="api.fhir-export.start", status=202)
        status_url = request.build_absolute_uri(reverse("fhir-bulk-status", args=[export.pk]))
        return Response(
            operation_outcome(202, f"Export started; its status is at {status_url}."),
            status=202,
            content_type=fhir.MEDIA_TYPE,
            headers={"Content-Location": status_url},
        )


def bulk_export(pk: str) -> FhirExport:
    """A Bulk Data export that was not cancelled. Its address takes any id (the route does not
    ask for a UUID), so that every 404 is an OperationOutcome, as FHIR clients read them."""
    try:
        export_id = uuid.UUID(pk)
    except ValueError:
        raise Http404 from None
    found = (
        FhirExportRequest.objects.select_related("export")
        .filter(export_id=export_id, cancelled_at__isnull=True)
        .first()
    )
    if found is None:
        raise Http404
    return found.export


EXPORT_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH)


class BulkExportStatusView(BulkDataView):
    renderer_classes = [FastJSONRenderer, FhirJSONRenderer]

    @extend_schema(
        operation_id="fhir_export_status",
        summary="A FHIR Bulk Data export's status, or its manifest",
        description="202 with `X-Progress` and `Retry-After` while the export runs; 200 with "
        "the manifest (`transactionTime`, `request`, `requiresAccessToken`, `output`) once "
        "done; 500 with an OperationOutcome if it failed; 404 once cancelled.",
        parameters=[
            EXPORT_ID,
            OpenApiParameter(
                "X-Progress",
                location=OpenApiParameter.HEADER,
                response=[202],
                description="How far it is, e.g. `200 of 1000 patients`.",
            ),
            OpenApiParameter(
                "Retry-After",
                location=OpenApiParameter.HEADER,
                response=[202],
                description="Seconds to wait before asking again.",
            ),
        ],
        responses={
            202: OpenApiResponse(description="Still running; no body."),
            (200, "application/json"): OpenApiResponse(
                ManifestSerializer, description="Done: the manifest of its files."
            ),
            **outcome_responses(401, 403, 404, 500),
        },
    )
    def get(self, request: Request, pk: str) -> Response:
        self.check(request)
        export = bulk_export(pk)
        if export.status == ExportStatus.FAILED:
            return Response(
                operation_outcome(500, export.error or "The export failed."),
                status=500,
                content_type=fhir.MEDIA_TYPE,
            )
        if export.status != ExportStatus.DONE:
            done = f"{export.patients_done} of {export.patients_total} patients"
            progress = done if export.status == ExportStatus.RUNNING else "queued"
            return Response(status=202, headers={"X-Progress": progress, "Retry-After": "2"})
        manifest = {
            "transactionTime": fhir.instant(export.created_at),
            "request": export.bulk_request.url,
            "requiresAccessToken": True,
            "output": output_files(request, export),
            "error": [],
        }
        return Response(manifest, content_type="application/json")

    @extend_schema(
        operation_id="fhir_export_cancel",
        summary="Cancel a FHIR Bulk Data export and delete its files",
        description="Stops a running export (at its next chunk of patients) or deletes a "
        "finished one's files. The export stays in the records, as cancelled.",
        request=None,
        parameters=[EXPORT_ID],
        responses={
            (202, fhir.MEDIA_TYPE): OpenApiResponse(
                OperationOutcomeSerializer,
                description="Cancelled; its status address answers 404 from now on.",
            ),
            **outcome_responses(401, 403, 404),
        },
    )
    def delete(self, request: Request, pk: str) -> Response:
        self.check(request)
        exports.fhir_export_cancel(export=bulk_export(pk))
        audit.access_record(request=request, action="api.fhir-export.cancel", status=202)
        return Response(
            operation_outcome(202, "Export cancelled; its files are deleted."),
            status=202,
            content_type=fhir.MEDIA_TYPE,
        )


def operation_paths(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """A schema hook: FHIR names its operations with a ``$`` (``$export``), which the schema
    generator drops from paths as if it ended a regular expression. It is put back."""
    result["paths"] = {
        re.sub(r"^/api/v1/fhir/(export|export-status)\b", r"/api/v1/fhir/$\1", path): operations
        for path, operations in result.get("paths", {}).items()
    }
    return result
