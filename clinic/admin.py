"""Admin pieces shared by the apps: clinical records are never deleted from the admin."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model
from django.http import HttpRequest

from clinic.errors import RecordLocked

admin.site.site_header = "Regenerative clinic records"
admin.site.site_title = "Clinic records"
admin.site.index_title = "Patients, sessions and follow-ups"


class NoDeleteMixin:
    """Clinical records are archived or cancelled, never deleted."""

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ClinicalModelAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_per_page = 50
    show_full_result_count = False  # an exact count of a large table is slow and rarely needed

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
            except (RecordLocked, PermissionDenied) as error:
                self.message_user(request, f"{obj}: {error}", messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, f"{done}: {count}.", messages.SUCCESS)
