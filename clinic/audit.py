"""The audit trail: reads of patient data logged by the application, changes recorded by
database triggers (clinic.history), and every one of those rows linked into one hash chain.

The rows each statement inserts into an audit or history table get one chain entry (written by
a trigger, under a lock, so positions have no gaps) holding their keys and digests (sha256 of
each row's text form): ``hash = sha256(prev_hash | position | table | keys | digests)``.
``verify_audit`` recomputes it all: a removed, altered or unchained row, or a removed chain
entry, breaks it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.http import HttpRequest

from clinic.middleware import request_id_of
from clinic.models import AccessLogEntry, AuditChainEntry

GENESIS = "0" * 64
# Audited tables and their key column. A migration installs the chain trigger on each.
AUDITED_TABLES = {
    "clinic_accesslogentry": "id",
    "patients_patientevent": "pgh_id",
    "patients_conditionevent": "pgh_id",
    "patients_outcomescoreevent": "pgh_id",
    "treatments_treatmentcourseevent": "pgh_id",
    "treatments_injectionsessionevent": "pgh_id",
    "treatments_injectateevent": "pgh_id",
    "treatments_injectionsiteevent": "pgh_id",
    "treatments_sideeffectevent": "pgh_id",
    "treatments_followupevent": "pgh_id",
    "treatments_addendumevent": "pgh_id",
    "treatments_followupruleevent": "pgh_id",
    "patients_instrumentmcidevent": "pgh_id",
    "treatments_reminderdelivery": "id",
}
ROW_DIGEST_SQL = "encode(sha256(convert_to(t::text, 'UTF8')), 'hex')"


def patient_id_of(obj: Any) -> int | None:
    """The patient a record is about."""
    if obj._meta.label_lower == "patients.patient":
        return obj.pk  # type: ignore[no-any-return]
    if hasattr(obj, "patient_id"):
        return obj.patient_id  # type: ignore[no-any-return]
    if hasattr(obj, "session"):
        return obj.session.patient_id  # type: ignore[no-any-return]
    return None


def access_record(
    *,
    request: HttpRequest,
    action: str,
    status: int,
    records: Iterable[Any] = (),
    patient_ids: Iterable[int] = (),
    username: str = "",
    path: str | None = None,
) -> AccessLogEntry:
    """Log one request that read patient data (or was refused, or failed to log in): the
    patients of ``records``, and ``patient_ids`` for data that are not records (reports)."""
    user = getattr(request, "user", None)
    authenticated = user is not None and user.is_authenticated
    found = {pid for pid in map(patient_id_of, records) if pid is not None}
    patient_ids = sorted(found | set(patient_ids))
    return AccessLogEntry.objects.create(
        user=user if authenticated else None,
        username=user.get_username() if authenticated else username[:150],
        ip=request.META.get("REMOTE_ADDR") or None,
        action=action,
        method=request.method or "",
        path=(request.get_full_path() if path is None else path)[:500],
        status=status,
        patient_ids=patient_ids,
        request_id=request_id_of(request),
    )


@dataclass(frozen=True)
class Break:
    position: int | None
    message: str


def chain_hash(entry: AuditChainEntry) -> str:
    keys = ",".join(str(key) for key in entry.row_keys)
    text = (
        f"{entry.prev_hash}|{entry.position}|{entry.table_name}|{keys}|"
        f"{','.join(entry.row_digests)}"
    )
    return hashlib.sha256(text.encode()).hexdigest()


def audit_verify(*, batch_size: int = 1000) -> Iterator[Break]:
    """Walk the chain and every audited table; yield each break found (none when intact)."""
    previous_hash, expected = GENESIS, 1
    while True:
        entries = list(AuditChainEntry.objects.filter(position__gte=expected)[:batch_size])
        if not entries:
            break
        digests = _current_digests(entries)
        for entry in entries:
            if entry.position != expected:
                missing = f"chain entries {expected} to {entry.position - 1} are missing"
                yield Break(expected, missing)
            if entry.prev_hash != previous_hash or entry.hash != chain_hash(entry):
                yield Break(entry.position, f"chain entry {entry.position} was altered")
            for key, digest in zip(entry.row_keys, entry.row_digests, strict=True):
                current = digests.get((entry.table_name, key))
                if current != digest:
                    state = "is missing" if current is None else "was altered"
                    yield Break(
                        entry.position,
                        f"{entry.table_name} row {key} (chain entry {entry.position}) {state}",
                    )
            previous_hash, expected = entry.hash, entry.position + 1
    yield from _unchained_rows()


def _current_digests(entries: list[AuditChainEntry]) -> dict[tuple[str, int], str]:
    keys: dict[str, list[int]] = {}
    for entry in entries:
        keys.setdefault(entry.table_name, []).extend(entry.row_keys)
    found: dict[tuple[str, int], str] = {}
    with connection.cursor() as cursor:
        for table, row_keys in keys.items():
            column = AUDITED_TABLES.get(table)
            if column is None:
                continue
            cursor.execute(
                f"SELECT t.{column}, {ROW_DIGEST_SQL} FROM {table} t "  # noqa: S608 - names from AUDITED_TABLES
                f"WHERE t.{column} = ANY(%s)",
                [row_keys],
            )
            found.update({(table, key): digest for key, digest in cursor.fetchall()})
    return found


def _unchained_rows() -> Iterator[Break]:
    with connection.cursor() as cursor:
        for table, column in AUDITED_TABLES.items():
            cursor.execute(
                f"SELECT t.{column} FROM {table} t WHERE t.{column} NOT IN ("  # noqa: S608
                "SELECT unnest(row_keys) FROM clinic_auditchainentry WHERE table_name = %s"
                ") LIMIT 1",
                [table],
            )
            row = cursor.fetchone()
            if row:
                yield Break(None, f"{table} row {row[0]} is not in the chain")


REVIEW_LIMIT = 500


@dataclass(frozen=True)
class Change:
    at: Any
    who: str
    record: str
    label: str
    fields: str
    request_id: str


def changes_of(events: Any) -> list[Change]:
    """History events as rows a person reads: who changed which record, and which fields."""
    from django.contrib.auth import get_user_model

    events = list(events.order_by("-pgh_created_at")[:REVIEW_LIMIT])
    user_ids = {(event.pgh_context or {}).get("user") for event in events}
    names = dict(
        get_user_model().objects.filter(pk__in=user_ids - {None}).values_list("pk", "username")
    )
    rows = []
    for event in events:
        context = event.pgh_context or {}  # the aggregate Events model carries it as JSON
        rows.append(
            Change(
                at=event.pgh_created_at,
                who=names.get(context.get("user"), ""),
                record=f"{event.pgh_model} {event.pgh_obj_id}",
                label=event.pgh_label,
                fields=", ".join(sorted(event.pgh_diff or {})),
                request_id=context.get("request_id", ""),
            )
        )
    return rows


def patient_history(*, patient: Any) -> dict[str, Any]:
    """Who saw or changed this patient: reads naming them, and changes to their records."""
    from pghistory.models import Events

    sessions = list(patient.sessions.all())
    return {
        "accesses": list(
            AccessLogEntry.objects.filter(patient_ids__contains=[patient.pk])[:REVIEW_LIMIT]
        ),
        "changes": changes_of(Events.objects.references(patient, *sessions)),
        "limit": REVIEW_LIMIT,
    }


def user_activity(*, user: Any) -> dict[str, Any]:
    """What a staff member read and changed."""
    from pghistory.models import Events

    return {
        "accesses": list(AccessLogEntry.objects.filter(user=user)[:REVIEW_LIMIT]),
        "changes": changes_of(Events.objects.filter(pgh_context__user=user.pk)),
        "limit": REVIEW_LIMIT,
    }
