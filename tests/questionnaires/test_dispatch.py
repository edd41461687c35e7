"""Invitations go out once by the patient's channel, are chased twice, then listed for a call,
and close unanswered as missed; a patient without consent is listed for a call at once."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from questionnaires import services
from questionnaires.models import Invitation, InvitationMessage
from questionnaires.selectors import call_list
from tests.questionnaires.conftest import (
    consenting_patient,
    course_for,
    due_six_week_invitation,
    invitation_of,
    tokens_in_mail,
)

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def act_until(now: datetime.datetime) -> list[str]:
    """Every dispatch step due by ``now``."""
    outcomes = []
    while (outcome := services.invitation_act_next(now=now)) is not None:
        outcomes.append(outcome)
    return outcomes


def test_the_baseline_is_emailed_once_with_a_link_and_nothing_clinical():
    course = course_for(first_session_days=5)
    summary = services.invitations_dispatch()
    assert summary.outcomes == {"sent": 1}
    assert services.invitations_dispatch().total == 0  # nothing more is due
    (message,) = mail.outbox
    assert message.to == ["maria@example.org"]
    assert message.body.startswith("Hello Maria, the clinic would like to know how you are")
    assert "/q/" in message.body
    for clinical in ("knee", "PRP", "osteoarthritis", "injection", course.patient.mrn):
        assert clinical not in message.body
    baseline = invitation_of(course, "baseline")
    assert (baseline.status, baseline.messages_sent) == ("sent", 1)
    assert baseline.messages.get().outcome == "sent"
    assert len(tokens_in_mail()) == 1
    assert baseline.links.get().digest != tokens_in_mail()[0]  # only a digest is kept


def test_text_messages_go_to_patients_who_chose_them(sms):
    patient = consenting_patient(reminder_channel="sms")
    course_for(patient, first_session_days=5)
    services.invitations_dispatch()
    assert not mail.outbox
    (message,) = sms
    assert message.to == patient.phone and "/q/" in message.body
    assert message.key.startswith("invitation-")


def test_two_chasers_then_the_call_list_then_missed_when_it_closes():
    invitation = due_six_week_invitation()
    now = timezone.now()
    assert act_until(now) == ["sent"]
    assert act_until(now + 2 * DAY) == []
    assert act_until(now + 3 * DAY) == ["sent"]  # first chaser, day 3
    assert act_until(now + 7 * DAY) == ["sent"]  # second chaser, day 7
    assert len(mail.outbox) == 3
    assert "a reminder" in mail.outbox[1].body
    assert not call_list(now=now + 9 * DAY).filter(pk=invitation.pk).exists()
    assert act_until(now + 10 * DAY) == ["listed"]  # the chasers ran out: call them
    assert call_list(now=now + 10 * DAY).filter(pk=invitation.pk).exists()
    invitation.refresh_from_db()
    assert act_until(invitation.closes_at) == ["missed"]
    invitation.refresh_from_db()
    assert (invitation.status, invitation.chase_from, invitation.next_attempt_at) == (
        "missed",
        None,
        None,
    )
    assert list(invitation.messages.order_by("number").values_list("number", flat=True)) == [
        1,
        2,
        3,
    ]


def test_a_patient_without_consent_is_listed_for_a_call_when_due():
    patient = consenting_patient(reminder_consent=False, reminder_consent_on=None)
    invitation = due_six_week_invitation(patient)
    assert services.invitations_dispatch().outcomes == {"skipped": 1}
    assert not mail.outbox
    assert call_list().filter(pk=invitation.pk).exists()
    assert invitation.messages.get().reason == "The patient has not consented to messages."


def test_a_failed_send_is_tried_again_later(settings):
    settings.EMAIL_BACKEND = "tests.questionnaires.test_dispatch.RefusingBackend"
    invitation = due_six_week_invitation()
    now = timezone.now()
    assert act_until(now) == ["failed"]
    invitation.refresh_from_db()
    assert invitation.failed_attempts == 1 and invitation.next_attempt_at > now
    assert not invitation.links.exists()  # the link never left
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert act_until(invitation.next_attempt_at) == ["sent"]
    assert InvitationMessage.objects.filter(invitation=invitation).count() == 2


def test_an_archived_patient_is_not_asked():
    invitation = due_six_week_invitation()
    invitation.patient.archived_at = timezone.now()
    invitation.patient.save()
    assert services.invitations_dispatch().outcomes == {"cancelled": 1}
    assert not mail.outbox


def test_a_pass_never_sends_what_another_holds_or_sent():
    invitation = due_six_week_invitation()
    first = services.invitations_dispatch()
    second = services.invitations_dispatch()
    assert (first.total, second.total, len(mail.outbox)) == (1, 0, 1)
    assert Invitation.objects.get(pk=invitation.pk).messages.filter(outcome="sent").count() == 1


class RefusingBackend:
    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def send_messages(self, messages: list) -> int:
        raise OSError("connection refused")
