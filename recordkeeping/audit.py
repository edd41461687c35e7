"""The audit trail: reads of patient data logged by the application, changes recorded by
database triggers (clinic.history), and every one of those rows linked into one hash chain.

The rows each statement inserts into an audit or history table get one chain entry (written by
a trigger, under a lock, so positions have no gaps) holding their keys and digests (sha256 of
each row's text form): ``hash = sha256(prev_hash | position | table | keys | digests)``.
``verify_audit`` recomputes it all: a removed, altered or unchained row, or a removed chain
entry, breaks it.

The chain alone cannot show that its newest entries were removed together with their rows:
what is left is still a valid chain. So its head (position and hash) is published regularly to
somewhere the database's owner cannot rewrite (``audit_anchor_publish``), and
``verify_audit --anchor`` checks the chain still holds every published head.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Max, Q
from django.http import HttpRequest
from django.utils import timezone

from recordkeeping.middleware import request_id_of
from recordkeeping.models import (
    ADDED_TO_GROUP,
    PASSWORD_CHANGED,
    AccessLogEntry,
    AuditChainEntry,
    StaffAccountEvent,
    StaffGroupEvent,
)

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
    "clinic_staffaccountevent": "pgh_id",
    "clinic_staffgroupevent": "pgh_id",
}
ROW_DIGEST_SQL = "encode(sha256(convert_to(t::text, 'UTF8')), 'hex')"


def patient_id_of(obj: Any) -> int | None:
    """The patient a record is about."""
    if obj._meta.label_lower == "patients.patient":
        return obj.pk
    if hasattr(obj, "patient_id"):
        return obj.patient_id
    if hasattr(obj, "session"):
        return obj.session.patient_id
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
    if user is not None and not user.is_authenticated:
        user = None  # an anonymous caller is known only by the username they gave, if any
    found = {pid for pid in map(patient_id_of, records) if pid is not None}
    patient_ids = sorted(found | set(patient_ids))
    return AccessLogEntry.objects.create(
        user=user,
        username=user.get_username() if user is not None else username[:150],
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


ANCHOR_LOG = logging.getLogger("clinic.audit.anchor")


def audit_anchor_publish(*, path: Path) -> dict[str, Any]:
    """Publish the chain's head: its position and hash, with the time, as one JSON line logged
    at INFO on ``clinic.audit.anchor`` and appended to ``path``. Both belong somewhere the
    database's owner cannot rewrite (another host, an append-only mount, syslog): a chain
    shorter than a published position, or with another hash there, lost its newest rows."""
    head = AuditChainEntry.objects.order_by("-position").values("position", "hash").first()
    anchor = {
        "position": head["position"] if head else 0,
        "hash": head["hash"] if head else GENESIS,
        "at": timezone.now().isoformat(),
    }
    line = json.dumps(anchor)
    # Logged first: a log routed off the host still carries the anchor when the file cannot
    # be written (and the task fails, visibly).
    ANCHOR_LOG.info(line)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as anchors:
        anchors.write(line + "\n")
    return anchor


ANCHOR_BATCH = 1000


@dataclass(frozen=True)
class Anchor:
    position: int
    hash: str
    at: str
    where: str  # the file and line it was read from


def audit_verify_anchors(*, lines: Iterable[str], source: str) -> Iterator[Break]:
    """Check the chain against published heads (lines of ``audit_anchor_publish``): yield a
    break for each anchor past the chain's end or whose entry has another hash."""
    anchors = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{source} line {number}"
        try:
            data = json.loads(line)
            anchors.append(
                Anchor(int(data["position"]), str(data["hash"]), str(data.get("at", "")), where)
            )
        except (ValueError, TypeError, KeyError):
            yield Break(None, f"{where} is not an anchor (a JSON object with position and hash)")
    end = AuditChainEntry.objects.aggregate(end=Max("position"))["end"] or 0
    for start in range(0, len(anchors), ANCHOR_BATCH):
        batch = anchors[start : start + ANCHOR_BATCH]
        within = {anchor.position for anchor in batch if 0 < anchor.position <= end}
        hashes = dict(
            AuditChainEntry.objects.filter(position__in=within).values_list("position", "hash")
        )
        for anchor in batch:
            named = f"the anchor of {anchor.at or 'an unknown time'} ({anchor.where})"
            found = hashes.get(anchor.position)
            if anchor.position == 0:
                continue  # published while the chain was empty
            if anchor.position > end:
                message = f"the chain ends at entry {end}, short of {named} at {anchor.position}"
            elif found is None:
                message = f"chain entry {anchor.position} of {named} is missing"
            elif found != anchor.hash:
                message = f"chain entry {anchor.position} has another hash than {named}"
            else:
                continue
            yield Break(anchor.position, message)


REVIEW_LIMIT = 500
# Changes with every save, so naming it tells nothing.
UNTOLD_FIELDS = {"updated_at"}
MEMBERSHIP_EVENTS = StaffGroupEvent._meta.label


@dataclass(frozen=True)
class Change:
    at: Any
    who: str
    record: str
    label: str
    fields: str
    request_id: str


def changes_of(*event_sets: Any) -> list[Change]:
    """History events (pghistory ``Events`` querysets) as rows a person reads: who changed
    which record, and which fields; the newest REVIEW_LIMIT of them all."""
    events = sorted(
        (
            event
            for event_set in event_sets
            for event in event_set.order_by("-pgh_created_at")[:REVIEW_LIMIT]
        ),
        key=lambda event: event.pgh_created_at,
        reverse=True,
    )[:REVIEW_LIMIT]
    memberships = [event for event in events if event.pgh_model == MEMBERSHIP_EVENTS]
    user_ids = {(event.pgh_context or {}).get("user") for event in events}
    user_ids |= {event.pgh_data["user_id"] for event in memberships}
    names = _usernames(user_ids)
    groups = _group_names({event.pgh_data["group_id"] for event in memberships})
    rows = []
    for event in events:
        # The aggregate Events model carries the context as JSON.
        context: dict[str, Any] = event.pgh_context or {}
        label = event.pgh_label
        fields = ", ".join(sorted(set(event.pgh_diff or {}) - UNTOLD_FIELDS))
        if event.pgh_model == MEMBERSHIP_EVENTS:  # the change is the group it names
            label = _membership_change(event.pgh_label, groups, event.pgh_data["group_id"])
        rows.append(
            Change(
                at=event.pgh_created_at,
                who=_name_of(names, context.get("user")),
                record=_record_of(event, names),
                label=label,
                fields=fields,
                request_id=context.get("request_id", ""),
            )
        )
    return rows


def _record_of(event: Any, names: dict[int, str]) -> str:
    """``injection session 12``, ``staff account dr.hale``."""
    model = apps.get_model(event.pgh_obj_model)
    if issubclass(model, get_user_model()):
        return f"staff account {event.pgh_data.get('username', event.pgh_obj_id)}"
    if event.pgh_model == MEMBERSHIP_EVENTS:
        user_id = event.pgh_data["user_id"]
        return f"staff account {names.get(user_id, user_id)}"
    return f"{model._meta.verbose_name} {event.pgh_obj_id}"


def _membership_change(label: str, groups: dict[int, str], group_id: int) -> str:
    verb = "added to group" if label == ADDED_TO_GROUP else "removed from group"
    return f"{verb} {groups.get(group_id, group_id)}"


def _name_of(names: dict[int, str], user_id: int | None) -> str:
    """The username of a change's user, or "" when it was made by no one signed in."""
    return "" if user_id is None else names.get(user_id, "")


def _usernames(user_ids: Iterable[Any]) -> dict[int, str]:
    ids = {pk for pk in user_ids if pk is not None}
    if not ids:
        return {}
    return dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username"))


def _group_names(group_ids: set[int]) -> dict[int, str]:
    if not group_ids:
        return {}
    return dict(Group.objects.filter(pk__in=group_ids).values_list("pk", "name"))


def patient_history(*, patient: Any) -> dict[str, Any]:
    """Who saw or changed this patient: reads naming them, and changes to their records (the
    patient and every record naming them: conditions, courses, sessions, scores, follow-ups;
    and the parts of their sessions: injectates, sites, side effects, addenda)."""
    from pghistory import core
    from pghistory.models import Events

    session_model = patient.sessions.model
    # A session's parts name only the session: the patient's sessions are those whose history
    # ever named the patient (and those naming them now).
    session_events = session_model.pgh_event_model.objects.filter(patient_id=patient.pk)
    sessions = list(
        session_model.objects.filter(
            Q(patient=patient) | Q(pk__in=session_events.values("pgh_obj_id"))
        ).only("pk")
    )
    naming_patient = Events.objects.references(patient)
    event_sets = [naming_patient]
    if sessions:  # an empty references() would select every event
        also_naming_patient = core.event_models(references_model=type(patient))
        session_parts = [
            model
            for model in core.event_models(references_model=session_model)
            if model not in also_naming_patient
        ]
        event_sets.append(Events.objects.references(sessions).across(*session_parts))
    return {
        "accesses": list(
            AccessLogEntry.objects.filter(patient_ids__contains=[patient.pk])[:REVIEW_LIMIT]
        ),
        "changes": changes_of(*event_sets),
        "limit": REVIEW_LIMIT,
    }


@dataclass(frozen=True)
class AccountChange:
    at: Any
    who: str
    what: str
    request_id: str


ACCOUNT_FIELDS = ["username", "first_name", "last_name", "email"]
ACCOUNT_FLAGS = ["is_active", "is_staff", "is_superuser"]


def account_changes(*, user: Any) -> list[AccountChange]:
    """What was done to a staff account: created, its name, email and flags changed (active,
    staff, superuser), added to or removed from a group; by whom."""
    snapshots = list(
        StaffAccountEvent.objects.filter(pgh_obj_id=user.pk)
        .select_related("pgh_context")
        .order_by("pgh_id")
    )
    memberships = list(
        StaffGroupEvent.objects.filter(user_id=user.pk)
        .select_related("pgh_context")
        .order_by("-pgh_id")[:REVIEW_LIMIT]
    )
    contexts = [event.pgh_context for event in [*snapshots, *memberships] if event.pgh_context]
    names = _usernames(context.metadata.get("user") for context in contexts)
    groups = _group_names({event.group_id for event in memberships})
    rows = [
        _account_row(event, names, _account_change(event, previous))
        for previous, event in zip([None, *snapshots], snapshots, strict=False)
    ]
    rows += [
        _account_row(event, names, _membership_change(event.pgh_label, groups, event.group_id))
        for event in memberships
    ]
    return sorted(rows, key=lambda row: row.at, reverse=True)[:REVIEW_LIMIT]


def _account_row(event: Any, names: dict[int, str], what: str) -> AccountChange:
    context: dict[str, Any] = event.pgh_context.metadata if event.pgh_context else {}
    return AccountChange(
        at=event.pgh_created_at,
        who=_name_of(names, context.get("user")),
        what=what,
        request_id=context.get("request_id", ""),
    )


def _account_change(snapshot: Any, previous: Any) -> str:
    def shown(name: str, event: Any) -> str:
        value = getattr(event, name)
        return ("yes" if value else "no") if isinstance(value, bool) else str(value or "-")

    def label(name: str) -> str:
        return str(StaffAccountEvent._meta.get_field(name).verbose_name)

    flags = ", ".join(f"{label(name)}: {shown(name, snapshot)}" for name in ACCOUNT_FLAGS)
    if snapshot.pgh_label == "insert":
        return f"account created ({flags})"
    if snapshot.pgh_label == "delete":
        return "account deleted"
    if snapshot.pgh_label == PASSWORD_CHANGED:
        return "password changed"
    if previous is None:  # changed before its history began: the earlier state is not known
        return f"account changed ({flags})"
    return "; ".join(
        f"{label(name)}: {shown(name, previous)} → {shown(name, snapshot)}"
        for name in [*ACCOUNT_FLAGS, *ACCOUNT_FIELDS]
        if getattr(previous, name) != getattr(snapshot, name)
    )


def user_activity(*, user: Any) -> dict[str, Any]:
    """What a staff member read and changed, and what was done to their account."""
    from pghistory.models import Events

    return {
        "accesses": list(AccessLogEntry.objects.filter(user=user)[:REVIEW_LIMIT]),
        "changes": changes_of(Events.objects.filter(pgh_context__user=user.pk)),
        "account_changes": account_changes(user=user),
        "limit": REVIEW_LIMIT,
    }
