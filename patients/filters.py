from __future__ import annotations

import django_filters

from patients.models import Condition, OutcomeScore, Patient


class PatientFilter(django_filters.FilterSet):
    archived = django_filters.BooleanFilter(
        field_name="archived_at", lookup_expr="isnull", exclude=True, label="Archived"
    )
    born_after = django_filters.DateFilter(field_name="birth_date", lookup_expr="gte")
    born_before = django_filters.DateFilter(field_name="birth_date", lookup_expr="lte")

    class Meta:
        model = Patient
        fields = ["mrn", "sex", "reminder_channel", "anticoagulant_use"]


class ConditionFilter(django_filters.FilterSet):
    class Meta:
        model = Condition
        fields = ["patient", "icd10_code", "body_region", "laterality", "status"]


class OutcomeScoreFilter(django_filters.FilterSet):
    measured_after = django_filters.DateFilter(field_name="measured_on", lookup_expr="gte")
    measured_before = django_filters.DateFilter(field_name="measured_on", lookup_expr="lte")

    class Meta:
        model = OutcomeScore
        fields = ["patient", "course", "instrument", "time_point"]
