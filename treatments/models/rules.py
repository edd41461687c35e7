"""Rules the database keeps for more than one treatment record: failing a statement as a named
check would, and who may be named as the clinician of a session or a booking."""

from __future__ import annotations

from typing import Any

import pgtrigger

from recordkeeping.permissions import clinicians
from recordkeeping.roles import CLINICIAN


def check_violation(constraint: str, message: str) -> str:
    """PL/pgSQL that fails the statement as a named check constraint would."""
    return (
        f"RAISE EXCEPTION '{message}' USING ERRCODE = 'check_violation', "
        f"CONSTRAINT = '{constraint}';"
    )


NOT_A_CLINICIAN = "Choose an active member of the Clinician group."


def clinician_is_a_clinician(*, table: str) -> pgtrigger.Trigger:
    """A row names as its clinician an active member of the Clinician group, whatever wrote it
    (API, admin, a script). Checked when the row is written with a new clinician: a clinician
    who leaves keeps the records they made."""
    rule = f"{table}_clinician_is_a_clinician"
    return pgtrigger.Trigger(
        name=f"{table.removeprefix('treatments_')}_clinician_is_a_clinician",
        operation=pgtrigger.Insert | pgtrigger.UpdateOf("clinician_id"),
        when=pgtrigger.Before,
        func=f"""
        IF TG_OP = 'UPDATE' AND OLD.clinician_id = NEW.clinician_id THEN
            RETURN NEW;
        END IF;
        IF NOT EXISTS (
            SELECT 1 FROM auth_user u
            JOIN auth_user_groups ug ON ug.user_id = u.id
            JOIN auth_group g ON g.id = ug.group_id
            WHERE u.id = NEW.clinician_id AND u.is_active AND g.name = '{CLINICIAN}'
        ) THEN
            {check_violation(rule, "the clinician must be an active member of the Clinician group")}
        END IF;
        RETURN NEW;
        """,
    )


def clinician_errors(record: Any) -> dict[str, str]:
    """The field error of a record naming someone who may not be its clinician (new records,
    and records whose clinician changes)."""
    if not record.clinician_id:
        return {}
    stored = type(record).objects.filter(pk=record.pk).values_list("clinician_id", flat=True)
    if record.pk and stored.first() == record.clinician_id:
        return {}
    if clinicians().filter(pk=record.clinician_id).exists():
        return {}
    return {"clinician": NOT_A_CLINICIAN}
