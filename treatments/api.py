from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from clinic.api.base import RecordViewSet
from treatments import services
from treatments.filters import CourseFilter, FollowUpFilter, SessionFilter, SideEffectFilter
from treatments.models import FollowUp, InjectionSession, SideEffect, TreatmentCourse
from treatments.selectors import sessions_with_parts
from treatments.serializers import (
    AddendumSerializer,
    CancelSerializer,
    CourseSerializer,
    FollowUpSerializer,
    SessionSerializer,
    SideEffectSerializer,
)


class CourseViewSet(RecordViewSet):
    queryset = TreatmentCourse.objects.all()
    serializer_class = CourseSerializer
    filterset_class = CourseFilter
    ordering_fields = ["start_date", "created_at", "id"]
    ordering = ["-start_date", "-id"]


class SessionViewSet(RecordViewSet):
    """Injection sessions, each with its injectates and sites."""

    serializer_class = SessionSerializer
    filterset_class = SessionFilter
    ordering_fields = ["performed_at", "created_at", "id"]
    ordering = ["-performed_at", "-id"]

    def get_queryset(self) -> QuerySet[InjectionSession]:
        return sessions_with_parts(InjectionSession.objects.all())

    def check_writable(self, instance: InjectionSession) -> None:
        services.ensure_session_editable(instance)

    @extend_schema(request=None, responses=SessionSerializer)
    @action(detail=True, methods=["post"])
    def sign(self, request: Request, pk: str | None = None) -> Response:
        """Sign a completed session (its own clinician). A signed session never changes:
        corrections are addenda."""
        services.session_sign(session=self.get_object(), clinician=request.user)
        return self.respond_with(self.get_object())

    @extend_schema(request=AddendumSerializer, responses={201: AddendumSerializer})
    @action(detail=True, methods=["post"])
    def addenda(self, request: Request, pk: str | None = None) -> Response:
        """Add a correction or later note to a signed session."""
        body = AddendumSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        addendum = services.addendum_add(
            session=self.get_object(), author=request.user, text=body.validated_data["text"]
        )
        return Response(AddendumSerializer(addendum).data, status=201)

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
    queryset = FollowUp.objects.all()
    serializer_class = FollowUpSerializer
    filterset_class = FollowUpFilter
    ordering_fields = ["starts_at", "created_at", "id"]
    ordering = ["starts_at", "id"]

    @extend_schema(request=None, responses=FollowUpSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel a proposed, scheduled or confirmed follow-up."""
        return self.respond_with(services.follow_up_cancel(follow_up=self.get_object()))
