"""Change history of every clinical and patient record, written by database triggers
(django-pghistory), so bulk updates and raw SQL are recorded too. Event rows are append-only."""

from __future__ import annotations

from typing import Any

import pghistory
import pgtrigger


def track() -> Any:
    """Record every insert, update and delete of the decorated model, with the request's
    context (user, url, request id)."""
    return pghistory.track(
        pghistory.InsertEvent(),
        pghistory.UpdateEvent(),
        pghistory.DeleteEvent(),
        append_only=True,
        # One trigger run per statement, not per row: a bulk load or bulk update of thousands
        # of rows writes its history in one insert.
        level=pgtrigger.Statement,
    )
