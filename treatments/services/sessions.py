from __future__ import annotations

from typing import Any

import pghistory
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from recordkeeping.errors import RecordLocked
from treatments.models import (
    Addendum,
    Injectate,
    InjectionSession,
    InjectionSite,
    SessionStatus,
    SideEffect,
)
from treatments.services.follow_ups import follow_ups_propose


def session_cancel(*, session: InjectionSession, reason: str) -> InjectionSession:
    """Cancel a planned session. Completed sessions stay on the record; they are never removed."""
    with transaction.atomic():
        session = InjectionSession.objects.select_for_update().get(pk=session.pk)
        if session.status == SessionStatus.CANCELLED:
            return session
        if session.status != SessionStatus.PLANNED:
            raise ValidationError({"status": "Only a planned session can be cancelled."})
        session.status = SessionStatus.CANCELLED
        session.cancel_reason = reason
        session.full_clean()
        session.save(update_fields=["status", "cancel_reason", "updated_at"])
    return session


def session_create(
    *,
    fields: dict[str, Any],
    injectates: list[dict[str, Any]],
    sites: list[dict[str, Any]],
) -> InjectionSession:
    """Record a session with its injectates and sites, all or nothing.

    Each site names its injectate by ``injectate_line``, the number of an injectate given here.
    """
    with transaction.atomic():
        session = InjectionSession(**fields)
        session.full_clean(validate_constraints=False)
        session.save()
        _replace_parts(session=session, injectates=injectates, sites=sites)
        follow_ups_propose(session=session)
    return session


def session_update(
    *,
    session: InjectionSession,
    by: User,
    fields: dict[str, Any],
    injectates: list[dict[str, Any]] | None = None,
    sites: list[dict[str, Any]] | None = None,
) -> InjectionSession:
    """Change a session; given injectates or sites replace the stored ones, matched by number.

    Rows whose number is not given again are removed, unless a side effect names the site.
    Only the session's own clinician gives it to a colleague (a clinic admin reassigns it with
    session_reassign), so no one takes over a colleague's session to sign it.
    """
    with transaction.atomic():
        session = InjectionSession.objects.select_for_update().get(pk=session.pk)
        ensure_session_editable(session)
        clinician = fields.get("clinician")
        changes_hands = clinician is not None and clinician.pk != session.clinician_id
        if changes_hands and by.pk != session.clinician_id:
            raise PermissionDenied(
                "Only the session's clinician can change who performed it; "
                "a clinic admin can reassign it."
            )
        was_completed = session.status == SessionStatus.COMPLETED
        for name, value in fields.items():
            setattr(session, name, value)
        session.full_clean(validate_constraints=False)
        session.save()
        _replace_parts(session=session, injectates=injectates, sites=sites)
        if not was_completed:  # proposals come once, when the session is completed
            follow_ups_propose(session=session)
    return session


def _replace_parts(
    *,
    session: InjectionSession,
    injectates: list[dict[str, Any]] | None,
    sites: list[dict[str, Any]] | None,
) -> None:
    if injectates is not None:
        _upsert_by_line(Injectate, session, injectates)
    by_line = {injectate.line: injectate for injectate in session.injectates.all()}
    if injectates is not None:
        kept = {data["line"] for data in injectates}
        by_line = {line: row for line, row in by_line.items() if line in kept}
    if sites is not None:
        rows = []
        for data in sites:
            data = dict(data)
            number = data.pop("injectate_line")
            if number not in by_line:
                raise ValidationError(
                    {"sites": f"There is no injectate no. {number} in this session."}
                )
            rows.append(data | {"injectate": by_line[number]})
        _upsert_by_line(InjectionSite, session, rows)
    if injectates is not None:
        for injectate in session.injectates.exclude(line__in=by_line):
            line = injectate.line
            if injectate.sites.exists():
                raise ValidationError(
                    {"injectates": f"Injectate {line} is named by a site; change that first."}
                )
            injectate.delete()


def _upsert_by_line(
    model: type[Injectate] | type[InjectionSite],
    session: InjectionSession,
    rows: list[dict[str, Any]],
) -> None:
    stored = {row.line: row for row in model.objects.filter(session=session)}
    for row in stored.values():
        row.session = session  # checked against the session at hand, not one read per row
    kept = set()
    for data in rows:
        row = stored.get(data["line"]) or model(session=session)
        for name, value in data.items():
            setattr(row, name, value)
        row.full_clean(validate_unique=False, validate_constraints=False)
        row.save()
        kept.add(row.line)
    if model is InjectionSite:
        for line, row in stored.items():
            if line not in kept:
                if row.side_effects.exists():  # type: ignore[union-attr]
                    raise ValidationError(
                        {"sites": f"Site {line} has a side effect recorded; it stays."}
                    )
                row.delete()


def session_reassign(
    *, session: InjectionSession, clinician: User, reason: str
) -> InjectionSession:
    """Record that another clinician performed an unsigned session (a clinic admin correcting
    who did it). The change history keeps who reassigned it and why."""
    with transaction.atomic(), pghistory.context(reason=reason.strip()):
        session = InjectionSession.objects.select_for_update().get(pk=session.pk)
        ensure_session_editable(session)
        if not reason.strip():
            raise ValidationError({"reason": "Say why the session is reassigned."})
        session.clinician = clinician
        session.full_clean(validate_constraints=False)
        session.save(update_fields=["clinician", "updated_at"])
    return session


def side_effect_is_final(side_effect: SideEffect) -> bool:
    """Reported before its session was signed: part of the signed record."""
    signed_at = side_effect.session.signed_at
    return signed_at is not None and side_effect.created_at <= signed_at


def session_sign(*, session: InjectionSession, clinician: User) -> InjectionSession:
    """The session's clinician signs the completed session; from then on it never changes."""
    with transaction.atomic():
        session = InjectionSession.objects.select_for_update().get(pk=session.pk)
        if session.is_signed:
            raise RecordLocked("The session is already signed.")
        if session.clinician_id != clinician.pk:
            raise PermissionDenied("Only the session's clinician can sign it.")
        if session.status != SessionStatus.COMPLETED:
            raise ValidationError({"status": "Only a completed session can be signed."})
        session.signed_by = clinician
        session.signed_at = timezone.now()
        session.save(update_fields=["signed_by", "signed_at", "updated_at"])
    return session


def addendum_add(*, session: InjectionSession, author: User, text: str) -> Addendum:
    """Add a correction or later note to a signed session."""
    with transaction.atomic():
        session = InjectionSession.objects.select_for_update().get(pk=session.pk)
        if not session.is_signed:
            raise ValidationError({"text": "The session is not signed; change it directly."})
        addendum = Addendum(session=session, author=author, text=text.strip())
        addendum.full_clean()
        addendum.save()
    return addendum


def ensure_session_editable(session: InjectionSession) -> None:
    if session.is_signed:
        raise RecordLocked("The session is signed and cannot change; add an addendum instead.")


def ensure_side_effect_editable(side_effect: SideEffect) -> None:
    if side_effect_is_final(side_effect):
        raise RecordLocked(
            "This side effect was reported at a signed session and cannot change; "
            "add an addendum to the session or record a new side effect."
        )
