"""Reminder rows follow their booking; dispatch sends each due one once, with no clinical detail,
retries failures with backoff, and two dispatches at once never send twice."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.core import mail
from django.db import ProgrammingError, connection, transaction
from django.test import override_settings
from django.utils import timezone

from tests.factories import ClinicianFactory, FollowUpFactory, PatientFactory, clinic_slot
from treatments import services
from treatments.messaging import MemorySmsBackend
from treatments.models import Reminder, ReminderDelivery

URL = "/api/v1/follow-ups/"
MEMORY_SMS = "treatments.messaging.MemorySmsBackend"


def consenting(channel="email", **extra):
    return PatientFactory(
        reminder_channel=channel,
        reminder_consent=True,
        reminder_consent_on=timezone.localdate(),
        **extra,
    )


def book(patient, starts=None, **extra):
    starts = starts or clinic_slot(days_ahead=5, hour=10)
    return services.follow_up_book(
        fields={
            "patient": patient,
            "clinician": extra.pop("clinician", None) or ClinicianFactory(),
            "kind": "post_injection_check",
            "starts_at": starts,
            "ends_at": starts + datetime.timedelta(minutes=30),
            "notes": "Check the knee for swelling after PRP.",
            **extra,
        }
    )


def make_due(queryset):
    """As if the clock had reached the reminders' due time."""
    past = timezone.now() - datetime.timedelta(minutes=1)
    queryset.update(due_at=past, next_attempt_at=past)


@pytest.fixture
def sms_outbox(settings):
    settings.SMS_BACKEND = MEMORY_SMS
    MemorySmsBackend.outbox.clear()
    yield MemorySmsBackend.outbox
    MemorySmsBackend.outbox.clear()


@pytest.fixture(autouse=True)
def clinic_contact(settings):
    settings.CLINIC_NAME = "Riverside Regenerative Clinic"
    settings.CLINIC_ADDRESS = "12 Mill Lane, Leeds"
    settings.CLINIC_PHONE = "+44 113 496 0000"


def pending(follow_up):
    return sorted(
        follow_up.reminders.filter(status="pending").values_list("hours_before", "due_at")
    )


@pytest.mark.django_db
def test_booking_plans_reminders_48_and_24_hours_before(clinician):
    follow_up = book(consenting(), clinician=clinician)
    starts = follow_up.starts_at
    assert pending(follow_up) == [
        (24, starts - datetime.timedelta(hours=24)),
        (48, starts - datetime.timedelta(hours=48)),
    ]


@pytest.mark.django_db
@override_settings(REMINDER_HOURS_BEFORE=[72])
def test_reminder_hours_are_a_setting(clinician):
    follow_up = book(consenting(), clinician=clinician)
    assert pending(follow_up) == [(72, follow_up.starts_at - datetime.timedelta(hours=72))]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "patient",
    [
        lambda: PatientFactory(reminder_channel="email"),  # no consent
        lambda: consenting(channel="none"),
    ],
)
def test_no_reminders_without_consent_or_channel(clinician, patient):
    assert not book(patient(), clinician=clinician).reminders.exists()


@pytest.mark.django_db
def test_reminders_already_past_their_time_are_not_planned(clinician):
    soon = timezone.localtime() + datetime.timedelta(hours=30)
    soon = soon.replace(minute=0, second=0, microsecond=0)
    if soon.hour == 23:  # a booking starts and ends on one day
        soon -= datetime.timedelta(hours=1)
    follow_up = FollowUpFactory.build(patient=consenting(), clinician=clinician)
    follow_up.starts_at, follow_up.ends_at = soon, soon + datetime.timedelta(minutes=30)
    with override_settings(CLINIC_OPENS=datetime.time(0), CLINIC_CLOSES=datetime.time(23, 59)):
        with override_settings(CLINIC_DAYS=[1, 2, 3, 4, 5, 6, 7]):
            services.follow_up_save(follow_up=follow_up)
    assert [hours for hours, _ in pending(follow_up)] == [24]


@pytest.mark.django_db
def test_rescheduling_moves_pending_reminders_and_keeps_sent_ones(api, clinician):
    follow_up = book(consenting(), clinician=clinician)
    old = follow_up.starts_at
    sent = follow_up.reminders.get(hours_before=48)
    Reminder.objects.filter(pk=sent.pk).update(status="sent")
    new = clinic_slot(days_ahead=9, hour=14)
    response = api.post(f"{URL}{follow_up.pk}/reschedule/", {"starts_at": new.isoformat()})
    assert response.status_code == 200, response.json()
    assert response.json()["ends_at"] == (new + datetime.timedelta(minutes=30)).isoformat().replace(
        "+00:00", "Z"
    )
    by_time = {(r.appointment_at, r.hours_before): r.status for r in Reminder.objects.all()}
    assert by_time == {
        (old, 48): "sent",
        (old, 24): "cancelled",
        (new, 48): "pending",
        (new, 24): "pending",
    }


@pytest.mark.django_db
def test_cancelling_a_booking_cancels_its_pending_reminders(api, clinician):
    follow_up = book(consenting(), clinician=clinician)
    assert api.post(f"{URL}{follow_up.pk}/cancel/").status_code == 200
    assert set(follow_up.reminders.values_list("status", flat=True)) == {"cancelled"}


@pytest.mark.django_db
def test_due_email_reminder_is_sent_once_with_no_clinical_detail(clinician):
    patient = consenting(given_name="Aisha", family_name="Rahman")
    follow_up = book(patient, clinician=clinician)
    make_due(follow_up.reminders.filter(hours_before=24))

    assert services.reminders_dispatch().outcomes == {"sent": 1}
    assert services.reminders_dispatch().outcomes == {}

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [patient.email]
    local = timezone.localtime(follow_up.starts_at)
    assert f"{local:%H:%M}" in message.body
    for expected in ("Aisha", "Riverside Regenerative Clinic", "12 Mill Lane", "+44 113 496 0000"):
        assert expected in message.body
    for clinical in ("Rahman", "PRP", "knee", "swelling", "injection", "check"):
        assert clinical.lower() not in (message.subject + message.body).lower()
    reminder = follow_up.reminders.get(hours_before=24)
    assert message.extra_headers["Message-ID"].startswith(f"<reminder-{reminder.pk}@")
    assert reminder.status == "sent"
    delivery = reminder.deliveries.get()
    assert (delivery.outcome, delivery.channel, delivery.attempt) == ("sent", "email", 1)


@pytest.mark.django_db
def test_sms_reminder_goes_through_the_sms_backend(clinician, sms_outbox):
    patient = consenting(channel="sms", given_name="Tomas")
    follow_up = book(patient, clinician=clinician)
    make_due(follow_up.reminders.all())
    assert services.reminders_dispatch().outcomes == {"sent": 2}
    assert [sms.to for sms in sms_outbox] == [patient.phone, patient.phone]
    assert all(sms.body.startswith("Hello Tomas,") for sms in sms_outbox)
    assert mail.outbox == []


@pytest.mark.django_db
def test_withdrawn_consent_is_respected_at_send_time(clinician):
    patient = consenting()
    follow_up = book(patient, clinician=clinician)
    make_due(follow_up.reminders.all())
    patient.reminder_consent = False
    patient.save()
    assert services.reminders_dispatch().outcomes == {"skipped": 2}
    assert mail.outbox == []
    reasons = set(ReminderDelivery.objects.values_list("reason", flat=True))
    assert reasons == {"The patient has not consented to reminders."}


@pytest.mark.django_db
@override_settings(SMS_BACKEND="tests.backends.FailingSmsBackend", REMINDER_MAX_ATTEMPTS=3)
def test_failed_send_is_retried_with_backoff_then_given_up(clinician):
    follow_up = book(consenting(channel="sms"), clinician=clinician)
    reminder = follow_up.reminders.get(hours_before=24)
    follow_up.reminders.exclude(pk=reminder.pk).update(status="cancelled")
    waits = []
    for _ in range(3):
        make_due(Reminder.objects.filter(pk=reminder.pk))
        before = timezone.now()
        assert services.reminders_dispatch().outcomes == {"failed": 1}
        reminder.refresh_from_db()
        waits.append(round((reminder.next_attempt_at - before).total_seconds() / 60))
    assert waits[:2] == [1, 2]  # 1 minute, then 2: doubling
    assert reminder.status == "failed" and reminder.attempts == 3
    deliveries = list(reminder.deliveries.order_by("attempt"))
    assert [d.attempt for d in deliveries] == [1, 2, 3]
    assert {d.reason for d in deliveries} == {"SendFailed: Provider said: number unreachable"}
    make_due(Reminder.objects.filter(pk=reminder.pk))
    assert services.reminders_dispatch().outcomes == {}  # given up


@pytest.mark.django_db
def test_delivery_records_cannot_be_changed_or_removed(clinician):
    follow_up = book(consenting(), clinician=clinician)
    make_due(follow_up.reminders.all())
    services.reminders_dispatch()
    for statement in ("UPDATE {} SET reason = 'x'", "DELETE FROM {}"):
        with pytest.raises(ProgrammingError), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement.format(ReminderDelivery._meta.db_table))
    assert ReminderDelivery.objects.filter(outcome="sent").count() == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_dispatches_at_once_send_each_reminder_once(settings, sms_outbox):
    settings.SMS_BACKEND = "tests.backends.SlowMemorySmsBackend"
    for _ in range(15):
        make_due(book(consenting(channel="sms")).reminders.all())
    assert Reminder.objects.filter(status="pending").count() == 30
    start = threading.Barrier(2)
    results = []

    def dispatch():
        try:
            start.wait()
            results.append(services.reminders_dispatch().outcomes.get("sent", 0))
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(results) == 30 and all(results), results  # both worked, neither twice
    keys = [sms.key for sms in sms_outbox]
    assert len(keys) == len(set(keys)) == 30
    assert ReminderDelivery.objects.filter(outcome="sent").count() == 30
    assert not Reminder.objects.exclude(status="sent").exists()


@pytest.mark.django_db
def test_consent_given_after_booking_adds_the_reminders(api, clinician):
    patient = PatientFactory(reminder_channel="sms")
    follow_up = book(patient, clinician=clinician)
    assert not follow_up.reminders.exists()
    response = api.patch(
        f"/api/v1/patients/{patient.pk}/",
        {"reminder_consent": True, "reminder_consent_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 200, response.json()
    assert [hours for hours, _ in pending(follow_up)] == [24, 48]
    api.patch(f"/api/v1/patients/{patient.pk}/", {"reminder_channel": "none"})
    assert pending(follow_up) == []


@pytest.mark.django_db
def test_the_nightly_run_plans_reminders_for_bookings_that_have_none(clinician):
    soon = clinic_slot(days_ahead=2, hour=15)
    follow_up = FollowUpFactory(
        patient=consenting(),
        clinician=clinician,
        starts_at=soon,
        ends_at=soon + datetime.timedelta(minutes=30),
    )  # written straight to the table: as bookings made before reminders existed
    assert not follow_up.reminders.exists()
    assert services.reminders_plan_upcoming(days=7) == 1  # clinic_slot skips weekends
    expected = [h for h in (24, 48) if soon - datetime.timedelta(hours=h) > timezone.now()]
    assert [hours for hours, _ in pending(follow_up)] == expected
