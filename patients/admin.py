from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from patients import services
from patients.models import Condition, InstrumentMcid, OutcomeScore, Patient
from recordkeeping import audit
from recordkeeping.admin import (
    ClinicalInline,
    ClinicalModelAdmin,
    can_review_audit,
)


class ArchivedFilter(admin.SimpleListFilter):
    title = "record"
    parameter_name = "record"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "Active"), ("archived", "Archived")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Patient]) -> QuerySet[Patient]:
        if self.value() == "active":
            return queryset.filter(archived_at__isnull=True)
        if self.value() == "archived":
            return queryset.filter(archived_at__isnull=False)
        return queryset


class ConditionInline(ClinicalInline, admin.TabularInline):
    model = Condition
    extra = 0
    fields = ["icd10_code", "label", "body_region", "laterality", "onset_date", "status"]


@admin.register(Patient)
class PatientAdmin(ClinicalModelAdmin):
    """A patient's page: demographics, contact, cautions and conditions (treatments/admin.py
    adds courses, sessions, follow-ups and scores)."""

    list_display = ["mrn", "family_name", "given_name", "birth_date", "sex", "phone", "archived"]
    list_display_links = ["mrn", "family_name"]
    search_fields = ["=mrn", "family_name", "given_name"]
    list_filter = [ArchivedFilter, "sex", "reminder_channel", "anticoagulant_use"]
    readonly_fields = ["mrn", "archived_at"]
    fieldsets = [
        (None, {"fields": ["mrn", "given_name", "family_name", "birth_date", "sex"]}),
        (
            "Contact and reminders",
            {
                "fields": [
                    "phone",
                    "email",
                    "reminder_channel",
                    "reminder_consent",
                    "reminder_consent_on",
                ]
            },
        ),
        ("Cautions", {"fields": ["allergies", "local_anaesthetic_allergy", "anticoagulant_use"]}),
        ("Record", {"fields": ["archived_at"]}),
    ]
    inlines: ClassVar[list[type[Any]]] = [ConditionInline]
    actions = ["archive", "restore"]

    def get_inlines(self, request: HttpRequest, obj: Patient | None) -> list[type[Any]]:
        return self.inlines if obj else []

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> Any:
        """The admin's History button: who saw or changed this patient (clinic admins)."""
        patient = self.get_object(request, object_id)
        if patient is None or not can_review_audit(request.user):
            raise PermissionDenied
        context = audit.patient_history(patient=patient)
        return TemplateResponse(
            request,
            "admin/audit_history.html",
            {**self.admin_site.each_context(request), **context, "title": f"History of {patient}"},
        )

    @admin.display(boolean=True, ordering="archived_at")
    def archived(self, patient: Patient) -> bool:
        return patient.is_archived

    @admin.action(description="Archive selected patients", permissions=["change"])
    def archive(self, request: HttpRequest, queryset: QuerySet[Patient]) -> None:
        self.run_service(
            request, queryset, lambda p: services.patient_archive(patient=p), "Archived"
        )

    @admin.action(description="Restore selected patients from the archive", permissions=["change"])
    def restore(self, request: HttpRequest, queryset: QuerySet[Patient]) -> None:
        self.run_service(
            request, queryset, lambda p: services.patient_restore(patient=p), "Restored"
        )


@admin.register(Condition)
class ConditionAdmin(ClinicalModelAdmin):
    list_display = ["icd10_code", "label", "patient", "body_region", "laterality", "status"]
    list_filter = ["status", "body_region"]
    search_fields = ["icd10_code", "label", "patient__mrn", "patient__family_name"]
    autocomplete_fields = ["patient"]
    list_select_related = ["patient"]


@admin.register(OutcomeScore)
class OutcomeScoreAdmin(ClinicalModelAdmin):
    list_display = ["patient", "instrument", "score", "time_point", "measured_on", "course"]
    # Dates as a filter, not a date hierarchy: the hierarchy's links read the years of every
    # score (over 400 ms for a network's two million).
    list_filter = ["instrument", "time_point", "patient_reported", "measured_on"]
    search_fields = ["patient__mrn", "patient__family_name"]
    autocomplete_fields = ["patient", "course"]
    list_select_related = ["patient", "course"]
    readonly_fields = ["recorded_by", "patient_reported"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Scored from the patient's own answers: read here, never retyped.
        if obj is not None and obj.patient_reported:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: OutcomeScore, form: Any, change: bool) -> None:
        if not change:
            obj.recorded_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


@admin.register(InstrumentMcid)
class InstrumentMcidAdmin(ClinicalModelAdmin):
    """The MCID of each instrument, used to count responders in the reports."""

    list_display = ["instrument", "value", "unit", "direction"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # one row per instrument, installed with the clinic

    @admin.display(description="Better is")
    def direction(self, mcid: InstrumentMcid) -> str:
        return "lower" if mcid.better == "lower" else "higher"
