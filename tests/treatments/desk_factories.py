"""Factories of the front desk's records: waitlist entries, reminder answer links and the
answers given through them."""

from __future__ import annotations

import datetime

import factory
from django.utils import timezone

from tests.factories import FollowUpFactory, PatientFactory
from treatments.models import Answer, AnswerLink, BookingAnswer, FollowUpKind, WaitlistEntry


class WaitlistEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WaitlistEntry

    patient = factory.SubFactory(PatientFactory)
    clinician = None
    kind = FollowUpKind.REVIEW
    minutes = 30
    earliest = factory.LazyFunction(timezone.localdate)
    latest = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=28))


class AnswerLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AnswerLink

    follow_up = factory.SubFactory(FollowUpFactory)
    token_digest = factory.Sequence(lambda n: f"{n:064x}")
    appointment_at = factory.SelfAttribute("follow_up.starts_at")
    expires_at = factory.SelfAttribute("follow_up.ends_at")


class BookingAnswerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BookingAnswer

    link = factory.SubFactory(AnswerLinkFactory)
    follow_up = factory.SelfAttribute("link.follow_up")
    answer = Answer.CONFIRMED
