from __future__ import annotations

import copy
import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from patients.serializers import RECORD_READ_ONLY, OutcomeScoreSerializer, PatientSerializer
from recordkeeping.api.base import ModelCleanSerializer, RoleFieldsMixin, StrictFieldsMixin
from treatments import services
from treatments.models import (
    BOOKABLE,
    Addendum,
    FollowUp,
    Injectate,
    InjectionSession,
    InjectionSite,
    SideEffect,
    TreatmentCourse,
)
from treatments.selectors import TimelineEvent


class CourseSerializer(ModelCleanSerializer):
    class Meta:
        model = TreatmentCourse
        fields = [
            "id",
            "patient",
            "condition",
            "planned_treatment",
            "planned_sessions",
            "planned_interval_weeks",
            "start_date",
            "status",
            "stop_reason",
            "ended_on",
            "created_at",
            "updated_at",
        ]
        read_only_fields = RECORD_READ_ONLY


class PrefetchedRowsSerializer(serializers.ListSerializer):
    """Nested rows as with_parts() loaded them (a list in ``prefetched_<field>``), else from
    the relation."""

    def get_attribute(self, instance: Any) -> Any:
        rows = getattr(instance, f"prefetched_{self.source}", None)
        return rows if rows is not None else super().get_attribute(instance)


class InjectateSerializer(RoleFieldsMixin, StrictFieldsMixin, serializers.ModelSerializer):
    concentration_factor = serializers.DecimalField(
        max_digits=6, decimal_places=1, read_only=True, allow_null=True
    )
    paw_platelet_band = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Injectate
        exclude = ["session", "created_at", "updated_at"]  # noqa: DJ006 - all of its own fields
        list_serializer_class = PrefetchedRowsSerializer
        read_only_fields = ["id"]
        validators: list[Any] = []  # numbers are checked against the whole payload


class InjectateLineField(serializers.IntegerField):
    """The number of the site's injectate: as loaded with the site (SessionsWithParts), else
    read from the injectate."""

    def get_attribute(self, instance: Any) -> Any:
        line = getattr(instance, "injectate_line", None)
        return line if line is not None else super().get_attribute(instance)


class SiteSerializer(RoleFieldsMixin, StrictFieldsMixin, serializers.ModelSerializer):
    injectate_line = InjectateLineField(
        source="injectate.line",
        min_value=1,
        max_value=20,
        help_text="Number (line) of the injectate given here.",
    )

    class Meta:
        model = InjectionSite
        exclude = ["session", "created_at", "updated_at"]  # noqa: DJ006 - all of its own fields
        list_serializer_class = PrefetchedRowsSerializer
        read_only_fields = ["id", "injectate"]
        validators: list[Any] = []

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        values = super().to_internal_value(data)
        values["injectate_line"] = values.pop("injectate")["line"]
        return values


class AddendumSerializer(RoleFieldsMixin, StrictFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = Addendum
        fields = ["id", "text", "author", "created_at"]
        list_serializer_class = PrefetchedRowsSerializer
        read_only_fields = ["id", "author", "created_at"]


SESSION_FIELDS = [
    "patient",
    "course",
    "clinician",
    "performed_at",
    "status",
    "guidance",
    "consent_obtained",
    "pre_pain_score",
    "notes",
    "cancel_reason",
]


class SessionSerializer(RoleFieldsMixin, StrictFieldsMixin, serializers.ModelSerializer):
    """A session with its injectates and sites; written together, all or nothing."""

    clinician = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.all(),
        default=serializers.CurrentUserDefault(),
        help_text="Who gave the injections; you, when left out.",
    )
    injectates = InjectateSerializer(many=True, required=False)
    sites = SiteSerializer(many=True, required=False)
    addenda = AddendumSerializer(many=True, read_only=True)

    class Meta:
        model = InjectionSession
        fields = [
            "id",
            *SESSION_FIELDS,
            "signed_by",
            "signed_at",
            "injectates",
            "sites",
            "addenda",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [*RECORD_READ_ONLY, "signed_by", "signed_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        session = copy.copy(self.instance) if self.instance else InjectionSession()
        for name in SESSION_FIELDS:
            if name in attrs:
                setattr(session, name, attrs[name])
        errors: dict[str, Any] = {}
        try:
            session.full_clean(exclude=["signed_by", "signed_at"], validate_constraints=False)
        except DjangoValidationError as error:
            errors |= error.message_dict
        injectates = attrs.get("injectates")
        if injectates is not None:
            errors |= self.check_parts(
                "injectates", injectates, lambda data: Injectate(session=session, **data)
            )
        lines = (
            {data["line"] for data in injectates}
            if injectates is not None
            else set(self.instance.injectates.values_list("line", flat=True))
            if self.instance
            else set()
        )
        sites = attrs.get("sites")
        if sites is not None:
            errors |= self.check_parts("sites", sites, lambda data: self.site(session, data, lines))
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    @staticmethod
    def site(session: InjectionSession, data: dict[str, Any], lines: set[int]) -> InjectionSite:
        if data["injectate_line"] not in lines:
            raise DjangoValidationError(
                {"injectate_line": f"There is no injectate no. {data['injectate_line']} here."}
            )
        fields = {k: v for k, v in data.items() if k != "injectate_line"}
        return InjectionSite(session=session, **fields)

    @staticmethod
    def check_parts(name: str, rows: list[dict[str, Any]], build: Any) -> dict[str, Any]:
        """Validate each nested row as its model would; errors keep the row's position."""
        row_errors: list[dict[str, list[str]]] = []
        seen: set[int] = set()
        for data in rows:
            errors: dict[str, list[str]] = {}
            if data["line"] in seen:
                errors["line"] = [f"No. {data['line']} is used twice."]
            seen.add(data["line"])
            try:
                build(data).full_clean(
                    exclude=["session", "injectate"],
                    validate_unique=False,
                    validate_constraints=False,
                )
            except DjangoValidationError as error:
                errors |= error.message_dict
            row_errors.append(errors)
        return {name: row_errors} if any(row_errors) else {}

    def create(self, validated_data: dict[str, Any]) -> InjectionSession:
        injectates = validated_data.pop("injectates", [])
        sites = validated_data.pop("sites", [])
        return services.session_create(fields=validated_data, injectates=injectates, sites=sites)

    def update(
        self, instance: InjectionSession, validated_data: dict[str, Any]
    ) -> InjectionSession:
        injectates = validated_data.pop("injectates", None)
        sites = validated_data.pop("sites", None)
        return services.session_update(
            session=instance,
            by=self.context["request"].user,
            fields=validated_data,
            injectates=injectates,
            sites=sites,
        )


class SideEffectSerializer(ModelCleanSerializer):
    class Meta:
        model = SideEffect
        fields = [
            "id",
            "session",
            "site",
            "kind",
            "description",
            "grade",
            "serious",
            "onset_date",
            "resolved_date",
            "relatedness",
            "action_taken",
            "outcome",
            "reported_by",
            "recorded_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [*RECORD_READ_ONLY, "recorded_by"]


class FollowUpSerializer(ModelCleanSerializer):
    """A booking. Two requests racing for the same slot: one wins, the other gets 409 naming
    the booking that won."""

    patient_name = serializers.CharField(source="patient.__str__", read_only=True)

    def validate_status(self, status: str) -> str:
        if self.instance is None and status not in BOOKABLE:
            raise serializers.ValidationError(
                "A new follow-up is proposed, scheduled or confirmed; its actions move it on."
            )
        if self.instance is not None and status != self.instance.status:
            raise serializers.ValidationError(
                "Change the status with the follow-up's actions: book, confirm, check-in, "
                "complete, no-show, cancel."
            )
        return status

    def create(self, validated_data: dict[str, Any]) -> FollowUp:
        return services.follow_up_book(fields=validated_data)

    def update(self, instance: FollowUp, validated_data: dict[str, Any]) -> FollowUp:
        return services.follow_up_update(follow_up=instance, fields=validated_data)

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "patient",
            "patient_name",
            "course",
            "session",
            "kind",
            "starts_at",
            "ends_at",
            "clinician",
            "status",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = RECORD_READ_ONLY


class CancelSerializer(StrictFieldsMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=1000)


class ReassignSerializer(StrictFieldsMixin, serializers.Serializer):
    clinician = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.all(), help_text="Who performed the session."
    )
    reason = serializers.CharField(max_length=1000, help_text="Why it is reassigned.")


EARLIEST, LATEST = datetime.date(1900, 1, 1), datetime.date(2999, 12, 31)


def within_calendar(value: datetime.date | datetime.datetime) -> None:
    day = value.date() if isinstance(value, datetime.datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise serializers.ValidationError("Choose a date between 1900 and 2999.")


class RescheduleSerializer(StrictFieldsMixin, serializers.Serializer):
    starts_at = serializers.DateTimeField(validators=[within_calendar])
    ends_at = serializers.DateTimeField(
        required=False,
        validators=[within_calendar],
        help_text="Defaults to the same length as before.",
    )
    clinician = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True),
        required=False,
        help_text="Move to another clinician; defaults to the same one.",
    )


class AgendaQuerySerializer(StrictFieldsMixin, serializers.Serializer):
    date = serializers.DateField(
        required=False, validators=[within_calendar], help_text="The day; today when left out."
    )
    clinician = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True), required=False
    )


class FreeSlotsQuerySerializer(AgendaQuerySerializer):
    clinician = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True)
    )
    minutes = serializers.IntegerField(min_value=5, max_value=240, default=30)


class SlotSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


class OverdueQuerySerializer(StrictFieldsMixin, serializers.Serializer):
    on = serializers.DateField(
        required=False, validators=[within_calendar], help_text="Overdue as of this day; today."
    )


class OverdueCourseSerializer(CourseSerializer):
    """A course whose next session is overdue, with when it was due."""

    sessions_done = serializers.IntegerField(read_only=True)
    next_due = serializers.DateField(read_only=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        # Counted from the dates and statuses of sessions, which every role that books reads.
        return super().get_fields() | {
            "sessions_done": serializers.IntegerField(read_only=True),
            "next_due": serializers.DateField(read_only=True),
        }

    class Meta(CourseSerializer.Meta):
        fields = [*CourseSerializer.Meta.fields, "sessions_done", "next_due"]


class CalendarFeedSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="Shown once; keep it private.")


class TimelineEventSerializer(serializers.Serializer):
    """One event; of the four record fields, only the one named by ``kind`` is present."""

    kind = serializers.ChoiceField(choices=["session", "side_effect", "follow_up", "outcome"])
    at = serializers.DateTimeField(
        help_text="When it happened. Side effects (dated) sort at the end of their day, "
        "outcome scores (dated) at its start."
    )
    session = SessionSerializer(required=False, allow_null=True)
    side_effect = SideEffectSerializer(required=False, allow_null=True)
    follow_up = FollowUpSerializer(required=False, allow_null=True)
    outcome = OutcomeScoreSerializer(required=False, allow_null=True)

    def to_representation(self, event: TimelineEvent) -> dict[str, Any]:
        return {
            "kind": event.kind,
            "at": self.fields["at"].to_representation(event.at),
            event.kind: self.fields[event.kind].to_representation(event.record),
        }


class TimelineSerializer(serializers.Serializer):
    patient = PatientSerializer()
    events = TimelineEventSerializer(many=True)
