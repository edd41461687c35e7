"""The clinic's rules for invitations and answers; the dispatch task, the patient's pages, the
front desk's screens and the admin all call these.

Dispatch works like the reminders' (treatments.services.reminders): the next invitation with
something to do is claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` and its message handed
over, and recorded under a unique key, in one transaction; a second pass skips the rows the
first holds, and a worker that dies mid-send leaves the row to the next pass. An invitation is
sent once by the patient's channel (with their consent), chased after ``PROM_CHASER_DAYS``, and
``PROM_CALL_AFTER_DAYS`` after it was sent it is listed for a call until it closes; a patient
without consent or channel is listed for a call when it is due.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from patients.models import OutcomeScore, Patient, ReminderChannel
from questionnaires import scoring
from questionnaires.models import (
    Answer,
    CallOutcome,
    Invitation,
    InvitationCall,
    InvitationLink,
    InvitationMessage,
    InvitationStatus,
    Item,
    LinkFailure,
    LinkKind,
    ProblemReport,
    Response,
    Scale,
    ScaleScore,
)
from questionnaires.selectors import invitation_questionnaires
from treatments.messaging import SendFailed, send_email, send_sms
from treatments.models import CourseStatus, DeliveryOutcome, TreatmentCourse

logger = logging.getLogger(__name__)

TOKEN_BYTES = 24  # 192 random bits
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,64}")
UNKNOWN_ADDRESS = "0.0.0.0"  # noqa: S104 - a stand-in for a request without one, never bound


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- Planning -------------------------------------------------------------------------------


def invitations_plan(*, course_ids: Iterable[int], at: datetime.datetime | None = None) -> None:
    """Plan the courses' invitations again, as the database does by itself when a course or its
    first session changes (questionnaires_plan): for instance after the schedule changed."""
    at = at or timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        for course_id in course_ids:
            cursor.execute("SELECT questionnaires_plan(%s, %s)", [course_id, at])


def schedule_apply(*, treatment: str) -> int:
    """The active courses of a treatment planned again by its current schedule; how many."""
    ids = list(
        TreatmentCourse.objects.filter(
            planned_treatment=treatment, status=CourseStatus.ACTIVE
        ).values_list("id", flat=True)
    )
    invitations_plan(course_ids=ids)
    return len(ids)


# -- Dispatch -------------------------------------------------------------------------------


@dataclass
class DispatchSummary:
    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())


def invitations_dispatch(*, limit: int | None = None) -> DispatchSummary:
    """Act on every invitation whose time has come, one transaction each: send it or a chaser,
    list it for a call, or close it. Rows another pass holds are left to it."""
    now = timezone.now()
    summary = DispatchSummary()
    while limit is None or summary.total < limit:
        outcome = invitation_act_next(now=now)
        if outcome is None:
            break
        summary.add(outcome)
    link_failures_forget(before=now - datetime.timedelta(days=1))
    if summary.total:
        logger.info("Invitation dispatch: %s", summary.outcomes)
    return summary


def invitation_act_next(*, now: datetime.datetime) -> str | None:
    """Claim the next invitation with something to do and do it; None when there is none."""
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(next_attempt_at__lte=now)
            .select_related("patient")
            .order_by("next_attempt_at")
            .first()
        )
        if invitation is None:
            return None
        outcome = _act(invitation, now)
        invitation.save()
    return outcome


def messages_planned() -> int:
    """The invitation and its chasers."""
    return 1 + len(settings.PROM_CHASER_DAYS)


def _act(invitation: Invitation, now: datetime.datetime) -> str:
    patient = invitation.patient
    if not invitation.is_open:
        invitation.next_attempt_at = invitation.chase_from = None
        return "idle"
    if invitation.closes_at <= now:
        _end(invitation, InvitationStatus.MISSED, "Not answered before it closed.")
        return "missed"
    if patient.archived_at is not None:
        _end(invitation, InvitationStatus.CANCELLED, "The patient was archived.")
        return "cancelled"
    if invitation.chase_from is not None or invitation.messages_sent >= messages_planned():
        _list_for_call(invitation, now)
        return "listed"
    number = invitation.messages_sent + 1
    key = f"invitation-{invitation.pk}-{number}"
    attempt = invitation.failed_attempts + 1
    reason = _reason_not_to_send(patient)
    if reason:
        _record(invitation, number, key, attempt, "", DeliveryOutcome.SKIPPED, reason)
        _list_for_call(invitation, now)
        return "skipped"
    link, token = link_issue(invitation=invitation, kind=LinkKind.MESSAGE, now=now)
    try:
        _send(invitation, number=number, token=token, expires_at=link.expires_at, key=key)
    except Exception as error:  # a provider's own errors too: one message never stops a pass
        if not isinstance(error, SendFailed):
            logger.exception("Sending %s failed", key)
        link.delete()  # its secret never left
        invitation.failed_attempts = attempt
        why = f"{type(error).__name__}: {error}"[:1000]
        _record(
            invitation, number, key, attempt, patient.reminder_channel, DeliveryOutcome.FAILED, why
        )
        if attempt >= settings.REMINDER_MAX_ATTEMPTS:
            _list_for_call(invitation, now)
        else:
            backoff = settings.REMINDER_RETRY_SECONDS * 2 ** (attempt - 1)
            invitation.next_attempt_at = min(
                now + datetime.timedelta(seconds=backoff), invitation.closes_at
            )
        return "failed"
    _record(invitation, number, key, attempt, patient.reminder_channel, DeliveryOutcome.SENT, "")
    invitation.messages_sent = number
    invitation.failed_attempts = 0
    invitation.sent_at = invitation.sent_at or now
    if invitation.status == InvitationStatus.PLANNED:
        invitation.status = InvitationStatus.SENT
    chasers = settings.PROM_CHASER_DAYS
    days = chasers[number - 1] if number <= len(chasers) else settings.PROM_CALL_AFTER_DAYS
    invitation.next_attempt_at = min(
        invitation.sent_at + datetime.timedelta(days=days), invitation.closes_at
    )
    return "sent"


def _end(invitation: Invitation, status: str, reason: str) -> None:
    invitation.status = status
    invitation.ended_reason = reason
    invitation.next_attempt_at = invitation.chase_from = None


def _list_for_call(invitation: Invitation, now: datetime.datetime) -> None:
    """On the front desk's list until it closes (then the dispatch pass closes it)."""
    invitation.chase_from = invitation.chase_from or now
    invitation.next_attempt_at = invitation.closes_at


def _reason_not_to_send(patient: Patient) -> str:
    if not patient.reminder_consent:
        return "The patient has not consented to messages."
    if patient.reminder_channel == ReminderChannel.NONE:
        return "The patient asked for no messages."
    return ""


def _record(
    invitation: Invitation,
    number: int,
    key: str,
    attempt: int,
    channel: str,
    outcome: str,
    reason: str,
) -> None:
    InvitationMessage.objects.create(
        invitation=invitation,
        number=number,
        key=f"{key}-attempt-{attempt}",
        attempt=attempt,
        channel=channel,
        outcome=outcome,
        reason=reason,
    )


def link_url(token: str) -> str:
    return settings.PROM_LINK_BASE_URL + reverse("questionnaires:start", args=[token])


def invitation_text(
    *, invitation: Invitation, number: int, url: str, expires_at: datetime.datetime
) -> tuple[str, str]:
    """Subject and text: the first name, the clinic, the link and how long it works; nothing
    clinical (anyone may read a phone's lock screen)."""
    patient = invitation.patient
    until = timezone.localtime(expires_at)
    again = "a reminder: " if number > 1 else ""
    body = (
        f"Hello {patient.given_name}, {again}{settings.CLINIC_NAME} would like to know how you "
        f"are doing. Please answer a few short questions: {url} (the link works until "
        f"{until.day} {until:%B})."
    )
    if settings.CLINIC_PHONE:
        body += f" Questions? Call {settings.CLINIC_PHONE}."
    return f"A few questions from {settings.CLINIC_NAME}", body


def _send(
    invitation: Invitation, *, number: int, token: str, expires_at: datetime.datetime, key: str
) -> None:
    patient = invitation.patient
    subject, body = invitation_text(
        invitation=invitation, number=number, url=link_url(token), expires_at=expires_at
    )
    if patient.reminder_channel == ReminderChannel.SMS:
        send_sms(to=patient.phone, body=body, key=key)
    else:
        send_email(to=patient.email, subject=subject, body=body, key=key)


# -- Links ----------------------------------------------------------------------------------


def link_issue(
    *,
    invitation: Invitation,
    kind: str,
    now: datetime.datetime,
    issued_by: Any = None,
) -> tuple[InvitationLink, str]:
    """A new link to the invitation's questions and its secret (kept only as a digest): for
    ``PROM_LINK_DAYS`` in a message, ``PROM_KIOSK_MINUTES`` on a tablet; never past the
    invitation's close."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    if kind == LinkKind.KIOSK:
        lifetime = datetime.timedelta(minutes=settings.PROM_KIOSK_MINUTES)
    else:
        lifetime = datetime.timedelta(days=settings.PROM_LINK_DAYS)
    link = InvitationLink.objects.create(
        invitation=invitation,
        digest=token_digest(token),
        kind=kind,
        issued_at=now,
        expires_at=min(now + lifetime, invitation.closes_at),
        issued_by=issued_by,
    )
    return link, token


def kiosk_link_issue(*, invitation: Invitation, issued_by: Any) -> str:
    """A short-lived link for the clinic's tablet at check-in: the secret to open it with."""
    now = timezone.now()
    end_of_today = timezone.make_aware(
        datetime.datetime.combine(
            timezone.localdate() + datetime.timedelta(days=1), datetime.time()
        )
    )
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not invitation.is_open or invitation.closes_at <= now:
            raise ValidationError({"invitation": "This questionnaire is no longer open."})
        if invitation.due_at >= end_of_today:
            raise ValidationError({"invitation": "This questionnaire is not due yet."})
        _, token = link_issue(
            invitation=invitation, kind=LinkKind.KIOSK, now=now, issued_by=issued_by
        )
    return token


def _window(now: datetime.datetime) -> datetime.datetime:
    minutes = settings.PROM_LINK_WINDOW_MINUTES
    since = now.replace(second=0, microsecond=0)
    minute_of_day = since.hour * 60 + since.minute
    return since - datetime.timedelta(minutes=minute_of_day % minutes)


def link_refused(*, address: str | None, now: datetime.datetime) -> bool:
    """Whether the address opened too many wrong links in this window to be let in now."""
    failures = _failure_rows(address, now).values_list("failures", flat=True).first() or 0
    return failures >= settings.PROM_LINK_FAILURES


def _failure_rows(address: str | None, now: datetime.datetime) -> Any:
    return LinkFailure.objects.filter(address=address or UNKNOWN_ADDRESS, window_start=_window(now))


def link_failure_record(*, address: str | None, now: datetime.datetime) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO questionnaires_linkfailure (address, window_start, failures) "
            "VALUES (%s, %s, 1) ON CONFLICT (address, window_start) "
            "DO UPDATE SET failures = questionnaires_linkfailure.failures + 1",
            [address or UNKNOWN_ADDRESS, _window(now)],
        )


def link_failures_forget(*, before: datetime.datetime) -> None:
    LinkFailure.objects.filter(window_start__lt=before).delete()


def link_open(*, token: str, address: str | None, now: datetime.datetime) -> InvitationLink | None:
    """The link a secret opens, with its invitation, patient and course; None for a wrong,
    expired or used link, and for any link from an address past the limit of wrong ones
    (each wrong one is counted against its address)."""
    if link_refused(address=address, now=now):
        link_failure_record(address=address, now=now)
        return None
    link = None
    if TOKEN_SHAPE.fullmatch(token):
        link = (
            InvitationLink.objects.select_related(
                "invitation__patient", "invitation__course__condition"
            )
            .filter(digest=token_digest(token))
            .first()
        )
    if (
        link is None
        or link.expires_at <= now
        or not link.invitation.is_open
        or link.invitation.closes_at <= now
    ):
        link_failure_record(address=address, now=now)
        return None
    return link


def invitation_opened(*, invitation: Invitation, now: datetime.datetime) -> None:
    """The patient opened their questions: planned or sent becomes opened."""
    if invitation.status in (InvitationStatus.PLANNED, InvitationStatus.SENT):
        Invitation.objects.filter(
            pk=invitation.pk, status__in=[InvitationStatus.PLANNED, InvitationStatus.SENT]
        ).update(status=InvitationStatus.OPENED, opened_at=now, updated_at=now)
        invitation.status, invitation.opened_at = InvitationStatus.OPENED, now


# -- Answers --------------------------------------------------------------------------------


def _locked_open(invitation: Invitation, now: datetime.datetime) -> Invitation:
    locked = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("patient", "course")
        .get(pk=invitation.pk)
    )
    if not locked.is_open or locked.closes_at <= now:
        raise ValidationError({"answer": "These questions are closed."})
    return locked


def answer_save(
    *, invitation: Invitation, item: Item, value: int | None, last: bool = False
) -> Answer | None:
    """Keep the patient's answer to an item (or change it); ``None`` takes an answer back, for
    a question skipped. Saved at once, so nothing is lost when the connection drops. With
    ``last``, the answer ends the questions (invitation_complete, no question of new problems)."""
    now = timezone.now()
    with transaction.atomic():
        locked = _locked_open(invitation, now)
        option = None
        if value is not None:
            option = next((o for o in item.options.all() if o.value == value), None)
            if option is None:
                raise ValidationError({"answer": "Choose one of the answers."})
        response, _ = Response.objects.get_or_create(
            invitation=locked, questionnaire_id=item.questionnaire_id, defaults={"started_at": now}
        )
        invitation_opened(invitation=locked, now=now)
        answer = None
        if option is None:
            Answer.objects.filter(response=response, item=item).delete()
        else:
            answer, _ = Answer.objects.update_or_create(
                response=response,
                item=item,
                defaults={"option": option, "value": option.value, "answered_at": now},
            )
        if last:
            _complete(locked, now=now, new_problem=None, problem_text="")
    return answer


def invitation_answer_all(
    *,
    invitation: Invitation,
    answers: Mapping[int, int],
    new_problem: bool | None,
    problem_text: str = "",
    at: datetime.datetime | None = None,
) -> Invitation:
    """Every answer at once (item id -> value) and done, as of ``at``: for answers given on
    paper and typed in, and for the demo data. The same rules as answering page by page."""
    now = at or timezone.now()
    with transaction.atomic():
        locked = _locked_open(invitation, now)
        for questionnaire in invitation_questionnaires(invitation=locked, items=True):
            asked = [item for item in questionnaire.items.all() if item.pk in answers]
            if not asked:
                continue
            response, _ = Response.objects.get_or_create(
                invitation=locked, questionnaire=questionnaire, defaults={"started_at": now}
            )
            rows = []
            for item in asked:
                option = next((o for o in item.options.all() if o.value == answers[item.pk]), None)
                if option is None:
                    raise ValidationError({"answer": f"{item.code}: not one of its answers."})
                rows.append(
                    Answer(
                        response=response,
                        item=item,
                        option=option,
                        value=option.value,
                        answered_at=now,
                    )
                )
            Answer.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["response", "item"],
                update_fields=["option", "value", "answered_at"],
            )
        return _complete(locked, now=now, new_problem=new_problem, problem_text=problem_text)


def invitation_complete(
    *, invitation: Invitation, new_problem: bool | None, problem_text: str = ""
) -> Invitation:
    """The patient is done. Each questionnaire's scales are scored from the answers given; a
    score with an instrument becomes the patient's outcome score at the invitation's time point,
    marked patient-reported (where staff recorded that score already, theirs is kept and the
    patient's stays with the answers). A new problem becomes an item for a clinician to review,
    not a side effect."""
    now = timezone.now()
    with transaction.atomic():
        return _complete(
            _locked_open(invitation, now),
            now=now,
            new_problem=new_problem,
            problem_text=problem_text,
        )


def _complete(
    locked: Invitation, *, now: datetime.datetime, new_problem: bool | None, problem_text: str
) -> Invitation:
    problem_text = problem_text.strip()
    if len(problem_text) > 2000:
        raise ValidationError({"problem": "Please keep it under 2000 characters."})
    measured_on = timezone.localdate(now)
    begun = {
        r.questionnaire_id: r
        for r in Response.objects.filter(invitation=locked).prefetch_related("answers")
    }
    recorded = set(
        OutcomeScore.objects.filter(course=locked.course, time_point=locked.time_point).values_list(
            "instrument", flat=True
        )
    )
    for questionnaire in invitation_questionnaires(invitation=locked, scoring=True):
        answers: dict[int, int]
        response = begun.get(questionnaire.pk)
        if response is None:  # not one question of it answered
            response = Response.objects.create(
                invitation=locked, questionnaire=questionnaire, started_at=now
            )
            answers = {}
        else:
            answers = {a.item_id: a.value for a in response.answers.all()}
        for scale in questionnaire.scales.all():
            _score(locked, response, scale, answers, measured_on, recorded)
        response.completed_at = now
        response.save(update_fields=["completed_at"])
    locked.status = InvitationStatus.COMPLETED
    locked.completed_at = now
    locked.opened_at = locked.opened_at or now
    locked.next_attempt_at = locked.chase_from = None
    locked.new_problem = new_problem
    locked.save()
    if new_problem:
        report = ProblemReport(
            invitation=locked, patient=locked.patient, text=problem_text, reported_at=now
        )
        report.full_clean()
        report.save()
    return locked


def _score(
    invitation: Invitation,
    response: Response,
    scale: Scale,
    answers: dict[int, int],
    measured_on: datetime.date,
    recorded: set[str],
) -> ScaleScore:
    items = list(scale.items.all())
    items.sort(key=lambda item: item.position)
    spans = [
        scoring.ItemSpan(
            min(o.value for o in item.options.all()), max(o.value for o in item.options.all())
        )
        for item in items
    ]
    values = [answers.get(item.pk) for item in items]
    rule = scoring.Rule(
        rule=scale.rule,
        reverse=scale.reverse,
        min_answered_percent=scale.min_answered_percent,
        table={row.raw: row.value for row in scale.conversion.all()},
    )
    value = scoring.score(rule, spans, values)
    outcome, note = None, ""
    if value is None:
        note = "Too few questions answered for a score."
    elif scale.instrument:
        if scale.instrument in recorded:
            note = "Staff recorded this score at this time point already; theirs is kept."
        else:
            outcome = OutcomeScore(
                patient=invitation.patient,
                course=invitation.course,
                instrument=scale.instrument,
                score=value,
                time_point=invitation.time_point,
                measured_on=measured_on,
                patient_reported=True,
            )
            outcome.full_clean(validate_constraints=False)
            outcome.save()
    return ScaleScore.objects.create(
        response=response,
        scale=scale,
        value=value,
        items_answered=sum(v is not None for v in values),
        outcome_score=outcome,
        note=note,
    )


# -- The clinic's side -----------------------------------------------------------------------


def problem_review(*, report: ProblemReport, clinician: Any, note: str = "") -> ProblemReport:
    """A clinician has read the patient's new problem (and recorded a side effect, booked a
    visit or judged it unrelated, as the note says)."""
    with transaction.atomic():
        report = ProblemReport.objects.select_for_update().get(pk=report.pk)
        if report.reviewed_at is None:
            report.reviewed_by = clinician
            report.reviewed_at = timezone.now()
            report.review_note = note.strip()
            report.full_clean()
            report.save()
    return report


def call_record(
    *, invitation: Invitation, called_by: Any, outcome: str, note: str = ""
) -> InvitationCall:
    """The front desk called a patient on the list. A patient who declines is not asked again
    for this time point."""
    now = timezone.now()
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not locked.is_open or locked.chase_from is None:
            raise ValidationError({"invitation": "This patient is not on the list to call."})
        call = InvitationCall(
            invitation=locked, called_at=now, called_by=called_by, outcome=outcome, note=note
        )
        call.full_clean()
        call.save()
        if outcome == CallOutcome.DECLINED:
            _end(locked, InvitationStatus.MISSED, "Declined to answer when called.")
            locked.save()
    return call
