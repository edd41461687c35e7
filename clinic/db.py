"""Small database helpers shared by the apps' models."""

from __future__ import annotations

from django.db import models
from django.db.models.expressions import RawSQL


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
