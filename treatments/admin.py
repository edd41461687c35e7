from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from clinic.admin import ClinicalInline, ClinicalModelAdmin
from clinic.permissions import CHANGE, allowed
from clinic.roles import CLINICIAN
from treatments import services
from treatments.forms import (
    NumberedFormSet,
    RegisteredFormSet,
    SideEffectForm,
    SideEffectFormSet,
    SiteForm,
    SiteFormSet,
)
from treatments.models import (
    Addendum,
    FollowUp,
    Injectate,
    InjectionSession,
    InjectionSite,
    SideEffect,
    TreatmentCourse,
    TreatmentKind,
)
from treatments.selectors import TREATMENT_INJECTATES, sessions_given

ADMIN_CANCEL_REASON = "Cancelled in the admin."


class TreatmentKindFilter(admin.SimpleListFilter):
    """Sessions by what was injected: one kind, or a combination given together."""

    title = "treatment kind"
    parameter_name = "treatment"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(kind.value, kind.label) for kind in TreatmentKind if kind in TREATMENT_INJECTATES]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[InjectionSession]
    ) -> QuerySet[InjectionSession]:
        if self.value() in TREATMENT_INJECTATES:
            return sessions_given(queryset, treatment=self.value())
        return queryset


class SideEffectGradeFilter(admin.SimpleListFilter):
    title = "side-effect grade"
    parameter_name = "side_effect_grade"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("any", "Any side effect"),
            ("2", "Grade 2 or above"),
            ("3", "Grade 3 or above (serious)"),
        ]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[InjectionSession]
    ) -> QuerySet[InjectionSession]:
        value = self.value()
        if value is None:
            return queryset
        grade = int(value) if value.isdigit() else 1
        return queryset.filter(
            Exists(SideEffect.objects.filter(session=OuterRef("pk"), grade__gte=grade))
        )


class ClinicianFilter(admin.SimpleListFilter):
    title = "clinician"
    parameter_name = "clinician"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        clinicians = get_user_model().objects.filter(groups__name=CLINICIAN).order_by("last_name")
        return [(str(user.pk), user.get_full_name() or user.get_username()) for user in clinicians]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(clinician_id=value) if value and value.isdigit() else queryset


def is_signed(obj: Any) -> bool:
    return obj is not None and getattr(obj, "is_signed", False)


class SessionChildInline(ClinicalInline):
    """Injectates and sites: editable, and removable, until the session is signed."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not is_signed(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not is_signed(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not is_signed(obj) and allowed(request.user, self.model, CHANGE)


class InjectateInline(SessionChildInline, admin.StackedInline):
    model = Injectate
    formset = NumberedFormSet
    extra = 1
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("line", "kind", "volume_ml"),
                    ("product_name", "manufacturer"),
                    ("lot_number", "expiry_date"),
                ]
            },
        ),
        (
            "PRP",
            {
                "classes": ["collapse"],
                "fields": [
                    ("whole_blood_ml", "prp_system", "spins"),
                    ("anticoagulant", "leukocytes", "red_cells", "activation"),
                    ("platelet_count", "baseline_platelet_count"),
                ],
            },
        ),
        (
            "Dextrose and local anaesthetic",
            {
                "classes": ["collapse"],
                "fields": [("dextrose_pct", "diluent"), ("anaesthetic", "anaesthetic_pct")],
            },
        ),
        (
            "Exosomes",
            {"classes": ["collapse"], "fields": [("exosome_source", "particles_per_ml")]},
        ),
    ]


class SiteInline(SessionChildInline, admin.TabularInline):
    model = InjectionSite
    form = SiteForm
    formset = SiteFormSet
    extra = 1
    fields = [
        "line",
        "injectate_line",
        "body_region",
        "structure",
        "snomed_code",
        "tissue",
        "laterality",
        "volume_ml",
        "needle_gauge",
        "approach",
    ]


class SideEffectInline(ClinicalInline, admin.StackedInline):
    """Side effects reported at the visit are frozen by signing; later ones are still added."""

    model = SideEffect
    form = SideEffectForm
    formset = SideEffectFormSet
    extra = 0

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not is_signed(obj) and super().has_change_permission(request, obj)

    fields = [
        ("kind", "grade", "serious"),
        ("onset_date", "resolved_date", "outcome"),
        ("relatedness", "reported_by", "site_line"),
        "description",
        "action_taken",
    ]


class AddendumInline(ClinicalInline, admin.TabularInline):
    """Corrections to a signed session: added, never changed."""

    model = Addendum
    extra = 1
    fields = ["text", "author", "created_at"]
    readonly_fields = ["author", "created_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_signed(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(InjectionSession)
class InjectionSessionAdmin(ClinicalModelAdmin):
    list_display = ["performed_at", "patient", "clinician", "status", "treatment", "signed"]
    list_filter = [
        "status",
        TreatmentKindFilter,
        ClinicianFilter,
        SideEffectGradeFilter,
        "guidance",
        "performed_at",
    ]
    date_hierarchy = "performed_at"
    search_fields = ["=patient__mrn", "patient__family_name", "patient__given_name"]
    autocomplete_fields = ["patient", "course"]
    list_select_related = ["patient", "clinician"]
    readonly_fields = ["signed_by", "signed_at"]
    fieldsets = [
        (None, {"fields": ["patient", "course", "clinician", "performed_at", "status"]}),
        (
            "Procedure",
            {"fields": ["guidance", "consent_obtained", "pre_pain_score", "notes"]},
        ),
        ("Cancellation and signature", {"fields": ["cancel_reason", "signed_by", "signed_at"]}),
    ]
    inlines = [InjectateInline, SiteInline, SideEffectInline, AddendumInline]
    actions = ["cancel", "sign"]
    needs = {
        "treatment": "treatments.injectate",
        "side_effect_grade": "treatments.sideeffect",
    }

    class Media:
        js = ["treatments/session_lines.js"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[InjectionSession]:
        return super().get_queryset(request).prefetch_related("injectates")

    def get_inlines(self, request: HttpRequest, obj: Any) -> list[type[Any]]:
        if is_signed(obj):
            return self.inlines
        return [inline for inline in self.inlines if inline is not AddendumInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if is_signed(obj):  # the signed record is final: shown, not editable
            return [field for _, options in self.fieldsets for field in options["fields"]]
        return list(self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change and InjectionSession.objects.filter(pk=obj.pk, signed_at__isnull=False).exists():
            return  # nothing of a signed session is saved; only its addenda below
        super().save_model(request, obj, form, change)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = {"performed_at": timezone.now(), "clinician": request.user.pk}
        initial.update(super().get_changeform_initial_data(request))
        return initial

    def get_formset_kwargs(
        self, request: HttpRequest, obj: Any, inline: Any, prefix: str
    ) -> dict[str, Any]:
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if not issubclass(inline.formset, RegisteredFormSet):
            return kwargs
        # One registry per request lets a site find the injectates posted beside it.
        if not hasattr(request, "session_formsets"):
            request.session_formsets = {}  # type: ignore[attr-defined]
        kwargs["registry"] = request.session_formsets  # type: ignore[attr-defined]
        return kwargs

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is Addendum:
            formset.new_objects = [
                services.addendum_add(
                    session=form.instance,
                    author=request.user,
                    text=addendum_form.cleaned_data["text"],
                )
                for addendum_form in formset.forms
                if addendum_form.has_changed() and addendum_form.instance.pk is None
            ]
            formset.changed_objects, formset.deleted_objects = [], []
            return
        if formset.model is SideEffect:
            for side_effect_form in formset.forms:
                if side_effect_form.instance.pk is None:
                    side_effect_form.instance.recorded_by = request.user
        super().save_formset(request, form, formset, change)

    @admin.display(description="Injectates")
    def treatment(self, session: InjectionSession) -> str:
        return " + ".join(i.get_kind_display() for i in session.injectates.all()) or "-"

    @admin.display(boolean=True, ordering="signed_at")
    def signed(self, session: InjectionSession) -> bool:
        return session.is_signed

    @admin.action(description="Sign selected completed sessions (your own)", permissions=["change"])
    def sign(self, request: HttpRequest, queryset: QuerySet[InjectionSession]) -> None:
        self.run_service(
            request,
            queryset,
            lambda s: services.session_sign(session=s, clinician=request.user),
            "Signed",
        )

    @admin.action(description="Cancel selected planned sessions", permissions=["change"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[InjectionSession]) -> None:
        self.run_service(
            request,
            queryset,
            lambda s: services.session_cancel(session=s, reason=ADMIN_CANCEL_REASON),
            "Cancelled",
        )


@admin.register(TreatmentCourse)
class TreatmentCourseAdmin(ClinicalModelAdmin):
    list_display = ["patient", "condition", "planned_treatment", "start_date", "status"]
    list_filter = ["status", "planned_treatment"]
    date_hierarchy = "start_date"
    search_fields = ["=patient__mrn", "patient__family_name", "condition__icd10_code"]
    autocomplete_fields = ["patient", "condition"]
    list_select_related = ["patient", "condition"]


@admin.register(SideEffect)
class SideEffectAdmin(ClinicalModelAdmin):
    list_display = ["onset_date", "kind", "grade", "serious", "outcome", "session"]
    list_filter = ["grade", "kind", "serious", "relatedness", "outcome"]
    date_hierarchy = "onset_date"
    search_fields = ["=session__patient__mrn", "session__patient__family_name"]
    autocomplete_fields = ["session"]
    raw_id_fields = ["site"]
    list_select_related = ["session"]
    readonly_fields = ["recorded_by"]

    def save_model(self, request: HttpRequest, obj: SideEffect, form: Any, change: bool) -> None:
        if not change:
            obj.recorded_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)

    def has_change_permission(self, request: HttpRequest, obj: SideEffect | None = None) -> bool:
        if obj is not None and services.side_effect_is_final(obj):
            return False
        return super().has_change_permission(request, obj)


@admin.register(FollowUp)
class FollowUpAdmin(ClinicalModelAdmin):
    list_display = ["starts_at", "ends_at", "patient", "kind", "clinician", "status"]
    list_filter = ["status", "kind", ClinicianFilter]
    date_hierarchy = "starts_at"
    search_fields = ["=patient__mrn", "patient__family_name", "patient__given_name"]
    autocomplete_fields = ["patient", "course", "session"]
    list_select_related = ["patient", "clinician"]
    actions = ["cancel"]

    @admin.action(description="Cancel selected follow-ups", permissions=["change"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[FollowUp]) -> None:
        self.run_service(
            request, queryset, lambda f: services.follow_up_cancel(follow_up=f), "Cancelled"
        )


@admin.register(Injectate)
class InjectateAdmin(ClinicalModelAdmin):
    """Find every injectate of a batch; injectates are recorded on their session's page."""

    list_display = ["lot_number", "kind", "product_name", "expiry_date", "session"]
    list_filter = ["kind"]
    search_fields = ["=lot_number", "product_name"]
    list_select_related = ["session"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
