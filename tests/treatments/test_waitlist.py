"""The waitlist: a patient waits for a clinician (or any), a visit and a range of days; a freed
slot is offered to the entries it fits, first added first; booking one goes through the same
rules as any booking, and nothing changes when it is refused."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from recordkeeping.errors import Clash
from recordkeeping.roles import FRONT_DESK
from tests.factories import (
    ClinicianFactory,
    FollowUpFactory,
    PatientFactory,
    UserFactory,
    clinic_slot,
)
from tests.treatments.desk_factories import WaitlistEntryFactory
from treatments import schedule, services
from treatments.models import FollowUp, WaitlistEntry

pytestmark = pytest.mark.django_db


def test_a_slot_is_offered_to_the_entries_it_fits_first_added_first():
    clinician = ClinicianFactory()
    start = clinic_slot(3, 10)
    day = timezone.localdate(start)
    fits_any = WaitlistEntryFactory(patient__family_name="Any")
    fits_mine = WaitlistEntryFactory(patient__family_name="Mine", clinician=clinician)
    WaitlistEntryFactory(patient__family_name="Other", clinician=ClinicianFactory())
    WaitlistEntryFactory(patient__family_name="Long", minutes=45)
    WaitlistEntryFactory(
        patient__family_name="Later",
        earliest=day + datetime.timedelta(days=1),
        latest=day + datetime.timedelta(days=9),
    )
    WaitlistEntryFactory(patient__family_name="Gone", status="withdrawn")
    found = schedule.waitlist_for_slot(
        clinician_id=clinician.pk, starts_at=start, ends_at=start + datetime.timedelta(minutes=30)
    )
    assert found == [fits_any, fits_mine]


def test_booking_an_entry_books_the_patient_for_its_length_and_marks_it_booked():
    clinician = ClinicianFactory()
    entry = WaitlistEntryFactory(minutes=20, kind="next_injection")
    start = clinic_slot(3, 11)
    booked = services.waitlist_book(entry=entry, clinician_id=clinician.pk, starts_at=start)
    follow_up = booked.follow_up
    assert booked.status == "booked"
    assert (follow_up.patient, follow_up.clinician, follow_up.kind) == (
        entry.patient,
        clinician,
        "next_injection",
    )
    assert (follow_up.status, follow_up.ends_at - follow_up.starts_at) == (
        "scheduled",
        datetime.timedelta(minutes=20),
    )


def test_a_waitlist_booking_over_another_is_refused_and_nothing_changes():
    clinician = ClinicianFactory()
    start = clinic_slot(3, 11)
    FollowUpFactory(
        clinician=clinician, starts_at=start, ends_at=start + datetime.timedelta(minutes=30)
    )
    entry = WaitlistEntryFactory()
    with pytest.raises((ValidationError, Clash), match="already booked"):
        services.waitlist_book(
            entry=entry, clinician_id=clinician.pk, starts_at=start + datetime.timedelta(minutes=15)
        )
    entry.refresh_from_db()
    assert entry.status == "waiting" and entry.follow_up is None
    assert FollowUp.objects.count() == 1


def test_an_entry_for_one_clinician_is_not_booked_with_another():
    entry = WaitlistEntryFactory(clinician=ClinicianFactory())
    with pytest.raises(ValidationError, match="another clinician"):
        services.waitlist_book(
            entry=entry, clinician_id=ClinicianFactory().pk, starts_at=clinic_slot(3, 9)
        )
    entry.refresh_from_db()
    assert entry.status == "waiting"


def test_an_entry_booked_or_withdrawn_is_not_booked_again():
    entry = services.waitlist_book(
        entry=WaitlistEntryFactory(), clinician_id=ClinicianFactory().pk, starts_at=clinic_slot(3)
    )
    with pytest.raises(ValidationError, match="no longer waiting"):
        services.waitlist_book(
            entry=entry, clinician_id=ClinicianFactory().pk, starts_at=clinic_slot(4)
        )
    with pytest.raises(ValidationError, match="no longer waiting"):
        services.waitlist_withdraw(entry=entry)
    assert FollowUp.objects.count() == 1


def test_a_patient_waits_only_for_a_clinician_and_for_days_in_order():
    today = timezone.localdate()
    fields = {"patient": PatientFactory(), "kind": "review", "minutes": 30, "earliest": today}
    with pytest.raises(ValidationError) as refused:
        services.waitlist_add(fields=fields | {"latest": today - datetime.timedelta(days=1)})
    assert "latest" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.waitlist_add(
            fields=fields | {"latest": today, "clinician": UserFactory(role=FRONT_DESK)}
        )
    assert "clinician" in refused.value.message_dict
    assert not WaitlistEntry.objects.exists()
