"""django-filter's backend, refusing filter values of the wrong type instead of ignoring them."""

from __future__ import annotations

import re
from typing import Any

import django_filters
from django.db import models
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import get_model_field
from rest_framework import exceptions
from rest_framework.request import Request

WHOLE_NUMBER = re.compile(r"-?[0-9]+")
NOT_A_BOOLEAN = "Use true or false."
NOT_A_WHOLE_NUMBER = "A whole number is required."


def counts_whole_numbers(model: type[models.Model], path: str) -> bool:
    field = get_model_field(model, path)
    if field is not None and field.is_relation:
        field = field.target_field
    return isinstance(field, models.IntegerField)


class StrictFilterBackend(DjangoFilterBackend):
    """A boolean filter reads only ``true`` and ``false`` (django-filter takes anything else,
    ``?archived=maybe``, for not given), and a number filter on a whole-number field only whole
    numbers (it would take ``?grade=1.5``): anything else is a 400 naming the parameter, as the
    schema's types promise. An empty value is still not given."""

    def get_filterset(self, request: Request, queryset: QuerySet, view: Any) -> Any:
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None:
            return None
        errors: dict[str, list[str]] = {}
        for name, declared in filterset.filters.items():
            value = request.query_params.get(name, "")
            if value == "":
                continue
            if isinstance(declared, django_filters.BooleanFilter):
                if value not in ("true", "false"):
                    errors[name] = [NOT_A_BOOLEAN]
            elif isinstance(declared, django_filters.NumberFilter):
                whole = counts_whole_numbers(queryset.model, declared.field_name)
                if whole and not WHOLE_NUMBER.fullmatch(value):
                    errors[name] = [NOT_A_WHOLE_NUMBER]
        if errors:
            raise exceptions.ValidationError(errors)
        return filterset
