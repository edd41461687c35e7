"""Admin pieces shared by the apps: the role matrix decides who sees and changes what, and
clinical records are never deleted from the admin."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model
from django.http import HttpRequest
from django.template.response import TemplateResponse

from clinic import audit
from clinic.errors import Clash, RecordLocked
from clinic.models import AccessLogEntry
from clinic.permissions import ADD, CHANGE, VIEW, allowed, grants, readable_fields
from clinic.roles import CLINIC_ADMIN

admin.site.site_header = "Regenerative clinic records"
admin.site.site_title = "Clinic records"
admin.site.index_title = "Patients, sessions and follow-ups"


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


class ClinicalModelAdmin(RoleMixin, admin.ModelAdmin):
    list_per_page = 50
    show_full_result_count = False  # an exact count of a large table is slow and rarely needed

    def has_module_permission(self, request: HttpRequest) -> bool:
        return grants(request.user, self.model) is not None

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        return [c for c in super().get_list_display(request) if self.visible(request, c)]

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        return [
            f
            for f in super().get_list_filter(request)
            if self.visible(request, f if isinstance(f, str) else f.parameter_name)
        ]

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
        objects: Iterable[Model],
        service: Callable[[Model], Any],
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


class ClinicalInline(RoleMixin):
    """An inline whose model the role matrix governs."""


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
    """The access log, read-only, for clinic admins."""

    list_display = ["at", "username", "action", "status", "ip", "patient_ids", "request_id"]
    list_filter = ["action", "status", PatientAccessFilter]
    search_fields = ["username", "path", "request_id"]
    date_hierarchy = "at"
    list_per_page = 100
    show_full_result_count = False

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


class StaffAdmin(UserAdmin):
    """Staff accounts; the History button shows what the person read and changed."""

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
