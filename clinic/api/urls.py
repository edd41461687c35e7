from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import DefaultRouter

# Each resource as the highest floor that knows it serves it: a patient with its timeline
# (treatments) and FHIR Bundle (fhir), a course with its responses (reports).
from interop.api import (
    BulkExportKickOffView,
    BulkExportStatusView,
    FhirExportFileView,
    FhirExportsView,
    FhirExportView,
    PatientViewSet,
)
from patients.api import ConditionViewSet, OutcomeScoreViewSet
from recordkeeping.api.auth import TokenView
from reports.api import REPORT_VIEWS, CourseViewSet
from treatments.api import CalendarFeedView, FollowUpViewSet, SessionViewSet, SideEffectViewSet

router = DefaultRouter()
router.register("patients", PatientViewSet, basename="patient")
router.register("conditions", ConditionViewSet, basename="condition")
router.register("courses", CourseViewSet, basename="course")
router.register("sessions", SessionViewSet, basename="session")
router.register("side-effects", SideEffectViewSet, basename="side-effect")
router.register("follow-ups", FollowUpViewSet, basename="follow-up")
router.register("outcomes", OutcomeScoreViewSet, basename="outcome")

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("calendar-feed/", CalendarFeedView.as_view(), name="calendar-feed-issue"),
    *(
        path(f"reports/{name}/", view.as_view(), name=f"report-{name}")
        for name, view in REPORT_VIEWS.items()
    ),
    # FHIR Bulk Data Access: [base] is /api/v1/fhir (interop.api).
    path("fhir/$export", BulkExportKickOffView.as_view(), name="fhir-bulk-export"),
    path("fhir/$export-status/<str:pk>", BulkExportStatusView.as_view(), name="fhir-bulk-status"),
    path("fhir-exports/", FhirExportsView.as_view(), name="fhir-exports"),
    path("fhir-exports/<uuid:pk>/", FhirExportView.as_view(), name="fhir-export"),
    path(
        "fhir-exports/<uuid:pk>/<str:resource_type>.ndjson",
        FhirExportFileView.as_view(),
        name="fhir-export-file",
    ),
    path("", include(router.urls)),
]
