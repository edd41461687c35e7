"""The admin's pages: the schedule per treatment (kept by the clinic admin), the questionnaires'
text and licences, and each invitation with its messages, calls and answers, read-only (the
services and the patient's pages write them)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from questionnaires import services
from questionnaires.models import (
    Answer,
    Invitation,
    InvitationCall,
    InvitationMessage,
    Item,
    ProblemReport,
    Questionnaire,
    Response,
    Scale,
    ScaleScore,
    SchedulePoint,
)
from recordkeeping.admin import ClinicalModelAdmin
from recordkeeping.permissions import CHANGE, VIEW, allowed


class ReadOnlyAdmin(ClinicalModelAdmin):
    """Records written by the clinic's services only."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return allowed(request.user, self.model, VIEW)


@admin.register(SchedulePoint)
class SchedulePointAdmin(ClinicalModelAdmin):
    """When each treatment's courses are asked; a change applies to courses planned after it,
    or to the active ones with the action."""

    list_display = ["treatment", "time_point", "days_after", "window_days", "active"]
    list_filter = ["treatment", "time_point", "active"]
    actions = ["plan_again"]

    @admin.action(
        description="Plan the active courses of these treatments again", permissions=["change"]
    )
    def plan_again(self, request: HttpRequest, queryset: QuerySet[SchedulePoint]) -> None:
        treatments = sorted(set(queryset.values_list("treatment", flat=True)))
        courses = sum(services.schedule_apply(treatment=t) for t in treatments)
        self.message_user(request, f"Planned again: {courses} courses.")


class ItemInline(ReadOnlyInline):
    model = Item
    fields = readonly_fields = ("position", "code", "section", "text")


class ScaleInline(ReadOnlyInline):
    model = Scale
    fields = readonly_fields = (
        "code",
        "name",
        "instrument",
        "rule",
        "reverse",
        "min_answered_percent",
    )


@admin.register(Questionnaire)
class QuestionnaireAdmin(ReadOnlyAdmin):
    """Loaded with ``manage.py questionnaires_load``; read here with their licence."""

    list_display = ["code", "name", "version", "active"]
    readonly_fields = [
        "code",
        "name",
        "title",
        "version",
        "introduction",
        "licence",
        "body_regions",
        "at_baseline",
        "position",
        "active",
    ]
    inlines = [ScaleInline, ItemInline]


class MessageInline(ReadOnlyInline):
    model = InvitationMessage
    fields = readonly_fields = ("number", "attempt", "at", "channel", "outcome", "reason")


class CallInline(ReadOnlyInline):
    model = InvitationCall
    fields = readonly_fields = ("called_at", "called_by", "outcome", "note")

    def get_queryset(self, request: HttpRequest) -> QuerySet[InvitationCall]:
        return super().get_queryset(request).select_related("called_by")


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ["patient", "time_point", "due_at", "status", "messages_sent", "chase_from"]
    list_filter = ["status", "time_point"]
    search_fields = ["patient__mrn", "patient__family_name"]
    list_select_related = ["patient"]
    date_hierarchy = "due_at"
    fields = readonly_fields = (
        "patient",
        "course",
        "time_point",
        "due_at",
        "closes_at",
        "status",
        "messages_sent",
        "sent_at",
        "opened_at",
        "completed_at",
        "chase_from",
        "new_problem",
        "ended_reason",
    )
    inlines = [MessageInline, CallInline]


class AnswerInline(ReadOnlyInline):
    model = Answer
    fields = readonly_fields = ("item", "option", "value", "answered_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Answer]:
        return super().get_queryset(request).select_related("item", "option")


class ScoreInline(ReadOnlyInline):
    model = ScaleScore
    fields = readonly_fields = ("scale", "value", "items_answered", "outcome_score", "note")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ScaleScore]:
        return (
            super()
            .get_queryset(request)
            .select_related("scale__questionnaire", "outcome_score", "response")
        )


@admin.register(Response)
class ResponseAdmin(ReadOnlyAdmin):
    list_display = ["invitation", "questionnaire", "started_at", "completed_at"]
    list_filter = ["questionnaire"]
    list_select_related = ["invitation", "questionnaire"]
    fields = readonly_fields = ("invitation", "questionnaire", "started_at", "completed_at")
    inlines = [ScoreInline, AnswerInline]


@admin.register(ProblemReport)
class ProblemReportAdmin(ReadOnlyAdmin):
    """Patients' answers to "Any new problem?": reviewed by a clinician."""

    list_display = ["patient", "reported_at", "reviewed_at", "reviewed_by"]
    list_filter = [("reviewed_at", admin.EmptyFieldListFilter)]
    search_fields = ["patient__mrn", "patient__family_name"]
    list_select_related = ["patient", "reviewed_by"]
    fields = readonly_fields = (
        "patient",
        "invitation",
        "text",
        "reported_at",
        "reviewed_by",
        "reviewed_at",
    )
    actions = ["mark_reviewed"]

    def has_review_permission(self, request: HttpRequest) -> bool:
        return allowed(request.user, ProblemReport, CHANGE)

    @admin.action(description="Mark the selected problems reviewed", permissions=["review"])
    def mark_reviewed(self, request: HttpRequest, queryset: QuerySet[ProblemReport]) -> None:
        self.run_service(
            request,
            queryset,
            lambda report: services.problem_review(report=report, clinician=request.user),
            "Reviewed",
        )
