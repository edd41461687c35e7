from __future__ import annotations

from typing import Any

from rest_framework import serializers

from patients import services
from patients.models import Condition, OutcomeScore, Patient
from recordkeeping.api.base import ModelCleanSerializer

RECORD_READ_ONLY = ["id", "created_at", "updated_at"]
CONFIRM_NEW_HELP = (
    "Register the patient although patients on record may be the same person (born the same "
    "day with a similar name, or with the same phone or email); without it such a registration "
    "answers 409 listing them."
)


class PatientSerializer(ModelCleanSerializer):
    """A patient. A new one that may already be on record is refused (409, with the
    candidates) unless ``confirm_new`` is sent."""

    def get_fields(self) -> dict[str, serializers.Field]:
        # Not a field of the record: every role that registers patients may send it.
        return super().get_fields() | {
            "confirm_new": serializers.BooleanField(
                write_only=True, required=False, default=False, help_text=CONFIRM_NEW_HELP
            )
        }

    def create(self, validated_data: dict[str, Any]) -> Patient:
        confirm_new = validated_data.pop("confirm_new", False)
        return services.patient_register(fields=validated_data, confirm_new=confirm_new)

    def update(self, instance: Patient, validated_data: dict[str, Any]) -> Patient:
        validated_data.pop("confirm_new", None)
        return super().update(instance, validated_data)  # type: ignore[return-value]

    class Meta:
        model = Patient
        fields = [
            "id",
            "mrn",
            "given_name",
            "family_name",
            "birth_date",
            "sex",
            "phone",
            "email",
            "reminder_channel",
            "reminder_consent",
            "reminder_consent_on",
            "allergies",
            "local_anaesthetic_allergy",
            "anticoagulant_use",
            "archived_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [*RECORD_READ_ONLY, "mrn", "archived_at"]


class ConditionSerializer(ModelCleanSerializer):
    class Meta:
        model = Condition
        fields = [
            "id",
            "patient",
            "icd10_code",
            "label",
            "body_region",
            "laterality",
            "onset_date",
            "status",
            "created_at",
            "updated_at",
        ]
        read_only_fields = RECORD_READ_ONLY


class OutcomeScoreSerializer(ModelCleanSerializer):
    class Meta:
        model = OutcomeScore
        fields = [
            "id",
            "patient",
            "course",
            "instrument",
            "score",
            "time_point",
            "measured_on",
            "recorded_by",
            "patient_reported",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [*RECORD_READ_ONLY, "recorded_by", "patient_reported"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # The patient's own answers made this score: staff record theirs beside it, at another
        # time point or date, rather than change it.
        if self.instance is not None and self.instance.patient_reported:
            raise serializers.ValidationError(
                {"score": ["This score comes from the patient's answers and cannot be changed."]}
            )
        return super().validate(attrs)
