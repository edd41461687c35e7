from __future__ import annotations

import datetime
from decimal import Decimal

import factory
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from patients.models import Condition, Instrument, OutcomeScore, Patient, TimePoint
from recordkeeping.choices import BodyRegion, Laterality
from recordkeeping.roles import CLINICIAN
from treatments.models import (
    Activation,
    Addendum,
    Anaesthetic,
    Anticoagulant,
    DeliveryChannel,
    DeliveryOutcome,
    ExosomeSource,
    FollowUp,
    FollowUpKind,
    FollowUpRule,
    Injectate,
    InjectateKind,
    InjectionSession,
    InjectionSite,
    Relatedness,
    Reminder,
    ReminderDelivery,
    Reporter,
    SessionStatus,
    SideEffect,
    SideEffectKind,
    Tissue,
    TreatmentCourse,
    TreatmentKind,
)

TODAY = timezone.localdate


def open_day(days_ahead: int) -> datetime.date:
    """The ``days_ahead``-th day the clinic opens (``CLINIC_DAYS``) after today, counting only
    open days: different ``days_ahead`` are different days, in their order, whichever day of the
    week the tests run on (moving a closed day on to the next open one would land Saturday's
    and Sunday's slots on Monday's)."""
    day = timezone.localdate()
    for _ in range(days_ahead):
        day += datetime.timedelta(days=1)
        while day.isoweekday() not in settings.CLINIC_DAYS:
            day += datetime.timedelta(days=1)
    return day


def clinic_slot(days_ahead: int = 3, hour: int = 10, minute: int = 0) -> datetime.datetime:
    """``hour:minute`` on the ``days_ahead``-th open day after today (see ``open_day``)."""
    day = open_day(days_ahead)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def earlier_today(*, minutes: int) -> datetime.datetime:
    """``minutes`` ago, or the start of today when that was yesterday: "earlier today" for a
    test run in the first minutes after midnight too."""
    now = timezone.localtime()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return max(now - datetime.timedelta(minutes=minutes), midnight)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    first_name = "Sam"
    last_name = factory.Sequence(lambda n: f"Staff{n}")
    is_staff = True
    password = factory.django.Password("correct horse battery")

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))


class ClinicianFactory(UserFactory):
    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        if create:
            self.groups.add(Group.objects.get(name=extracted or CLINICIAN))


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    given_name = "Maria"
    family_name = factory.Sequence(lambda n: f"Okafor{n}")
    birth_date = datetime.date(1968, 5, 17)
    phone = "+447700900123"
    email = "maria@example.org"


class ConditionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Condition

    patient = factory.SubFactory(PatientFactory)
    icd10_code = "M17.1"
    label = "Primary osteoarthritis of knee"
    body_region = BodyRegion.KNEE
    laterality = Laterality.RIGHT
    onset_date = datetime.date(2023, 3, 1)


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TreatmentCourse

    patient = factory.SubFactory(PatientFactory)
    condition = factory.SubFactory(ConditionFactory, patient=factory.SelfAttribute("..patient"))
    planned_treatment = TreatmentKind.PRP
    planned_sessions = 3
    planned_interval_weeks = 4
    start_date = factory.LazyFunction(lambda: TODAY() - datetime.timedelta(days=60))


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InjectionSession

    patient = factory.SubFactory(PatientFactory)
    course = None
    clinician = factory.SubFactory(ClinicianFactory)
    performed_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=7))
    status = SessionStatus.COMPLETED
    consent_obtained = True
    pre_pain_score = 6

    class Params:
        signed = factory.Trait(
            signed_by=factory.SelfAttribute("clinician"),
            signed_at=factory.LazyFunction(timezone.now),
        )


class InjectateFactory(factory.django.DjangoModelFactory):
    """A dextrose injectate; use the ``prp`` and ``exosome`` traits for the others."""

    class Meta:
        model = Injectate

    session = factory.SubFactory(SessionFactory)
    line = factory.Sequence(lambda n: n % 20 + 1)
    kind = InjectateKind.DEXTROSE
    volume_ml = Decimal("10.0")
    product_name = "Dextrose 50%"
    lot_number = "D12345"
    expiry_date = factory.LazyFunction(lambda: TODAY() + datetime.timedelta(days=365))
    dextrose_pct = Decimal("15.0")
    anaesthetic = Anaesthetic.LIDOCAINE
    anaesthetic_pct = Decimal("0.50")

    class Params:
        prp = factory.Trait(
            kind=InjectateKind.PRP,
            volume_ml=Decimal("5.0"),
            product_name="PRP",
            dextrose_pct=None,
            anaesthetic="",
            anaesthetic_pct=None,
            whole_blood_ml=Decimal("30.0"),
            prp_system="ACP Double Syringe",
            spins=2,
            anticoagulant=Anticoagulant.ACD_A,
            activation=Activation.NONE,
            platelet_count=1100,
            baseline_platelet_count=250,
        )
        exosome = factory.Trait(
            kind=InjectateKind.EXOSOME,
            volume_ml=Decimal("2.0"),
            product_name="ExoFlo",
            lot_number="EX001-2026",
            dextrose_pct=None,
            anaesthetic="",
            anaesthetic_pct=None,
            exosome_source=ExosomeSource.UMBILICAL_CORD,
        )


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InjectionSite

    session = factory.SubFactory(SessionFactory)
    injectate = factory.SubFactory(InjectateFactory, session=factory.SelfAttribute("..session"))
    line = factory.Sequence(lambda n: n % 50 + 1)
    body_region = BodyRegion.KNEE
    structure = "Medial collateral ligament"
    snomed_code = "56716000"
    tissue = Tissue.LIGAMENT
    laterality = Laterality.RIGHT
    volume_ml = Decimal("2.0")
    needle_gauge = 25


class SideEffectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SideEffect

    session = factory.SubFactory(SessionFactory)
    kind = SideEffectKind.PAIN_FLARE
    grade = 1
    onset_date = factory.LazyAttribute(lambda o: timezone.localdate(o.session.performed_at))
    relatedness = Relatedness.PROBABLE
    reported_by = Reporter.PATIENT


class FollowUpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowUp

    patient = factory.SubFactory(PatientFactory)
    clinician = factory.SubFactory(ClinicianFactory)
    kind = FollowUpKind.POST_INJECTION_CHECK
    # Half hours from 09:00 to 17:00 on the 3rd to 12th open days ahead, then round again: a
    # clinician is never booked twice unless one test makes 160 follow-ups of theirs, and
    # bookings stay within about two weeks however many follow-ups the tests before made.
    starts_at = factory.Sequence(
        lambda n: clinic_slot(3 + n // 16 % 10, 9 + n % 16 // 2, n % 2 * 30)
    )
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(minutes=30))


class ReminderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reminder

    follow_up = factory.SubFactory(FollowUpFactory)
    hours_before = 24
    appointment_at = factory.SelfAttribute("follow_up.starts_at")
    due_at = factory.LazyAttribute(lambda o: o.appointment_at - datetime.timedelta(hours=24))
    next_attempt_at = factory.SelfAttribute("due_at")


class DeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReminderDelivery

    reminder = factory.SubFactory(ReminderFactory)
    key = factory.Sequence(lambda n: f"delivery-{n}")
    attempt = 1
    channel = DeliveryChannel.SMS
    outcome = DeliveryOutcome.SENT


class FollowUpRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowUpRule

    name = factory.Sequence(lambda n: f"Check {n}")
    kind = FollowUpKind.POST_INJECTION_CHECK
    days_after = 14


class OutcomeScoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutcomeScore

    patient = factory.SubFactory(PatientFactory)
    course = factory.SubFactory(CourseFactory, patient=factory.SelfAttribute("..patient"))
    instrument = Instrument.NPRS
    score = Decimal("6.0")
    time_point = TimePoint.BASELINE
    measured_on = factory.LazyFunction(lambda: TODAY() - datetime.timedelta(days=30))


class AddendumFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Addendum

    session = factory.SubFactory(SessionFactory, signed=True)
    author = factory.SelfAttribute("session.clinician")
    text = "Volume at site 2 was 3 mL, not 4 mL."
