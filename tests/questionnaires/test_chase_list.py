"""The front desk's list of patients to call (who and how to reach them, not their answers),
the calls they record, and the tablet at check-in."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from questionnaires import services
from questionnaires.models import Invitation, InvitationCall
from tests.factories import FollowUpFactory
from tests.questionnaires.conftest import due_six_week_invitation

pytestmark = pytest.mark.django_db


def chasers_ran_out() -> Invitation:
    """A 6-week invitation sent, chased twice and listed for a call; answered in part."""
    invitation = due_six_week_invitation()
    now = timezone.now()
    for days in (0, 3, 7, 10):
        while services.invitation_act_next(now=now + datetime.timedelta(days=days)):
            pass
    invitation.refresh_from_db()
    assert invitation.chase_from is not None and invitation.messages_sent == 3
    Invitation.objects.filter(pk=invitation.pk).update(chase_from=now)  # on the list today
    return invitation


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_front_desk_sees_whom_to_call_and_how_not_the_answers(front_desk):
    invitation = chasers_ran_out()
    page = signed_in(front_desk).get("/questionnaires/chase/")
    text = page.content.decode()
    patient = invitation.patient
    assert page.status_code == 200
    assert f"{patient.family_name}, {patient.given_name}" in text
    assert patient.phone in text and patient.mrn in text
    assert "6 weeks, due" in text and "Not called yet" in text
    for clinical in ("knee", "PRP", "KOOS", "pain"):
        assert clinical not in text


def test_a_call_is_recorded_and_a_patient_who_declines_is_not_asked_again(front_desk):
    invitation = chasers_ran_out()
    desk = signed_in(front_desk)
    desk.post(f"/questionnaires/{invitation.pk}/call/", {"outcome": "no_answer"})
    assert "No answer or message left" in desk.get("/questionnaires/chase/").content.decode()
    desk.post(f"/questionnaires/{invitation.pk}/call/", {"outcome": "declined"})
    invitation.refresh_from_db()
    assert (invitation.status, invitation.ended_reason) == (
        "missed",
        "Declined to answer when called.",
    )
    assert InvitationCall.objects.filter(invitation=invitation).count() == 2
    assert "Nobody to call." in desk.get("/questionnaires/chase/").content.decode()


def test_an_unknown_call_outcome_is_refused_naming_it(front_desk):
    invitation = chasers_ran_out()
    desk = signed_in(front_desk)
    page = desk.post(f"/questionnaires/{invitation.pk}/call/", {"outcome": "maybe"}, follow=True)
    assert "is not a valid choice" in page.content.decode()
    assert not InvitationCall.objects.exists()


def test_the_front_desk_reads_no_answers_in_the_admin(front_desk, clinician):
    desk, doctor = signed_in(front_desk), signed_in(clinician)
    assert desk.get("/admin/questionnaires/response/").status_code == 403
    assert desk.get("/admin/questionnaires/problemreport/").status_code == 403
    assert doctor.get("/admin/questionnaires/response/").status_code == 200
    invitation = chasers_ran_out()
    page = desk.get(f"/admin/questionnaires/invitation/{invitation.pk}/change/")
    assert page.status_code == 200 and "New problem" not in page.content.decode()


def test_the_tablet_opens_a_booked_patients_questionnaire_and_signs_the_desk_out(front_desk):
    invitation = due_six_week_invitation()
    FollowUpFactory(
        patient=invitation.patient,
        starts_at=timezone.now() + datetime.timedelta(hours=1),
        ends_at=timezone.now() + datetime.timedelta(hours=1, minutes=30),
        status="checked_in",
    )
    desk = signed_in(front_desk)
    listed = desk.get("/questionnaires/chase/").content.decode()
    assert "Start on this tablet" in listed
    started = desk.post(f"/questionnaires/{invitation.pk}/tablet/")
    assert started.status_code == 302 and started["Location"].startswith("/q/")
    first = desk.get(started["Location"])
    assert first.status_code == 302
    assert "Hello Maria" in desk.get(first["Location"]).content.decode()
    # Nothing of the workspace is open behind the patient.
    assert desk.get("/questionnaires/chase/").status_code == 302
    assert invitation.links.get().kind == "kiosk"


def test_a_questionnaire_not_yet_due_is_not_opened_on_the_tablet(front_desk):
    invitation = due_six_week_invitation()
    later = Invitation.objects.get(course=invitation.course, time_point="3m")
    desk = signed_in(front_desk)
    page = desk.post(f"/questionnaires/{later.pk}/tablet/", follow=True)
    assert "This questionnaire is not due yet." in page.content.decode()
    assert not later.links.exists()
