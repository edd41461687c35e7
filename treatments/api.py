from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

import patients.api
from recordkeeping.api.base import RecordViewSet
from recordkeeping.api.pagination import ClinicCursorPagination
from recordkeeping.permissions import REASSIGN, VIEW, allowed
from recordkeeping.staff import signed_in
from treatments import selectors, services
from treatments.filters import CourseFilter, FollowUpFilter, SessionFilter, SideEffectFilter
from treatments.models import (
    FollowUp,
    FollowUpStatus,
    InjectionSession,
    SideEffect,
    TreatmentCourse,
)
from treatments.serializers import (
    AddendumSerializer,
    AgendaQuerySerializer,
    CalendarFeedSerializer,
    CancelSerializer,
    CourseSerializer,
    FollowUpSerializer,
    FreeSlotsQuerySerializer,
    OverdueCourseSerializer,
    OverdueQuerySerializer,
    ReassignSerializer,
    RescheduleSerializer,
    SessionSerializer,
    SideEffectSerializer,
    SlotSerializer,
    TimelineSerializer,
)
from treatments.views import calendar_feed_url


class PatientViewSet(patients.api.PatientViewSet):
    """Patients, with what their treatments add: the timeline of their record, and reminders
    that follow a change of consent or channel."""

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        # Consent or channel may have changed: upcoming reminders follow.
        services.patient_reminders_sync(patient=serializer.save())

    @extend_schema(responses=TimelineSerializer)
    @action(
        detail=True,
        methods=["get"],
        filter_backends=[],
        pagination_class=None,
        permission_action=VIEW,
    )
    def timeline(self, request: Request, pk: str | None = None) -> Response:
        """Sessions (with injectates and sites), side effects, follow-ups and outcome scores,
        oldest first."""
        patient = self.get_object()
        self.read_records = [patient]
        events = [
            event
            for event in selectors.patient_timeline(patient=patient)
            if allowed(request.user, type(event.record), VIEW)
        ]
        body = TimelineSerializer(
            {"patient": patient, "events": events}, context=self.get_serializer_context()
        )
        return Response(body.data)


class CourseViewSet(RecordViewSet):
    queryset = TreatmentCourse.objects.all()
    serializer_class = CourseSerializer
    filterset_class = CourseFilter
    ordering_fields = ["start_date", "created_at", "id"]
    ordering = ["-start_date", "-id"]

    @extend_schema(
        parameters=[OverdueQuerySerializer], responses=OverdueCourseSerializer(many=True)
    )
    @action(detail=False, methods=["get"], permission_action=VIEW, filter_backends=[])
    def overdue(self, request: Request) -> Response:
        """Active courses whose next session is overdue and not booked, most overdue first."""
        paginator = cast(ClinicCursorPagination, self.paginator)  # the API's own (settings)
        query = OverdueQuerySerializer(data=paginator.other_parameters(request))
        query.is_valid(raise_exception=True)
        on = query.validated_data.get("on") or timezone.localdate()
        courses = selectors.courses_overdue(on=on)
        page = self.paginate_queryset(courses)
        return self.get_paginated_response(
            OverdueCourseSerializer(page, many=True, context=self.get_serializer_context()).data
        )


class SessionViewSet(RecordViewSet):
    """Injection sessions, each with its injectates and sites."""

    serializer_class = SessionSerializer
    filterset_class = SessionFilter
    ordering_fields = ["performed_at", "created_at", "id"]
    ordering = ["-performed_at", "-id"]

    def get_queryset(self) -> QuerySet[InjectionSession]:
        return InjectionSession.objects.with_parts()

    def check_writable(self, instance: InjectionSession) -> None:
        services.ensure_session_editable(instance)

    @extend_schema(request=None, responses=SessionSerializer)
    @action(detail=True, methods=["post"])
    def sign(self, request: Request, pk: str | None = None) -> Response:
        """Sign a completed session (its own clinician). A signed session never changes:
        corrections are addenda."""
        services.session_sign(session=self.get_object(), clinician=signed_in(request.user))
        return self.respond_with(self.get_object())

    @extend_schema(request=AddendumSerializer, responses={201: AddendumSerializer})
    @action(detail=True, methods=["post"])
    def addenda(self, request: Request, pk: str | None = None) -> Response:
        """Add a correction or later note to a signed session."""
        body = AddendumSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        addendum = services.addendum_add(
            session=self.get_object(),
            author=signed_in(request.user),
            text=body.validated_data["text"],
        )
        return Response(AddendumSerializer(addendum).data, status=201)

    @extend_schema(request=ReassignSerializer, responses=SessionSerializer)
    @action(detail=True, methods=["post"], permission_action=REASSIGN)
    def reassign(self, request: Request, pk: str | None = None) -> Response:
        """Record that another clinician performed this unsigned session (clinic admins), with
        the reason; the change history keeps who did it and why."""
        body = ReassignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.session_reassign(session=self.get_object(), **body.validated_data)
        return self.respond_with(self.get_object())

    @extend_schema(request=CancelSerializer, responses=SessionSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel a planned session, with the reason. Sessions are never deleted."""
        body = CancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.session_cancel(session=self.get_object(), reason=body.validated_data["reason"])
        return self.respond_with(self.get_object())


class SideEffectViewSet(RecordViewSet):
    queryset = SideEffect.objects.select_related("session")
    author_field = "recorded_by"
    serializer_class = SideEffectSerializer
    filterset_class = SideEffectFilter
    ordering_fields = ["onset_date", "grade", "created_at", "id"]
    ordering = ["-onset_date", "-id"]

    def check_writable(self, instance: SideEffect) -> None:
        services.ensure_side_effect_editable(instance)


class FollowUpViewSet(RecordViewSet):
    """Follow-up bookings: the day's agenda, free slots, and moving a booking through its day
    (book a proposal, confirm, check in, complete, no-show, cancel)."""

    queryset = FollowUp.objects.select_related("patient")
    serializer_class = FollowUpSerializer
    filterset_class = FollowUpFilter
    ordering_fields = ["starts_at", "created_at", "id"]
    ordering = ["starts_at", "id"]

    @extend_schema(parameters=[AgendaQuerySerializer], responses=FollowUpSerializer(many=True))
    @action(
        detail=False,
        methods=["get"],
        permission_action=VIEW,
        filter_backends=[],
        pagination_class=None,  # the whole day
    )
    def agenda(self, request: Request) -> Response:
        """A day's follow-ups (today unless ``date`` is given), by clinician and time; for one
        clinician with ``clinician``. Cancelled bookings are left out."""
        query = _query(AgendaQuerySerializer, request)
        follow_ups = list(
            selectors.agenda(
                day=query.get("date") or timezone.localdate(),
                clinician_id=query["clinician"].pk if "clinician" in query else None,
            )
        )
        self.read_records = follow_ups
        return Response(self.get_serializer(follow_ups, many=True).data)

    @extend_schema(parameters=[FreeSlotsQuerySerializer], responses=SlotSerializer(many=True))
    @action(
        detail=False,
        methods=["get"],
        url_path="free-slots",
        permission_action=VIEW,
        filter_backends=[],
        pagination_class=None,
    )
    def free_slots(self, request: Request) -> Response:
        """A clinician's free times of ``minutes`` (30 by default) on a day, within clinic
        hours and not in the past."""
        query = _query(FreeSlotsQuerySerializer, request)
        slots = selectors.free_slots(
            clinician_id=query["clinician"].pk,
            day=query.get("date") or timezone.localdate(),
            minutes=query["minutes"],
        )
        return Response(SlotSerializer(slots, many=True).data)

    @extend_schema(request=RescheduleSerializer, responses=FollowUpSerializer)
    @action(detail=True, methods=["post"])
    def reschedule(self, request: Request, pk: str | None = None) -> Response:
        """Move the follow-up (same length unless ``ends_at`` is given); its reminders follow."""
        body = RescheduleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        clinician = body.validated_data.get("clinician")
        follow_up = services.follow_up_reschedule(
            follow_up=self.get_object(),
            starts_at=body.validated_data["starts_at"],
            ends_at=body.validated_data.get("ends_at"),
            clinician_id=clinician.pk if clinician else None,
        )
        return self.respond_with(follow_up)

    def _move(self, to: str) -> Response:
        follow_up = services.follow_up_transition(follow_up=self.get_object(), to=to)
        return self.respond_with(follow_up)

    @extend_schema(request=None, responses=FollowUpSerializer)
    @action(detail=True, methods=["post"])
    def book(self, request: Request, pk: str | None = None) -> Response:
        """Book a proposed follow-up at its proposed time (move it with reschedule instead)."""
        return self._move(FollowUpStatus.SCHEDULED)

    @extend_schema(request=None, responses=FollowUpSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        """The patient confirmed they will come."""
        return self._move(FollowUpStatus.CONFIRMED)

    @extend_schema(request=None, responses=FollowUpSerializer)
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request: Request, pk: str | None = None) -> Response:
        """The patient arrived (on the day of the appointment)."""
        return self._move(FollowUpStatus.CHECKED_IN)

    @extend_schema(request=None, responses=FollowUpSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        return self._move(FollowUpStatus.COMPLETED)

    @extend_schema(request=None, responses=FollowUpSerializer)
    @action(detail=True, methods=["post"], url_path="no-show")
    def no_show(self, request: Request, pk: str | None = None) -> Response:
        """The patient did not come (after the start time)."""
        return self._move(FollowUpStatus.NO_SHOW)

    @extend_schema(request=None, responses=FollowUpSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel a proposed, scheduled or confirmed follow-up; its reminders are not sent."""
        return self._move(FollowUpStatus.CANCELLED)


def _query(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    query = serializer_class(data=request.query_params.dict())
    query.is_valid(raise_exception=True)
    return dict(query.validated_data)


class CalendarFeedView(APIView):
    """Issue a new secret address for the requesting clinician's calendar feed (iCalendar, their
    upcoming bookings without clinical detail). The previous address stops working."""

    permission_classes = [IsAuthenticated]  # and the service's check: clinicians only

    @extend_schema(request=None, responses={201: CalendarFeedSerializer})
    def post(self, request: Request) -> Response:
        secret = services.calendar_feed_issue(clinician=signed_in(request.user))
        url = request.build_absolute_uri(calendar_feed_url(secret))
        return Response(CalendarFeedSerializer({"url": url}).data, status=201)
