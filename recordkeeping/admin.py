"""Admin pieces shared by the apps: the role matrix decides who sees and changes what, and
clinical records are never deleted from the admin."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, Prefetch
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from knox.models import AuthToken
from pghistory.admin import EventsAdmin

from recordkeeping import audit, staff
from recordkeeping.errors import Clash, RecordLocked
from recordkeeping.models import AccessLogEntry
from recordkeeping.permissions import (
    ADD,
    CHANGE,
    VIEW,
    allowed,
    clinicians,
    grants,
    path_readable,
    readable_fields,
)
from recordkeeping.roles import CLINIC_ADMIN

admin.site.site_header = "Regenerative clinic records"
admin.site.site_title = "Clinic records"
admin.site.index_title = "Patients, sessions and follow-ups"

RecordT = TypeVar("RecordT", bound=Model)


def can_review_audit(user: Any) -> bool:
    """Clinic admins (and superusers) review the audit trail."""
    return bool(
        user.is_active
        and user.is_staff
        and (user.is_superuser or user.groups.filter(name=CLINIC_ADMIN).exists())
    )


class RoleMixin:
    """Permissions and visible fields from clinic.permissions, for model admins and inlines.

    ``needs`` names, for a column, filter or read-only display that reveals another model's
    data, the model whose view permission it needs.
    """

    model: type[Model]
    needs: dict[str, str] = {}

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return allowed(request.user, self.model, VIEW)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return allowed(request.user, self.model, ADD)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return allowed(request.user, self.model, CHANGE)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # clinical records are archived or cancelled, never deleted

    def visible(self, request: HttpRequest, name: Any) -> bool:
        if not isinstance(name, str):
            return True  # a filter class: checked through `needs` by its parameter name
        if name in self.needs:
            from django.apps import apps

            return allowed(request.user, apps.get_model(self.needs[name]), VIEW)
        readable = readable_fields(request.user, self.model)
        model_fields = {f.name for f in self.model._meta.get_fields()}
        return readable is None or name not in model_fields or name in readable

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        fieldsets = []
        for title, options in super().get_fieldsets(request, obj):  # type: ignore[misc]
            lines = []
            for line in options["fields"]:
                if isinstance(line, list | tuple):
                    kept = tuple(name for name in line if self.visible(request, name))
                    if kept:
                        lines.append(kept)
                elif self.visible(request, line):
                    lines.append(line)
            if lines:
                fieldsets.append((title, {**options, "fields": lines}))
        return fieldsets


class NoDeleteMixin:
    """Clinical records are archived or cancelled, never deleted."""

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ClinicianChoiceField(forms.ModelChoiceField):
    """Clinicians by name, as colleagues know them."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.get_full_name() or obj.get_username())


class ClinicalModelAdmin(RoleMixin, admin.ModelAdmin):
    list_per_page = 50
    show_full_result_count = False  # an exact count of a large table is slow and rarely needed

    def has_module_permission(self, request: HttpRequest) -> bool:
        return grants(request.user, self.model) is not None

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        return [c for c in super().get_list_display(request) if self.visible(request, c)]

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        # A filter class names its parameter; a (field, filter) pair has no name of its own.
        return [
            f
            for f in super().get_list_filter(request)
            if self.visible(request, f if isinstance(f, str) else getattr(f, "parameter_name", ""))
        ]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "clinician":  # who performs a session or holds a booking
            kwargs["queryset"] = clinicians().order_by("last_name", "first_name", "pk")
            kwargs["form_class"] = ClinicianChoiceField
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        # A search over a field the role cannot read tells its value by what it finds.
        return [
            name
            for name in super().get_search_fields(request)
            if path_readable(request.user, self.model, name.lstrip("^=@$"))
        ]

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        """The admin takes any lookup on a model's own fields from the change list's address
        (``?allergies__icontains=...``); one on a field the role cannot read is refused (400),
        as the API refuses the filter."""
        if request is None or not path_readable(request.user, self.model, lookup):
            return False
        return bool(super().lookup_allowed(lookup, value, request))

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            audit.access_record(
                request=request,
                action=f"admin.{self.model._meta.model_name}.list",
                status=response.status_code,
                records=changelist.result_list,
            )
        return response

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        response = super().change_view(request, object_id, form_url, extra_context)
        record = getattr(response, "context_data", {}).get("original")
        if request.method == "GET" and record is not None:
            audit.access_record(
                request=request,
                action=f"admin.{self.model._meta.model_name}.view",
                status=response.status_code,
                records=[record],
            )
        return response

    def run_service(
        self,
        request: HttpRequest,
        objects: Iterable[RecordT],
        service: Callable[[RecordT], Any],
        done: str,
    ) -> None:
        """Apply ``service`` to each object, reporting refusals per object instead of failing."""
        count = 0
        for obj in objects:
            try:
                service(obj)
            except ValidationError as error:
                self.message_user(request, f"{obj}: {' '.join(error.messages)}", messages.ERROR)
            except (RecordLocked, Clash, PermissionDenied) as error:
                self.message_user(request, f"{obj}: {error}", messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, f"{done}: {count}.", messages.SUCCESS)


class LoadedChoiceField(forms.ModelChoiceField):
    """A choice among rows read once for all the forms that share the field: Django's field
    reads the chosen row once per form, an N+1 on a page of many rows. The rows are kept, so
    share one only within a request (fields the admin makes per request, or per formset)."""

    def __init__(self, *args: Any, loaded: dict[str, Model] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.loaded = loaded if loaded is not None else {}  # the forms' copies share it

    def to_python(self, value: Any) -> Model | None:
        if value in self.empty_values:
            return None
        if not self.loaded and self.queryset is not None:
            self.loaded.update((str(row.pk), row) for row in self.queryset)
        row = self.loaded.get(str(getattr(value, "pk", value)))
        if row is None:
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return row


class LoadedRowsFormSet(BaseInlineFormSet):
    """An inline formset that finds each posted row's id among the rows it read (one query),
    where Django's formset looks each one up on its own. An id that is not one of this record's
    rows is refused."""

    def add_fields(self, form: Any, index: int | None) -> None:
        super().add_fields(form, index)
        # inlineformset_factory always sets the formset's model.
        name = cast("type[Model]", self.model)._meta.pk.name
        field = form.fields.get(name)
        if type(field) is forms.ModelChoiceField:  # not the parent's key (InlineForeignKeyField)
            form.fields[name] = LoadedChoiceField(
                queryset=self.get_queryset(),
                loaded=self.loaded_rows,
                required=False,
                initial=field.initial,
                widget=field.widget,
            )

    @cached_property
    def loaded_rows(self) -> dict[str, Model]:
        return {str(row.pk): row for row in self.get_queryset()}


class ClinicalInline(RoleMixin):
    """An inline whose model the role matrix governs."""

    formset: type[BaseInlineFormSet[Any, Any, Any]] = LoadedRowsFormSet


class PatientAccessFilter(admin.SimpleListFilter):
    """``?patient=<id>``: reads that named this patient (reached from the patient's history)."""

    title = "patient"
    parameter_name = "patient"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return []

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        value = self.value()
        return (
            queryset.filter(patient_ids__contains=[int(value)])
            if value and value.isdigit()
            else queryset
        )


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(admin.ModelAdmin):
    """The access log, read-only, for clinic admins: each entry's patients by MRN and name,
    linked to their page, for a viewer who may see patients (their numbers otherwise)."""

    list_display = ["at", "username", "action", "status", "ip", "patients", "request_id"]
    list_filter = ["action", "status", PatientAccessFilter]
    search_fields = ["username", "path", "request_id"]
    date_hierarchy = "at"
    list_per_page = 100
    show_full_result_count = False

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        """The page's patients in one query, set on each entry for the ``patients`` column."""
        changelist = super().get_changelist_instance(request)
        patient_model = apps.get_model("patients", "Patient")
        ids = {pk for entry in changelist.result_list for pk in entry.patient_ids}
        found = {}
        if ids and allowed(request.user, patient_model, VIEW):
            found = patient_model.objects.only("mrn", "given_name", "family_name").in_bulk(ids)
        for entry in changelist.result_list:
            entry.patients_shown = [(pk, found.get(pk)) for pk in entry.patient_ids]
        return changelist

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        named = {
            pk
            for entry in (changelist.result_list if changelist else [])
            for pk, patient in entry.patients_shown
            if patient
        }
        if named:  # the page tells who these patients are: a read of patient data
            audit.access_record(
                request=request,
                action="admin.accesslogentry.list",
                status=response.status_code,
                patient_ids=named,
            )
        return response

    @admin.display(description="patients")
    def patients(self, entry: AccessLogEntry) -> str:
        links = [
            format_html(
                '<a href="{}">{} {} {}</a>',
                reverse("admin:patients_patient_change", args=[pk]),
                patient.mrn,
                patient.given_name,
                patient.family_name,
            )
            if patient
            else str(pk)
            for pk, patient in getattr(entry, "patients_shown", [])
        ]
        return format_html_join(", ", "{}", ((link,) for link in links)) or "-"

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_review_audit(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_review_audit(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StaffGroupAdmin(GroupAdmin):
    """The staff groups; a clinic admin reads each group's permissions, named by their model."""

    def get_queryset(self, request: HttpRequest) -> Any:
        permissions = Permission.objects.select_related("content_type")
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("permissions", queryset=permissions))
        )


admin.site.unregister(Group)
admin.site.register(Group, StaffGroupAdmin)

# pghistory's list of every event cannot count its filters' choices (its change list does not
# take the arguments Django 5 passes for counts: "Show counts" answered 500), so it offers none.
EventsAdmin.show_facets = admin.ShowFacets.NEVER


class StaffAdmin(UserAdmin):
    """Staff accounts; the History button shows what the person read and changed. No one gives
    rights they do not hold (clinic.staff)."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fixed = staff.fixed_fields(manager=request.user, account=obj)
        return [*super().get_readonly_fields(request, obj), *fixed]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and not staff.may_manage(manager=request.user, account=obj):
            return False
        return bool(super().has_change_permission(request, obj))

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        manager = request.user

        class StaffForm(form):  # type: ignore[valid-type,misc]
            def clean(self) -> dict[str, Any]:
                cleaned: dict[str, Any] = super().clean()
                account = self.instance  # as stored: the form's values are applied after clean
                if account.pk is None:
                    return cleaned
                groups = cleaned.get("groups")
                refusals = staff.grant_refusals(
                    manager=manager,
                    account=account,
                    is_active=cleaned.get("is_active", account.is_active),
                    is_staff=cleaned.get("is_staff", account.is_staff),
                    groups=(
                        [group.name for group in groups]
                        if groups is not None
                        else account.groups.values_list("name", flat=True)
                    ),
                )
                for field, message in refusals.items():
                    self.add_error(field if field in self.fields else None, message)
                return cleaned

        return StaffForm

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> Any:
        account = self.get_object(request, unquote(id))
        if account is not None and not staff.may_set_password(
            manager=request.user, account=account
        ):
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> Any:
        user = self.get_object(request, object_id)
        if user is None or not can_review_audit(request.user):
            raise PermissionDenied
        return TemplateResponse(
            request,
            "admin/audit_history.html",
            {
                **self.admin_site.each_context(request),
                **audit.user_activity(user=user),
                "title": f"Activity of {user.get_username()}",
            },
        )


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), StaffAdmin)
# An API token is made by logging in, as oneself; knox's admin would make one for anyone, and
# lists only digests. A user's tokens end when the account is deactivated or its password set.
admin.site.unregister(AuthToken)
