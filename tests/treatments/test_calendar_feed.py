"""Each clinician's bookings as an iCalendar feed behind a secret address that can be replaced."""

from __future__ import annotations

import pytest
from django.test import Client
from icalendar import Calendar
from rest_framework.test import APIClient

from recordkeeping.models import AccessLogEntry
from recordkeeping.roles import CLINIC_ADMIN, FRONT_DESK
from tests.factories import FollowUpFactory, PatientFactory, UserFactory, clinic_slot
from treatments.models import CalendarFeed

pytestmark = pytest.mark.django_db


def issue(api) -> str:
    response = api.post("/api/v1/calendar-feed/")
    assert response.status_code == 201, response.json()
    return response.json()["url"]


def test_feed_holds_the_clinicians_bookings_and_nothing_clinical(api, clinician):
    patient = PatientFactory(given_name="Aisha", family_name="Rahman")
    mine = FollowUpFactory(
        clinician=clinician,
        patient=patient,
        kind="post_injection_check",
        starts_at=clinic_slot(3, 10),
        ends_at=clinic_slot(3, 10, 30),
        notes="PRP left knee, watch for swelling",
    )
    call = FollowUpFactory(
        clinician=clinician,
        kind="phone_call",
        starts_at=clinic_slot(4, 9),
        ends_at=clinic_slot(4, 9, 15),
    )
    FollowUpFactory(clinician=clinician, status="cancelled")
    FollowUpFactory(clinician=clinician, status="proposed")
    FollowUpFactory()  # another clinician's

    response = Client().get(issue(api))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    events = Calendar.from_ical(response.content).walk("VEVENT")
    by_uid = {str(event["UID"]).split("@")[0]: event for event in events}
    assert set(by_uid) == {f"follow-up-{mine.pk}", f"follow-up-{call.pk}"}
    event = by_uid[f"follow-up-{mine.pk}"]
    assert event.decoded("DTSTART") == mine.starts_at
    assert event.decoded("DTEND") == mine.ends_at
    assert str(event["SUMMARY"]) == "Appointment: A.R."
    assert str(by_uid[f"follow-up-{call.pk}"]["SUMMARY"]).startswith("Phone call: ")
    text = response.content.decode().lower()
    for clinical in ("prp", "knee", "swelling", "injection", "check", "rahman", "aisha"):
        assert clinical not in text


def test_a_new_address_replaces_the_old_one(api):
    old = issue(api)
    new = issue(api)
    assert old != new
    assert Client().get(old).status_code == 404
    assert Client().get(new).status_code == 200
    assert Client().get("/calendar/not-a-secret.ics").status_code == 404
    logged = AccessLogEntry.objects.filter(action="calendar.feed").values_list("path", flat=True)
    assert list(logged) == ["/calendar/secret.ics"]  # the secret is not kept in the log


@pytest.mark.parametrize("role", [None, FRONT_DESK, CLINIC_ADMIN])
def test_only_clinicians_get_a_feed(role):
    assert APIClient().post("/api/v1/calendar-feed/").status_code == 401
    client = APIClient()
    client.force_authenticate(UserFactory(username="no-clinician", role=role))
    response = client.post("/api/v1/calendar-feed/")
    assert response.status_code == 403
    assert response.json()["detail"] == "Only clinicians keep a calendar of their bookings."
    assert not CalendarFeed.objects.exists()


def test_event_uids_stay_the_same_under_every_host_name(api, clinician, settings):
    """A calendar app takes an event with a new UID for a new event: a feed read under another
    name of the server would show every booking twice."""
    settings.ALLOWED_HOSTS = ["testserver", "clinic.example.org", "10.0.0.5"]
    settings.FHIR_IDENTIFIER_BASE = "https://records.clinic.example.org/fhir"
    booked = FollowUpFactory(clinician=clinician)
    url = issue(api)

    def uids(host: str) -> list[str]:
        response = Client().get(url, HTTP_HOST=host)
        assert response.status_code == 200
        return [str(event["UID"]) for event in Calendar.from_ical(response.content).walk("VEVENT")]

    assert uids("clinic.example.org") == uids("10.0.0.5:8877")
    assert uids("10.0.0.5:8877") == [f"follow-up-{booked.pk}@records.clinic.example.org"]
    settings.CALENDAR_UID_DOMAIN = "calendar.clinic.example.org"
    assert uids("clinic.example.org") == [f"follow-up-{booked.pk}@calendar.clinic.example.org"]
