from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join, json_script
from django.utils.safestring import SafeString

from clinic import audit
from clinic.admin import ClinicalInline, ClinicalModelAdmin, LoadedChoiceField, can_review_audit
from patients import selectors, services
from patients.models import Condition, InstrumentMcid, OutcomeScore, Patient
from treatments import services as treatment_services
from treatments.models import FollowUp, TreatmentCourse

RECENT_ROWS = 10


def linked_table(
    headers: tuple[str, ...],
    rows: Iterable[tuple[Any, ...]],
    list_url: str,
    patient: Patient,
    list_label: str,
) -> SafeString:
    """A small table whose rows are (link, when, *cells), with a link to the patient's full list."""
    head = format_html_join("", "<th>{}</th>", ((header,) for header in headers))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        (
            (
                format_html(
                    '<td><a href="{}">{}</a></td>{}',
                    link,
                    f"{timezone.localtime(when):%d %b %Y %H:%M}",
                    format_html_join("", "<td>{}</td>", ((cell,) for cell in cells)),
                ),
            )
            for link, when, *cells in rows
        ),
    )
    return format_html(
        '<table><tr>{}</tr>{}</table><a href="{}?patient__id__exact={}">{}</a>',
        head,
        body,
        list_url,
        patient.pk,
        list_label,
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


class CourseInline(ClinicalInline, admin.TabularInline):
    model = TreatmentCourse
    extra = 0
    fields = [
        "condition",
        "planned_treatment",
        "planned_sessions",
        "planned_interval_weeks",
        "start_date",
        "status",
        "stop_reason",
        "ended_on",
    ]
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[TreatmentCourse]:
        return super().get_queryset(request).select_related("condition")  # named in each row

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "condition":
            patient_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = Condition.objects.filter(patient_id=patient_id)
            kwargs["form_class"] = LoadedChoiceField  # the patient's conditions, read once
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Patient)
class PatientAdmin(ClinicalModelAdmin):
    list_display = ["mrn", "family_name", "given_name", "birth_date", "sex", "phone", "archived"]
    list_display_links = ["mrn", "family_name"]
    search_fields = ["=mrn", "family_name", "given_name"]
    list_filter = [ArchivedFilter, "sex", "reminder_channel", "anticoagulant_use"]
    readonly_fields = [
        "mrn",
        "score_chart",
        "recent_sessions",
        "upcoming_follow_ups",
        "archived_at",
    ]
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
        ("Outcome scores over time", {"fields": ["score_chart"]}),
        ("Record", {"fields": ["recent_sessions", "upcoming_follow_ups", "archived_at"]}),
    ]
    inlines = [ConditionInline, CourseInline]
    actions = ["archive", "restore"]
    needs = {
        "score_chart": "patients.outcomescore",
        "recent_sessions": "treatments.injectate",
        "upcoming_follow_ups": "treatments.followup",
    }

    def save_model(self, request: HttpRequest, obj: Patient, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change:  # consent or channel may have changed: upcoming reminders follow
            treatment_services.patient_reminders_sync(patient=obj)

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

    class Media:
        js = ["clinic/vendor/chart-4.6.1.umd.min.js", "clinic/charts.js"]

    @admin.display(description="Scores")
    def score_chart(self, patient: Patient) -> SafeString | str:
        """Each instrument's scores (NPRS with the pre-procedure pain of each session) over
        time, with the completed sessions marked."""
        if not patient.pk:
            return "-"
        data = selectors.patient_score_series(patient=patient)
        if not data["datasets"]:
            return "No outcome scores yet."
        element = f"scores-{patient.pk}"
        return format_html(
            '<div style="width: 860px"><canvas id="score-chart" data-chart="{}" '
            'data-kind="scores"></canvas></div>{}',
            element,
            json_script(data, element),
        )

    @admin.display(description="Recent sessions")
    def recent_sessions(self, patient: Patient) -> SafeString | str:
        if not patient.pk:
            return "-"
        sessions = (
            patient.sessions.select_related("clinician")
            .prefetch_related("injectates")
            .order_by("-performed_at")[:RECENT_ROWS]
        )
        return linked_table(
            ("When", "Status", "Injectates", "Clinician"),
            (
                (
                    reverse("admin:treatments_injectionsession_change", args=[s.pk]),
                    s.performed_at,
                    s.get_status_display(),
                    ", ".join(i.get_kind_display() for i in s.injectates.all()) or "-",
                    s.clinician.get_full_name() or s.clinician.get_username(),
                )
                for s in sessions
            ),
            reverse("admin:treatments_injectionsession_changelist"),
            patient,
            "All sessions",
        )

    @admin.display(description="Upcoming follow-ups")
    def upcoming_follow_ups(self, patient: Patient) -> SafeString | str:
        if not patient.pk:
            return "-"
        follow_ups = (
            FollowUp.objects.filter(patient=patient, starts_at__gte=timezone.now())
            .select_related("clinician")
            .order_by("starts_at")[:RECENT_ROWS]
        )
        return linked_table(
            ("When", "Kind", "Status", "Clinician"),
            (
                (
                    reverse("admin:treatments_followup_change", args=[f.pk]),
                    f.starts_at,
                    f.get_kind_display(),
                    f.get_status_display(),
                    f.clinician.get_full_name() or f.clinician.get_username(),
                )
                for f in follow_ups
            ),
            reverse("admin:treatments_followup_changelist"),
            patient,
            "All follow-ups",
        )

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
    list_filter = ["instrument", "time_point"]
    search_fields = ["patient__mrn", "patient__family_name"]
    autocomplete_fields = ["patient", "course"]
    date_hierarchy = "measured_on"
    list_select_related = ["patient", "course"]
    readonly_fields = ["recorded_by"]

    def save_model(self, request: HttpRequest, obj: OutcomeScore, form: Any, change: bool) -> None:
        if not change:
            obj.recorded_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


@admin.register(InstrumentMcid)
class InstrumentMcidAdmin(ClinicalModelAdmin):
    """The MCID of each instrument, used to count responders in the reports."""

    list_display = ["instrument", "value", "unit", "direction"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # one row per instrument, installed with the clinic

    @admin.display(description="Better is")
    def direction(self, mcid: InstrumentMcid) -> str:
        return "lower" if mcid.better == "lower" else "higher"
