"""A clinician is never booked twice at once, bookings fall within clinic hours, and two
requests racing for one slot get one booking and one clear refusal."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection
from django.test import override_settings

from tests.factories import ClinicianFactory, FollowUpFactory, PatientFactory, clinic_slot
from treatments.models import FollowUp

URL = "/api/v1/follow-ups/"


def booking(patient, clinician, starts, minutes=30, **extra):
    return {
        "patient": patient.pk,
        "clinician": clinician.pk,
        "kind": "review",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + datetime.timedelta(minutes=minutes)).isoformat(),
    } | extra


@pytest.mark.django_db
def test_overlap_is_refused_naming_the_booking(api):
    existing = FollowUpFactory(starts_at=clinic_slot(hour=10), ends_at=clinic_slot(hour=11))
    response = api.post(
        URL,
        booking(PatientFactory(), existing.clinician, clinic_slot(hour=10, minute=30)),
        format="json",
    )
    assert response.status_code == 400
    message = response.json()["errors"]["starts_at"][0]
    assert f"follow-up {existing.pk}" in message
    assert "is already booked from" in message
    assert FollowUp.objects.count() == 1


@pytest.mark.django_db
def test_back_to_back_and_other_clinicians_are_fine(api):
    existing = FollowUpFactory(starts_at=clinic_slot(hour=10), ends_at=clinic_slot(hour=11))
    after = api.post(
        URL, booking(PatientFactory(), existing.clinician, clinic_slot(hour=11)), format="json"
    )
    assert after.status_code == 201, after.json()
    other = api.post(
        URL, booking(PatientFactory(), ClinicianFactory(), clinic_slot(hour=10)), format="json"
    )
    assert other.status_code == 201, other.json()


@pytest.mark.django_db
def test_a_cancelled_booking_frees_its_time(api):
    existing = FollowUpFactory(starts_at=clinic_slot(hour=14), ends_at=clinic_slot(hour=15))
    assert api.post(f"{URL}{existing.pk}/cancel/").status_code == 200
    response = api.post(
        URL, booking(PatientFactory(), existing.clinician, clinic_slot(hour=14)), format="json"
    )
    assert response.status_code == 201, response.json()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("starts", "minutes", "message"),
    [
        (lambda: clinic_slot(hour=7), 30, "within clinic hours, 08:00 to 18:00"),
        (lambda: clinic_slot(hour=17, minute=45), 30, "within clinic hours"),
        (lambda: saturday(), 30, "The clinic is closed on Saturdays."),
        (lambda: clinic_slot(hour=10), 0, None),
    ],
)
def test_bookings_fall_within_clinic_hours(api, clinician, starts, minutes, message):
    response = api.post(URL, booking(PatientFactory(), clinician, starts(), minutes), format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    if message is None:
        assert errors["ends_at"] == ["A follow-up must end after it starts."]
    else:
        assert message in errors["starts_at"][0]


def saturday() -> datetime.datetime:
    start = clinic_slot(hour=10)
    return start + datetime.timedelta(days=(6 - start.isoweekday()) % 7 or 7)


@pytest.mark.django_db
@override_settings(CLINIC_OPENS=datetime.time(7), CLINIC_DAYS=[1, 2, 3, 4, 5, 6])
def test_clinic_hours_are_a_setting(api, clinician):
    response = api.post(
        URL, booking(PatientFactory(), clinician, saturday().replace(hour=7)), format="json"
    )
    assert response.status_code == 201, response.json()


@pytest.mark.django_db
def test_a_booking_that_loses_the_race_gets_409_naming_the_winner(api, clinician, monkeypatch):
    """The request that validated before the other committed is stopped by the database's
    exclusion constraint and answered 409, naming the booking that won."""
    winner = FollowUpFactory(
        clinician=clinician, starts_at=clinic_slot(hour=9), ends_at=clinic_slot(hour=10)
    )
    check = FollowUp.clashing_booking
    calls = []

    def not_yet_committed(self):
        calls.append(self)
        # The serializer's and the service's validation ran before the winner committed.
        return None if len(calls) <= 2 else check(self)

    monkeypatch.setattr(FollowUp, "clashing_booking", not_yet_committed)
    response = api.post(
        URL, booking(PatientFactory(), clinician, clinic_slot(hour=9, minute=30)), format="json"
    )
    assert response.status_code == 409
    assert response.json()["title"] == "Conflict"
    assert f"follow-up {winner.pk}" in response.json()["errors"]["starts_at"][0]
    assert FollowUp.objects.filter(clinician=clinician).count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_requests_racing_for_one_slot_get_one_booking(clinician):
    """Two front-desk requests for the same slot at the same moment: one booking is made, the
    other request is refused with a message naming it (400 or 409, depending on timing; when
    both inserts meet in the exclusion check, PostgreSQL ends one in a deadlock, and that one
    is saved again)."""
    from rest_framework.test import APIClient

    from tests.conftest import token_for

    token = token_for(clinician)
    slot = clinic_slot(hour=11)
    bodies = [
        booking(PatientFactory(), clinician, slot),
        booking(PatientFactory(), clinician, slot),
    ]
    start = threading.Barrier(2)
    responses = []

    def post(body):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        try:
            start.wait()
            responses.append(client.post(URL, body, format="json"))
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r.status_code for r in responses)[0] == 201
    refused = [r for r in responses if r.status_code != 201]
    assert len(refused) == 1 and refused[0].status_code in (400, 409)
    winner = FollowUp.objects.get(clinician=clinician)
    assert f"follow-up {winner.pk}" in refused[0].json()["errors"]["starts_at"][0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"starts_after": "2641-07-14T22:45:38+16:05"}, 200),  # beyond PostgreSQL's offsets
        ({"starts_before": "9999-12-31T23:00:00-05:00"}, 400),  # past year 9999 in UTC
        ({"performed_after": "2026-01-01T00:00:00+16:05"}, 200),
    ],
)
def test_any_offset_in_a_date_time_filter_is_read_not_a_500(api, query, status):
    url = "/api/v1/sessions/" if "performed_after" in query else URL
    response = api.get(url, query)
    assert response.status_code == status, response.content[:300]
    if status == 400:
        assert list(query) == list(response.json()["errors"])
