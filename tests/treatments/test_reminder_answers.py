"""Reminders patients can answer: each reminder carries a signed link, stored only as a digest,
that works for its booking at the time announced, until the appointment ends, and once.
Confirming confirms; cancelling cancels unless it is within LATE_CANCEL_HOURS, when nothing
changes but the request is kept for the desk."""

from __future__ import annotations

import datetime
import hashlib
import logging
import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, ProgrammingError, transaction
from django.utils import timezone

from tests.factories import ClinicianFactory, PatientFactory, SessionFactory, clinic_slot
from tests.treatments.desk_factories import BookingAnswerFactory
from treatments import services
from treatments.messaging import LoggingSmsBackend
from treatments.models import AnswerLink, BookingAnswer, Reminder
from treatments.services.answer_links import SALT

pytestmark = pytest.mark.django_db


def booked(*, days_ahead: int = 3, channel: str = "email"):
    patient = PatientFactory(
        given_name="Tomas",
        reminder_channel=channel,
        reminder_consent=True,
        reminder_consent_on=timezone.localdate(),
    )
    starts = clinic_slot(days_ahead=days_ahead, hour=10)
    return services.follow_up_book(
        fields={
            "patient": patient,
            "clinician": ClinicianFactory(),
            "kind": "review",
            "starts_at": starts,
            "ends_at": starts + datetime.timedelta(minutes=30),
        }
    )


def token_for(follow_up) -> str:
    return services.answer_link_issue(reminder=follow_up.reminders.first())


def test_a_sent_reminder_carries_its_answer_link_and_only_the_digest_is_stored(settings):
    settings.CLINIC_URL = "https://clinic.example.org"
    follow_up = booked()
    Reminder.objects.filter(follow_up=follow_up).update(
        due_at=timezone.now(), next_attempt_at=timezone.now()
    )
    services.reminders_dispatch()
    bodies = [message.body for message in mail.outbox]
    assert len(bodies) == 2
    links = [re.search(r"https://clinic\.example\.org/answer/(\S+)/", body) for body in bodies]
    assert all(links), bodies
    token = links[0].group(1)
    raw = token.split(":")[0]
    stored = AnswerLink.objects.get(token_digest=hashlib.sha256(raw.encode()).hexdigest())
    assert stored.follow_up == follow_up and stored.expires_at == follow_up.ends_at
    assert not AnswerLink.objects.filter(token_digest__contains=raw).exists()
    assert services.answer_link_find(token=token, now=timezone.now()) == stored


def test_the_same_reminder_gives_the_same_link_however_often_it_is_sent():
    follow_up = booked()
    reminder = follow_up.reminders.first()
    first = services.answer_link_issue(reminder=reminder)
    assert services.answer_link_issue(reminder=reminder) == first
    assert AnswerLink.objects.count() == 1
    other = services.answer_link_issue(reminder=follow_up.reminders.last())
    assert other != first and AnswerLink.objects.count() == 2


def changed(text: str) -> str:
    """``text`` with its first character replaced by another (a last base64 character may carry
    padding bits only, and a fixed replacement may be the character already there)."""
    return ("B" if text[0] == "A" else "A") + text[1:]


def test_a_link_with_a_changed_signature_or_secret_finds_nothing():
    follow_up = booked()
    token = token_for(follow_up)
    raw, signature = token.split(":")
    now = timezone.now()
    assert services.answer_link_find(token=f"{raw}:{changed(signature)}", now=now) is None
    assert services.answer_link_find(token=f"{changed(raw)}:{signature}", now=now) is None
    assert services.answer_link_find(token=raw, now=now) is None
    assert SALT  # the signature is bound to this use of the site's key


def test_a_link_stops_working_when_the_appointment_has_ended_or_moved_or_is_cancelled():
    follow_up = booked()
    token = token_for(follow_up)
    assert services.answer_link_find(token=token, now=follow_up.ends_at) is None
    assert services.answer_link_find(token=token, now=follow_up.starts_at) is not None
    services.follow_up_reschedule(
        follow_up=follow_up, starts_at=follow_up.starts_at + datetime.timedelta(hours=1)
    )
    assert services.answer_link_find(token=token, now=timezone.now()) is None
    fresh = booked(days_ahead=4)
    fresh_token = token_for(fresh)
    services.follow_up_cancel(follow_up=fresh, reason="Phoned.")
    assert services.answer_link_find(token=fresh_token, now=timezone.now()) is None


def test_confirming_confirms_the_booking_and_uses_the_link():
    follow_up = booked()
    token = token_for(follow_up)
    link = services.answer_link_find(token=token, now=timezone.now())
    assert services.booking_answer(link=link, answer="confirmed", now=timezone.now()) == "confirmed"
    follow_up.refresh_from_db()
    assert follow_up.status == "confirmed"
    assert list(follow_up.answers.values_list("answer", flat=True)) == ["confirmed"]
    assert services.answer_link_find(token=token, now=timezone.now()) is None
    with pytest.raises(ValidationError, match="answered already"):
        services.booking_answer(link=link, answer="cancelled", now=timezone.now())
    follow_up.refresh_from_db()
    assert follow_up.status == "confirmed"


def test_cancelling_ahead_of_the_late_window_cancels_with_the_reason(settings):
    settings.LATE_CANCEL_HOURS = 24
    follow_up = booked(days_ahead=3)
    link = services.answer_link_find(token=token_for(follow_up), now=timezone.now())
    answered = services.booking_answer(link=link, answer="cancelled", now=timezone.now())
    follow_up.refresh_from_db()
    assert answered == "cancelled" and follow_up.status == "cancelled"
    assert follow_up.cancel_reason == "Cancelled by the patient from their reminder."
    assert follow_up.cancelled_at is not None
    assert not follow_up.reminders.filter(status="pending").exists()


def test_cancelling_within_the_late_window_changes_nothing_and_keeps_the_request(settings):
    settings.LATE_CANCEL_HOURS = 24
    follow_up = booked(days_ahead=3)
    token = token_for(follow_up)
    link = services.answer_link_find(token=token, now=timezone.now())
    late = follow_up.starts_at - datetime.timedelta(hours=23)
    assert services.booking_answer(link=link, answer="cancelled", now=late) == "late_cancel"
    follow_up.refresh_from_db()
    assert follow_up.status == "scheduled"
    assert list(follow_up.answers.values_list("answer", flat=True)) == ["late_cancel"]
    # The link still confirms.
    link = services.answer_link_find(token=token, now=late)
    assert services.booking_answer(link=link, answer="confirmed", now=late) == "confirmed"


def test_an_answer_other_than_confirm_or_cancel_is_refused_naming_it():
    follow_up = booked()
    link = services.answer_link_find(token=token_for(follow_up), now=timezone.now())
    with pytest.raises(ValidationError) as refused:
        services.booking_answer(link=link, answer="late_cancel", now=timezone.now())
    assert "answer" in refused.value.message_dict
    assert not BookingAnswer.objects.exists()


def test_the_database_keeps_answers_as_they_were_given():
    answer = BookingAnswerFactory()
    with pytest.raises(ProgrammingError, match="Cannot"), transaction.atomic():
        BookingAnswer.objects.filter(pk=answer.pk).update(answer="cancelled")
    with pytest.raises(IntegrityError), transaction.atomic():
        BookingAnswerFactory(link=answer.link, answer="cancelled")


def test_the_answer_pages_take_a_limited_number_of_requests_per_address(settings):
    settings.ANSWER_RATE_LIMIT, settings.ANSWER_RATE_WINDOW_SECONDS = 3, 600
    now = timezone.now().replace(minute=5)
    allowed = [services.answer_page_allowed(address="203.0.113.9", now=now) for _ in range(4)]
    assert allowed == [True, True, True, False]
    assert services.answer_page_allowed(address="203.0.113.10", now=now)
    later = now + datetime.timedelta(minutes=10)
    assert services.answer_page_allowed(address="203.0.113.9", now=later)
    assert services.answer_page_hits_clear(before=later) == 2


def test_without_a_provider_the_logged_text_message_holds_the_answer_link(caplog):
    body = "Hello Tomas, ... Confirm or cancel: http://127.0.0.1:8000/answer/abc:def/ To change"
    with caplog.at_level(logging.INFO, logger="treatments.messaging"):
        LoggingSmsBackend().send(to="+447700900123", body=body, key="reminder-7")
    assert "answer link: http://127.0.0.1:8000/answer/abc:def/" in caplog.text
    assert "+447700900123" not in caplog.text and "Tomas" not in caplog.text


def test_a_proposal_keeps_the_day_it_falls_due_for_the_list_to_book():
    session = SessionFactory(performed_at=timezone.now() - datetime.timedelta(days=1))
    proposals = services.follow_ups_propose(session=session)
    check = next(p for p in proposals if p.kind == "post_injection_check")
    assert check.due_on == timezone.localdate(session.performed_at) + datetime.timedelta(days=14)
