from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django_filters.fields import IsoDateTimeField

from recordkeeping.choices import BodyRegion
from treatments.models import (
    FollowUp,
    Injectate,
    InjectionSession,
    InjectionSite,
    SideEffect,
    TreatmentCourse,
    TreatmentKind,
)
from treatments.selectors import TREATMENT_INJECTATES, sessions_given


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, as UTC: PostgreSQL takes offsets only up to 15:59, a client may
    write any."""

    def to_python(self, value: Any) -> datetime.datetime | None:
        moment = super().to_python(value)
        if moment is None or timezone.is_naive(moment):
            return moment
        try:
            return moment.astimezone(datetime.UTC)
        except OverflowError as error:
            raise ValidationError("This date and time is out of range.", code="invalid") from error


class MomentFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class CourseFilter(django_filters.FilterSet):
    started_after = django_filters.DateFilter(field_name="start_date", lookup_expr="gte")
    started_before = django_filters.DateFilter(field_name="start_date", lookup_expr="lte")

    class Meta:
        model = TreatmentCourse
        fields = ["patient", "condition", "status", "planned_treatment"]


class SessionFilter(django_filters.FilterSet):
    performed_after = MomentFilter(field_name="performed_at", lookup_expr="gte")
    performed_before = MomentFilter(field_name="performed_at", lookup_expr="lt")
    treatment = django_filters.ChoiceFilter(
        choices=[(k.value, k.label) for k in TreatmentKind if k in TREATMENT_INJECTATES],
        method="filter_treatment",
        label="Injectates given (one kind, or a combination)",
    )
    body_region = django_filters.ChoiceFilter(
        choices=BodyRegion.choices, method="filter_body_region"
    )
    lot_number = django_filters.CharFilter(method="filter_lot_number")
    # What the method filters read (for the role check of clinic.api.base.hidden_parameters).
    reads = {
        "treatment": ("injectates__kind",),
        "body_region": ("sites__body_region",),
        "lot_number": ("injectates__lot_number",),
    }

    class Meta:
        model = InjectionSession
        fields = ["patient", "course", "clinician", "status", "guidance"]

    def filter_treatment(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return sessions_given(queryset, treatment=value)

    def filter_body_region(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            Exists(InjectionSite.objects.filter(session=OuterRef("pk"), body_region=value))
        )

    def filter_lot_number(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            Exists(Injectate.objects.filter(session=OuterRef("pk"), lot_number=value))
        )


class SideEffectFilter(django_filters.FilterSet):
    patient = django_filters.NumberFilter(field_name="session__patient")
    grade_min = django_filters.NumberFilter(field_name="grade", lookup_expr="gte")
    onset_after = django_filters.DateFilter(field_name="onset_date", lookup_expr="gte")
    onset_before = django_filters.DateFilter(field_name="onset_date", lookup_expr="lte")

    class Meta:
        model = SideEffect
        fields = ["session", "kind", "grade", "serious", "relatedness", "outcome"]


class FollowUpFilter(django_filters.FilterSet):
    starts_after = MomentFilter(field_name="starts_at", lookup_expr="gte")
    starts_before = MomentFilter(field_name="starts_at", lookup_expr="lt")

    class Meta:
        model = FollowUp
        fields = ["patient", "course", "session", "clinician", "kind", "status"]
