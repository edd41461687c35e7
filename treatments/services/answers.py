"""Patients' answers to their reminders (through the links of treatments.services.answer_links):
confirm, or cancel unless it is too late; and the answer pages' rate limit."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from treatments.models import Answer, AnswerLink, AnswerPageHits, BookingAnswer, FollowUpStatus
from treatments.models.answers import FINAL_ANSWERS
from treatments.services.follow_ups import cancellation_is_late, follow_up_transition

PATIENT_CANCEL_REASON = "Cancelled by the patient from their reminder."


def booking_answer(*, link: AnswerLink, answer: str, now: datetime.datetime) -> str:
    """Record the patient's answer and act on it: confirm the booking, or cancel it unless
    that is within ``LATE_CANCEL_HOURS`` of the start (then nothing changes but the request is
    kept, for the front desk to call). Returns the answer recorded. A link answers once."""
    if answer not in (Answer.CONFIRMED, Answer.CANCELLED):
        raise ValidationError({"answer": "Answer confirm or cancel."})
    with transaction.atomic():
        # One answer at a time per link: a second tap waits, then finds the link used.
        link = AnswerLink.objects.select_for_update().select_related("follow_up").get(pk=link.pk)
        if link.answers.filter(answer__in=FINAL_ANSWERS).exists():
            raise ValidationError({"answer": "This link was answered already."})
        follow_up = link.follow_up
        if answer == Answer.CONFIRMED:
            follow_up_transition(follow_up=follow_up, to=FollowUpStatus.CONFIRMED)
        elif cancellation_is_late(follow_up=follow_up, now=now):
            answer = Answer.LATE_CANCEL
        else:
            follow_up_transition(
                follow_up=follow_up, to=FollowUpStatus.CANCELLED, reason=PATIENT_CANCEL_REASON
            )
        BookingAnswer.objects.create(link=link, follow_up=follow_up, answer=answer)
    return answer


def answer_page_allowed(*, address: str, now: datetime.datetime) -> bool:
    """Count a request to the answer pages from ``address``; False once it made more than
    ``ANSWER_RATE_LIMIT`` within the current window of ``ANSWER_RATE_WINDOW_SECONDS``."""
    window = settings.ANSWER_RATE_WINDOW_SECONDS
    start = int(now.timestamp()) // window * window
    ends = datetime.datetime.fromtimestamp(start + window, tz=datetime.UTC)
    with connection.cursor() as cursor:
        # One statement, so that concurrent requests from one address each count.
        cursor.execute(
            f"""
            INSERT INTO {AnswerPageHits._meta.db_table} (key, hits, window_ends_at)
            VALUES (%s, 1, %s)
            ON CONFLICT (key) DO UPDATE SET hits = {AnswerPageHits._meta.db_table}.hits + 1
            RETURNING hits
            """,  # noqa: S608 - the table's own name, no input
            [f"{address[:80]}@{start}", ends],
        )
        hits = cursor.fetchone()[0]
    return bool(hits <= settings.ANSWER_RATE_LIMIT)


def answer_page_hits_clear(*, before: datetime.datetime) -> int:
    """Forget the counts of windows that ended before ``before``."""
    return AnswerPageHits.objects.filter(window_ends_at__lt=before).delete()[0]
