"""Small database helpers shared by the apps' models, and the connection's timestamp loader."""

from __future__ import annotations

import datetime
import functools
from typing import Any, cast

from django.contrib.postgres.constraints import ExclusionConstraint
from django.db import models
from django.db.models.expressions import RawSQL
from psycopg import abc, adapt, postgres, pq


def choices_constraint(
    *, table: str, field: str, choices: type[models.Choices], blank: bool = False
) -> models.CheckConstraint:
    """A check that ``field`` holds one of ``choices`` (or "" when ``blank``)."""
    values = [*choices.values, ""] if blank else choices.values
    condition = models.Q(**{f"{field}__in": values})
    return models.CheckConstraint(
        condition=condition,
        name=f"{table}_{field}_valid",
        violation_error_message=f"{field.replace('_', ' ').capitalize()} is not a known value.",
    )


def days_from_today(days: int) -> RawSQL:
    """``CURRENT_DATE + days`` evaluated by PostgreSQL, for checks relative to today.

    The server's ``CURRENT_DATE`` is in UTC; checks that compare with it allow one day of slack so
    that a clinic east or west of UTC is never refused a correct date. The forms check the exact
    date in the clinic's time zone.
    """
    return RawSQL("CURRENT_DATE + %s", (days,), output_field=models.DateField())


def years_before_today(years: int) -> RawSQL:
    return RawSQL(
        "CURRENT_DATE - make_interval(years => %s)", (years,), output_field=models.DateField()
    )


# Rules checked by triggers rather than CHECK constraints, and the field each one is about.
TRIGGER_RULES = {
    "treatments_injectate_expiry_not_before_session": (
        "expiry_date",
        "The batch expires before the session date; it must not be given.",
    ),
    "treatments_sideeffect_onset_not_before_session": (
        "onset_date",
        "Onset cannot be before the session.",
    ),
    "treatments_injectionsite_injectate_same_session": (
        "injectate",
        "Choose an injectate of this session.",
    ),
    "treatments_sideeffect_site_same_session": ("site", "Choose a site of this session."),
    "treatments_session_signed_is_final": (
        "non_field_errors",
        "The session is signed and cannot change; add an addendum instead.",
    ),
    "treatments_session_status_moves_forward": (
        "status",
        "A completed or cancelled session keeps its status.",
    ),
    "treatments_injectionsession_clinician_is_a_clinician": (
        "clinician",
        "Choose an active member of the Clinician group.",
    ),
    "treatments_followup_clinician_is_a_clinician": (
        "clinician",
        "Choose an active member of the Clinician group.",
    ),
}


@functools.cache
def database_rules() -> dict[str, tuple[str, str]]:
    """Every named database rule as ``{name: (field, message)}``, for error messages.

    The field is the one the rule is about when it names exactly one; otherwise
    ``non_field_errors``.
    """
    from django.apps import apps

    rules = dict(TRIGGER_RULES)
    for model in apps.get_models():
        for constraint in model._meta.constraints:
            fields = _constraint_fields(constraint)
            field = fields.pop() if len(fields) == 1 else "non_field_errors"
            rules[constraint.name] = (field, str(constraint.violation_error_message))
    return rules


def _constraint_fields(constraint: models.BaseConstraint) -> set[str]:
    if isinstance(constraint, models.UniqueConstraint):
        return set(constraint.fields)
    if isinstance(constraint, ExclusionConstraint):
        return set()  # a conflict between rows, not a field's value
    fields: set[str] = set()
    stack = [getattr(constraint, "condition", None)]
    while stack:
        node = stack.pop()
        if isinstance(node, models.Q):
            stack.extend(node.children)
        elif isinstance(node, tuple):
            fields.add(node[0].split("__")[0])
    return fields


TIMESTAMPTZ = postgres.types["timestamptz"].oid
# psycopg registers a text loader for each of its built-in types, timestamptz among them.
_PSYCOPG_TIMESTAMPTZ = cast(
    "type[adapt.Loader]", postgres.adapters.get_loader(TIMESTAMPTZ, pq.Format.TEXT)
)


class UtcTimestampLoader(adapt.Loader):
    """psycopg's own timestamptz loader (compiled, with psycopg-binary) for a connection whose
    session is in UTC: the same aware datetimes in datetime.timezone.utc as Django's loader,
    which is a Python subclass of psycopg's pure-Python one, about five times slower per value.
    A page of sessions reads hundreds of timestamps."""

    timezone = datetime.UTC  # what Django's cursors compare with the connection's

    def __init__(self, oid: int, context: abc.AdaptContext | None = None) -> None:
        super().__init__(oid, context)
        # An instance attribute: psycopg's row loader calls it directly, no frame in between.
        self.load = _PSYCOPG_TIMESTAMPTZ(oid, context).load  # type: ignore[method-assign]

    def load(self, data: Any) -> datetime.datetime:  # replaced per instance in __init__
        return _PSYCOPG_TIMESTAMPTZ(self.oid, self.connection).load(data)


def use_compiled_timestamp_loader(sender: Any, connection: Any, **kwargs: Any) -> None:
    """On each new connection (signal connection_created) whose datetimes Django wants in UTC
    and whose session is in UTC, as Django sets it up with USE_TZ."""
    if connection.vendor != "postgresql" or connection.timezone is not datetime.UTC:
        return
    if connection.connection.info.parameter_status("TimeZone") == "UTC":
        connection.connection.adapters.register_loader(TIMESTAMPTZ, UtcTimestampLoader)
