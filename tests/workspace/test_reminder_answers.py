"""The patient's page behind a reminder's link: first name, time, clinic, address and phone,
nothing clinical; Confirm and Cancel; the same answer for a wrong, expired or used link; a
limit on requests per address; every answer in the access log and on the desk's grid."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from recordkeeping.models import AccessLogEntry
from recordkeeping.roles import FRONT_DESK
from tests.factories import ClinicianFactory, PatientFactory, UserFactory, clinic_slot
from treatments import services
from treatments.models import AnswerLink

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clinic(settings):
    settings.CLINIC_NAME = "Harbour Clinic"
    settings.CLINIC_ADDRESS = "3 Quay Street, Bristol"
    settings.CLINIC_PHONE = "+441179000000"
    settings.LATE_CANCEL_HOURS = 24


def booked(*, days_ahead: int = 3, kind: str = "next_injection"):
    patient = PatientFactory(
        given_name="Tomas",
        family_name="Lindqvist",
        reminder_channel="sms",
        reminder_consent=True,
        reminder_consent_on=timezone.localdate(),
    )
    starts = clinic_slot(days_ahead=days_ahead, hour=10)
    return services.follow_up_book(
        fields={
            "patient": patient,
            "clinician": ClinicianFactory(),
            "kind": kind,
            "starts_at": starts,
            "ends_at": starts + datetime.timedelta(minutes=30),
            "notes": "Bring the knee brace; PRP second injection.",
        }
    )


def link_of(follow_up) -> str:
    token = services.answer_link_issue(reminder=follow_up.reminders.first())
    return reverse("reminder-answer", kwargs={"token": token})


def words(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_the_page_shows_first_name_time_clinic_and_phone_and_nothing_clinical():
    follow_up = booked()
    page = Client().get(link_of(follow_up))
    assert page.status_code == 200
    said = words(page)
    start = timezone.localtime(follow_up.starts_at)
    assert "Hello Tomas" in said
    assert f"{start:%A} {start.day} {start:%B}" in said and f"{start:%H:%M}" in said
    assert "Harbour Clinic" in said and "3 Quay Street, Bristol" in said and "+441179000000" in said
    for private in ("Lindqvist", follow_up.patient.mrn, "PRP", "knee", "injection", "1968"):
        assert private not in said, private


def test_confirm_is_one_tap_and_the_link_then_answers_like_a_wrong_one():
    follow_up = booked()
    url = link_of(follow_up)
    client = Client()
    confirmed = client.post(url, {"answer": "confirmed"})
    assert confirmed.status_code == 200
    assert "your appointment is confirmed" in words(confirmed)
    follow_up.refresh_from_db()
    assert follow_up.status == "confirmed"
    used = client.get(url)
    wrong = client.get(reverse("reminder-answer", kwargs={"token": "made-up:token"}))
    assert used.status_code == wrong.status_code == 404
    assert used.content == wrong.content
    assert "This link does not work" in words(used)
    assert client.post(url, {"answer": "cancelled"}).content == wrong.content
    follow_up.refresh_from_db()
    assert follow_up.status == "confirmed"


def test_an_expired_link_answers_like_a_wrong_one():
    follow_up = booked()
    url = link_of(follow_up)
    AnswerLink.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    expired = Client().get(url)
    wrong = Client().get(reverse("reminder-answer", kwargs={"token": "x" * 40}))
    assert expired.status_code == 404 and expired.content == wrong.content


def test_cancel_asks_once_more_then_cancels_and_the_grid_shows_the_time_freed():
    follow_up = booked(days_ahead=3)
    url = link_of(follow_up)
    client = Client()
    asked = client.post(url, {"answer": "cancel"})
    assert "Cancel this appointment?" in words(asked)
    follow_up.refresh_from_db()
    assert follow_up.status == "scheduled"
    cancelled = client.post(url, {"answer": "cancelled"})
    assert "Your appointment is cancelled." in words(cancelled)
    follow_up.refresh_from_db()
    assert follow_up.status == "cancelled"
    desk = Client()
    desk.force_login(UserFactory(role=FRONT_DESK))
    grid = words(
        desk.get(
            reverse("workspace:desk"),
            {
                "date": timezone.localdate(follow_up.starts_at).isoformat(),
                "clinician": follow_up.clinician_id,
                "cancelled": "1",
            },
        )
    )
    assert "Lindqvist, Tomas" in grid and "Cancelled by the patient" in grid


def test_a_late_cancel_asks_the_patient_to_call_and_the_desk_sees_the_request(settings):
    follow_up = booked(days_ahead=3)
    url = link_of(follow_up)
    settings.LATE_CANCEL_HOURS = 24 * 30  # every appointment is now "less than a day away"
    late = Client().post(url, {"answer": "cancelled"})
    said = words(late)
    assert late.status_code == 200
    assert "It is too late to cancel here" in said and "+441179000000" in said
    follow_up.refresh_from_db()
    assert follow_up.status == "scheduled"
    desk = Client()
    desk.force_login(UserFactory(role=FRONT_DESK))
    grid = words(
        desk.get(
            reverse("workspace:desk"),
            {
                "date": timezone.localdate(follow_up.starts_at).isoformat(),
                "clinician": follow_up.clinician_id,
            },
        )
    )
    assert "Lindqvist, Tomas 10:00 to 10:30 Scheduled : asked to cancel, call back" in grid


def test_an_answer_the_page_does_not_offer_is_refused_and_nothing_changes():
    follow_up = booked()
    refused = Client().post(link_of(follow_up), {"answer": "delete"})
    assert refused.status_code == 400 and "Choose Confirm or Cancel." in words(refused)
    follow_up.refresh_from_db()
    assert follow_up.status == "scheduled" and not follow_up.answers.exists()


def test_too_many_requests_from_one_address_are_refused_whatever_the_link(settings):
    settings.ANSWER_RATE_LIMIT = 3
    follow_up = booked()
    url = link_of(follow_up)
    client = Client(REMOTE_ADDR="198.51.100.7")
    for _ in range(3):
        client.get(reverse("reminder-answer", kwargs={"token": "guess"}))
    limited = client.post(url, {"answer": "confirmed"})
    assert limited.status_code == 429 and "Please wait a few minutes" in words(limited)
    assert limited["Retry-After"] == str(settings.ANSWER_RATE_WINDOW_SECONDS)
    follow_up.refresh_from_db()
    assert follow_up.status == "scheduled"
    elsewhere = Client(REMOTE_ADDR="198.51.100.8").post(url, {"answer": "confirmed"})
    assert elsewhere.status_code == 200


def test_each_answer_is_in_the_access_log_with_the_patient_and_without_the_secret():
    follow_up = booked()
    url = link_of(follow_up)
    Client().get(url)
    Client().post(url, {"answer": "confirmed"})
    Client().get(reverse("reminder-answer", kwargs={"token": "guess"}))
    entries = AccessLogEntry.objects.filter(action__startswith="reminder.answer").order_by("id")
    assert [e.action for e in entries] == [
        "reminder.answer.ask",
        "reminder.answer.confirmed",
        "reminder.answer.unknown",
    ]
    assert entries[1].patient_ids == [follow_up.patient_id]
    assert entries[1].username == "patient (reminder link)"
    token = url.split("/")[2]
    assert all(token not in e.path and "guess" not in e.path for e in entries)
