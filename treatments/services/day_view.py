"""What each person at the desk chose to see on the day's grid."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError

from recordkeeping.permissions import clinicians
from treatments.models import DayViewChoice

MAX_COLUMNS = 12  # clinicians side by side on one screen


def day_view_choose(*, user: Any, clinician_ids: Sequence[int]) -> list[int]:
    """Keep the clinicians ``user`` sees on the grid (active clinicians, at most
    ``MAX_COLUMNS``); an empty choice goes back to those working that day."""
    ids = list(dict.fromkeys(clinician_ids))
    if len(ids) > MAX_COLUMNS:
        raise ValidationError({"clinicians": f"Choose at most {MAX_COLUMNS} clinicians."})
    known = set(clinicians().filter(pk__in=ids).values_list("pk", flat=True))
    if set(ids) - known:
        raise ValidationError({"clinicians": "Choose active clinicians only."})
    DayViewChoice.objects.update_or_create(user=user, defaults={"clinician_ids": ids})
    return ids
