"""Courses with invitations in the states the tests need, and the links patients open."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core import mail
from django.utils import timezone

from questionnaires import services
from questionnaires.models import Invitation, LinkKind
from tests.factories import (
    ConditionFactory,
    CourseFactory,
    PatientFactory,
    SessionFactory,
    clinic_slot,
)
from treatments.messaging import MemorySmsBackend
from treatments.models import SessionStatus

LINK = re.compile(r"https?://[^\s]+/q/([A-Za-z0-9_-]+)/")


def consenting_patient(**fields):
    defaults = {
        "given_name": "Maria",
        "reminder_channel": "email",
        "reminder_consent": True,
        "reminder_consent_on": timezone.localdate(),
    }
    return PatientFactory(**(defaults | fields))


def course_for(patient=None, *, region="knee", treatment="prp", first_session_days=7):
    """A course recorded today whose first session is ``first_session_days`` from now (planned)
    or ago (completed); planned by the database as it is written."""
    patient = patient or consenting_patient()
    condition = ConditionFactory(patient=patient, body_region=region)
    course = CourseFactory(
        patient=patient,
        condition=condition,
        planned_treatment=treatment,
        start_date=timezone.localdate() - datetime.timedelta(days=max(-first_session_days, 0)),
    )
    if first_session_days > 0:
        SessionFactory(
            course=course,
            patient=patient,
            status=SessionStatus.PLANNED,
            performed_at=clinic_slot(first_session_days),
            pre_pain_score=None,
        )
    else:
        SessionFactory(
            course=course,
            patient=patient,
            status=SessionStatus.COMPLETED,
            performed_at=timezone.now() + datetime.timedelta(days=first_session_days),
            pre_pain_score=7,
        )
    return course


def invitation_of(course, time_point: str) -> Invitation:
    return Invitation.objects.select_related("patient", "course").get(
        course=course, time_point=time_point
    )


def due_six_week_invitation(patient=None, **course_fields) -> Invitation:
    """The 6-week invitation of a course whose first injection was 43 days ago: due since
    yesterday morning, open for four weeks more."""
    return invitation_of(course_for(patient, first_session_days=-43, **course_fields), "6w")


def link_for(invitation: Invitation, kind: str = LinkKind.MESSAGE) -> str:
    """A new link's secret, as a message or the tablet would carry it."""
    return services.link_issue(invitation=invitation, kind=kind, now=timezone.now())[1]


def tokens_in_mail() -> list[str]:
    return [token for message in mail.outbox for token in LINK.findall(message.body)]


@pytest.fixture
def sms(settings):
    settings.SMS_BACKEND = "treatments.messaging.MemorySmsBackend"
    MemorySmsBackend.outbox.clear()
    yield MemorySmsBackend.outbox
    MemorySmsBackend.outbox.clear()
