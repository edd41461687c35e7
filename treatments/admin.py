from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html, format_html_join, json_script
from django.utils.safestring import SafeString

from patients.admin import PatientAdmin
from patients.models import Condition, Patient
from recordkeeping import audit
from recordkeeping.admin import ClinicalInline, ClinicalModelAdmin, LoadedChoiceField
from recordkeeping.errors import Clash
from recordkeeping.permissions import CHANGE, allowed, clinicians
from recordkeeping.roles import CLINICIAN
from recordkeeping.staff import signed_in
from treatments import selectors, services
from treatments.forms import (
    NumberedFormSet,
    RegisteredFormSet,
    SideEffectForm,
    SideEffectFormSet,
    SiteForm,
    SiteFormSet,
)
from treatments.models import (
    BOOKABLE,
    Addendum,
    FollowUp,
    FollowUpRule,
    FollowUpStatus,
    Injectate,
    InjectionSession,
    InjectionSite,
    Reminder,
    ReminderDelivery,
    SessionStatus,
    SideEffect,
    TreatmentCourse,
    TreatmentKind,
)
from treatments.selectors import TREATMENT_INJECTATES, sessions_given
from treatments.serializers import EARLIEST, LATEST
from treatments.views import calendar_feed_url

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
        treatment = self.value()
        if treatment is not None and treatment in TREATMENT_INJECTATES:
            return sessions_given(queryset, treatment=treatment)
        return queryset


class OverdueFilter(admin.SimpleListFilter):
    """Courses overdue for their next session, with nothing booked."""

    title = "next session"
    parameter_name = "next_session"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("overdue", "Overdue, not booked")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[TreatmentCourse]
    ) -> QuerySet[TreatmentCourse]:
        if self.value() == "overdue":
            overdue = selectors.courses_overdue(on=timezone.localdate())
            return queryset.filter(pk__in=overdue.values("pk"))
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

    @admin.display(description="Injectate no.")
    def injectate_line(self, site: InjectionSite) -> int | None:
        """The number shown once the row is read-only (signed, or a role that only reads); the
        editable row has the form's own field of this name."""
        return site.injectate.line if site.injectate_id else None


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

    @admin.display(description="Site no.")
    def site_line(self, side_effect: SideEffect) -> int | None:
        """The number shown once the row is read-only (see SiteInline.injectate_line)."""
        return side_effect.site.line if side_effect.site else None


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
            return flatten_fieldsets(self.fieldsets or ())
        if obj is not None and obj.clinician_id != request.user.pk:
            # A colleague's session stays theirs (a clinic admin reassigns it, with a reason).
            return [*self.readonly_fields, "clinician"]
        return list(self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        stored = InjectionSession.objects.filter(pk=obj.pk).values("signed_at", "status").first()
        if change and stored and stored["signed_at"]:
            return  # nothing of a signed session is saved; only its addenda below
        # Proposals come once, when the session is completed (see save_related).
        request.session_completed_now = obj.status == SessionStatus.COMPLETED and (  # type: ignore[attr-defined]
            stored is None or stored["status"] != SessionStatus.COMPLETED
        )
        super().save_model(request, obj, form, change)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial: dict[str, Any] = {"performed_at": timezone.now(), "clinician": request.user.pk}
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

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if not getattr(request, "session_completed_now", False):
            return
        for proposal in services.follow_ups_propose(session=form.instance):
            self.message_user(request, f"Proposed follow-up: {proposal}.", messages.INFO)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is Addendum:
            formset.new_objects = [
                services.addendum_add(
                    session=form.instance,
                    author=signed_in(request.user),
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
            lambda s: services.session_sign(session=s, clinician=signed_in(request.user)),
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
    list_filter = [OverdueFilter, "status", "planned_treatment"]
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


# The buttons of an agenda row (those its status allows), and what is said once done.
AGENDA_MOVES = [
    (FollowUpStatus.SCHEDULED, "Book"),
    (FollowUpStatus.CONFIRMED, "Confirm"),
    (FollowUpStatus.CHECKED_IN, "Check in"),
    (FollowUpStatus.NO_SHOW, "No-show"),
    (FollowUpStatus.CANCELLED, "Cancel"),
]
DONE: dict[str, str] = {
    FollowUpStatus.SCHEDULED: "Booked",
    FollowUpStatus.CONFIRMED: "Confirmed",
    FollowUpStatus.CHECKED_IN: "Checked in",
    FollowUpStatus.NO_SHOW: "Marked as no-show",
    FollowUpStatus.CANCELLED: "Cancelled",
}


class AgendaForm(forms.Form):
    date = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[MinValueValidator(EARLIEST), MaxValueValidator(LATEST)],
    )
    clinician = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True, groups__name=CLINICIAN),
        required=False,
        empty_label="All clinicians",
    )


def _clinicians() -> list[Any]:
    return list(
        get_user_model()
        .objects.filter(is_active=True, groups__name=CLINICIAN)
        .order_by("last_name", "first_name", "id")
    )


def _keeps_a_calendar(user: Any) -> bool:
    """Clinicians hold bookings, so only they have a calendar feed of their own."""
    return clinicians().filter(pk=user.pk).exists()


def _offered(follow_up: FollowUp, to: str, now: datetime.datetime) -> bool:
    """Whether the agenda offers a move: those the status allows, check-in on the day and a
    no-show once the start has passed (the service refuses the others; no button for them)."""
    return to in services.follow_up_moves_offered(follow_up=follow_up, now=now)


@admin.register(FollowUp)
class FollowUpAdmin(ClinicalModelAdmin):
    list_display = ["starts_at", "ends_at", "patient", "kind", "clinician", "status"]
    list_filter = ["status", "kind", ClinicianFilter]
    date_hierarchy = "starts_at"
    search_fields = ["=patient__mrn", "patient__family_name", "patient__given_name"]
    autocomplete_fields = ["patient", "course", "session"]
    list_select_related = ["patient", "clinician"]
    actions = ["book", "confirm", "check_in", "no_show", "cancel"]
    change_list_template = "admin/treatments/followup/change_list.html"

    def get_urls(self) -> list[Any]:
        agenda = self.admin_site.admin_view(self.agenda_view)
        return [path("agenda/", agenda, name="treatments_followup_agenda"), *super().get_urls()]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        # The model field has choices, so its form field is a ChoiceField.
        status = cast("forms.ChoiceField | None", form.base_fields.get("status"))
        if status is None:  # a role that only reads
            return form
        if obj is None:  # a new booking starts at the start
            status.choices = [
                (value, label) for value, label in FollowUpStatus.choices if value in BOOKABLE
            ]
        else:
            # A booking's status moves through the actions (and the agenda's buttons), which know
            # the rules: check-in on the day, no-show after the start, a proposal's slot still
            # free. Disabled rather than read-only: the form keeps the stored status, which the
            # no-overlap constraint's check needs (a read-only field is left out of it, and
            # Django's ExclusionConstraint then fails on its condition: ticket #36222).
            status.disabled = True
        return form

    def save_model(self, request: HttpRequest, obj: FollowUp, form: Any, change: bool) -> None:
        services.follow_up_save(follow_up=obj)

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().changeform_view(request, *args, **kwargs)
        except Clash as error:  # the slot was taken between the form's check and the save
            self.message_user(request, str(error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        """The agenda's free slots link here with ``clinician``, ``starts_at`` and ``ends_at``."""
        initial: dict[str, Any] = super().get_changeform_initial_data(request)
        for name in ("starts_at", "ends_at"):
            if isinstance(initial.get(name), str):
                moment = parse_datetime(initial[name])
                initial[name] = timezone.localtime(moment) if moment else None
        return initial

    def _transition(self, request: HttpRequest, queryset: Any, to: str) -> None:
        self.run_service(
            request,
            queryset,
            lambda f: services.follow_up_transition(follow_up=f, to=to),
            DONE[to],
        )

    @admin.action(description="Book selected proposals", permissions=["change"])
    def book(self, request: HttpRequest, queryset: QuerySet[FollowUp]) -> None:
        self._transition(request, queryset, FollowUpStatus.SCHEDULED)

    @admin.action(description="Confirm selected follow-ups", permissions=["change"])
    def confirm(self, request: HttpRequest, queryset: QuerySet[FollowUp]) -> None:
        self._transition(request, queryset, FollowUpStatus.CONFIRMED)

    @admin.action(description="Check in selected follow-ups", permissions=["change"])
    def check_in(self, request: HttpRequest, queryset: QuerySet[FollowUp]) -> None:
        self._transition(request, queryset, FollowUpStatus.CHECKED_IN)

    @admin.action(description="Mark selected follow-ups as no-show", permissions=["change"])
    def no_show(self, request: HttpRequest, queryset: QuerySet[FollowUp]) -> None:
        self._transition(request, queryset, FollowUpStatus.NO_SHOW)

    @admin.action(description="Cancel selected follow-ups", permissions=["change"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[FollowUp]) -> None:
        self._transition(request, queryset, FollowUpStatus.CANCELLED)

    def agenda_view(self, request: HttpRequest) -> HttpResponse:
        """A day per clinician: bookings with their check-in, no-show and cancel buttons, and
        the free slots between them, each a link to book it."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            return self._agenda_post(request)
        form = AgendaForm(request.GET or None)
        valid = form.is_valid()
        day = (form.cleaned_data["date"] if valid else None) or timezone.localdate()
        chosen = form.cleaned_data["clinician"] if valid else None
        follow_ups = list(selectors.agenda(day=day, clinician_id=chosen.pk if chosen else None))
        clinicians = [chosen] if chosen else _clinicians()
        now = timezone.now()
        hours = selectors.clinic_day(day)
        busy = (
            selectors.booked_times_of(
                clinician_ids=[clinician.pk for clinician in clinicians],
                start=hours[0],
                end=hours[1],
                avoid_proposals=False,
            )
            if hours
            else {}
        )
        columns = []
        for clinician in clinicians:
            booked = [f for f in follow_ups if f.clinician_id == clinician.pk]
            for follow_up in booked:
                follow_up.moves = [  # type: ignore[attr-defined]
                    (to, label) for to, label in AGENDA_MOVES if _offered(follow_up, to, now)
                ]
            slots = selectors.free_slots(
                clinician_id=clinician.pk, day=day, booked=busy.get(clinician.pk, [])
            )
            columns.append({"clinician": clinician, "follow_ups": booked, "free_slots": slots})
        audit.access_record(
            request=request, action="admin.followup.agenda", status=200, records=follow_ups
        )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Agenda for {day:%A %d %B %Y}",
            "opts": self.model._meta,
            "form": form,
            "day": day,
            "previous_day": day - datetime.timedelta(days=1),
            "next_day": day + datetime.timedelta(days=1),
            "chosen": chosen,
            "columns": columns,
            "can_change": self.has_change_permission(request),
            "can_add": self.has_add_permission(request),
            "can_issue_calendar": _keeps_a_calendar(request.user),
        }
        return TemplateResponse(request, "admin/treatments/followup/agenda.html", context)

    def _agenda_post(self, request: HttpRequest) -> HttpResponse:
        if request.POST.get("calendar") == "issue":
            if not _keeps_a_calendar(request.user):
                raise PermissionDenied
            url = request.build_absolute_uri(
                calendar_feed_url(services.calendar_feed_issue(clinician=signed_in(request.user)))
            )
            self.message_user(
                request,
                f"Your calendar address (keep it private; issuing a new one stops this one): {url}",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(request.get_full_path())
        if not self.has_change_permission(request):
            raise PermissionDenied
        to = request.POST.get("to", "")
        follow_up = FollowUp.objects.filter(pk=request.POST.get("follow_up") or 0).first()
        if follow_up is None or to not in dict(AGENDA_MOVES):
            self.message_user(request, "Choose a follow-up and what to do.", messages.ERROR)
        else:
            self._transition(request, [follow_up], to)
        return HttpResponseRedirect(request.get_full_path())


@admin.register(FollowUpRule)
class FollowUpRuleAdmin(ClinicalModelAdmin):
    """What a completed session proposes; the clinic admin keeps these."""

    list_display = [
        "name",
        "kind",
        "treatment",
        "days_after",
        "at_course_interval",
        "while_sessions_remain",
        "minutes",
        "active",
    ]
    list_filter = ["active", "kind"]


class DeliveryInline(ClinicalInline, admin.TabularInline):
    model = ReminderDelivery
    fields = readonly_fields = ("at", "attempt", "channel", "outcome", "reason", "key")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Reminder)
class ReminderAdmin(ClinicalModelAdmin):
    """Whether each reminder went out; written only by the dispatch task."""

    list_display = ["due_at", "follow_up", "hours_before", "status", "attempts"]
    list_filter = ["status", "hours_before"]
    date_hierarchy = "due_at"
    list_select_related = ["follow_up"]
    readonly_fields = [
        "follow_up",
        "hours_before",
        "appointment_at",
        "due_at",
        "next_attempt_at",
        "attempts",
        "status",
    ]
    inlines = [DeliveryInline]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Injectate)
class InjectateAdmin(ClinicalModelAdmin):
    """Find every injectate of a batch; injectates are recorded on their session's page."""

    list_display = ["lot_number", "kind", "product_name", "expiry_date", "session"]
    list_filter = ["kind"]
    search_fields = ["=lot_number", "product_name"]
    list_select_related = ["session"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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
            match = request.resolver_match
            patient_id = match.kwargs.get("object_id") if match else None
            if patient_id:
                kwargs["queryset"] = Condition.objects.filter(patient_id=patient_id)
            else:  # a patient being added has no conditions yet
                kwargs["queryset"] = Condition.objects.none()
            kwargs["form_class"] = LoadedChoiceField  # the patient's conditions, read once
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class PatientRecordAdmin(PatientAdmin):
    """A patient's page with what their treatments add: courses, the scores over time, recent
    sessions and upcoming follow-ups; a change of consent or channel moves their reminders."""

    readonly_fields = [*PatientAdmin.readonly_fields, "score_chart", "recent_sessions"]
    readonly_fields += ["upcoming_follow_ups"]
    fieldsets = [
        *PatientAdmin.fieldsets[:-1],
        ("Outcome scores over time", {"fields": ["score_chart"]}),
        ("Record", {"fields": ["recent_sessions", "upcoming_follow_ups", "archived_at"]}),
    ]
    inlines = [*PatientAdmin.inlines, CourseInline]
    needs = {
        "score_chart": "patients.outcomescore",
        "recent_sessions": "treatments.injectate",
        "upcoming_follow_ups": "treatments.followup",
    }

    def save_model(self, request: HttpRequest, obj: Patient, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change:  # consent or channel may have changed: upcoming reminders follow
            services.patient_reminders_sync(patient=obj)

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


admin.site.unregister(Patient)
admin.site.register(Patient, PatientRecordAdmin)
