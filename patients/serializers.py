from __future__ import annotations

from patients.models import Condition, OutcomeScore, Patient
from recordkeeping.api.base import ModelCleanSerializer

RECORD_READ_ONLY = ["id", "created_at", "updated_at"]


class PatientSerializer(ModelCleanSerializer):
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
            "created_at",
            "updated_at",
        ]
        read_only_fields = [*RECORD_READ_ONLY, "recorded_by"]
