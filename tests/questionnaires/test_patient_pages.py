"""The patient's pages: opened from the link, one question at a time, each answer saved as it
is given, a patient who comes back carries on, and the last answer turns the answers into
outcome scores marked patient-reported, which the chart and the outcomes report read."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.utils import timezone

from patients.models import OutcomeScore
from questionnaires import services
from questionnaires.models import Answer, ProblemReport, Response
from recordkeeping.models import AccessLogEntry
from reports.selectors import ReportFilters, outcomes
from tests.factories import OutcomeScoreFactory
from tests.questionnaires.conftest import (
    consenting_patient,
    course_for,
    due_six_week_invitation,
    invitation_of,
    link_for,
)

pytestmark = pytest.mark.django_db


def answer_all(client: Client, token: str, value_of=lambda step: 1) -> int:
    """Answer every question from the first, as the patient taps; the number of questions."""
    response = client.get(f"/q/{token}/")
    number = 0
    while response.status_code == 302 and f"/q/{token}/" in response["Location"]:
        location = response["Location"]
        if not location.rstrip("/").split("/")[-1].isdigit():
            return number
        page = client.get(location)
        assert page.status_code == 200
        number = int(location.rstrip("/").split("/")[-1])
        options = [o.value for o in page.context["step"].item.options.all()]
        value = value_of(page.context["step"])
        assert value in options
        response = client.post(location, {"answer": value})
    return number


def test_the_link_opens_the_first_question_with_the_clinic_and_the_first_name_only():
    invitation = due_six_week_invitation()
    token = link_for(invitation)
    client = Client()
    response = client.get(f"/q/{token}/")
    assert response.status_code == 302 and response["Location"] == f"/q/{token}/1/"
    page = client.get(f"/q/{token}/1/")
    text = page.content.decode()
    assert "Hello Maria" in text and "the clinic" in text
    assert "Your pain right now" in text and "Question 1 of 47" in text
    patient = invitation.patient
    for private in (patient.family_name, patient.mrn, "1968", patient.email, "knee"):
        assert private not in text
    invitation.refresh_from_db()
    assert invitation.status == "opened" and invitation.opened_at


def test_each_answer_is_saved_at_once_and_a_returning_patient_carries_on():
    invitation = due_six_week_invitation()
    token = link_for(invitation)
    client = Client()
    client.get(f"/q/{token}/")
    assert client.post(f"/q/{token}/1/", {"answer": 7})["Location"] == f"/q/{token}/2/"
    assert client.post(f"/q/{token}/2/", {"answer": 9})["Location"] == f"/q/{token}/3/"
    assert dict(Answer.objects.values_list("item__code", "value")) == {"NOW": 7, "WORST": 9}
    # The connection drops; later, from the same link, the patient lands on question 3.
    assert Client().get(f"/q/{token}/")["Location"] == f"/q/{token}/3/"
    # Going back shows the answer given, and changing it keeps one answer.
    back = Client().get(f"/q/{token}/1/")
    assert 'class="option chosen"' in back.content.decode()
    Client().post(f"/q/{token}/1/", {"answer": 5})
    assert Answer.objects.get(item__code="NOW").value == 5


def test_an_answer_that_is_not_an_option_is_refused_with_the_field_named():
    token = link_for(due_six_week_invitation())
    response = Client().post(f"/q/{token}/1/", {"answer": 11})
    assert response.status_code == 400
    assert "Choose one of the answers." in response.content.decode()
    response = Client().post(f"/q/{token}/1/", {"answer": "seven"})
    assert response.status_code == 400
    assert not Answer.objects.exists()


def test_finishing_makes_patient_reported_scores_at_the_time_point():
    invitation = due_six_week_invitation()
    token = link_for(invitation)
    client = Client()
    values = {"NOW": 4, "WORST": 6, "AVERAGE": 3, "GRC": 5}
    asked = answer_all(client, token, lambda step: values.get(step.item.code, 1))
    assert asked == 46  # NPRS 3, global change 1, KOOS 42
    last = client.post(f"/q/{token}/problem/", {"problem": "no"})
    assert last["Location"] == "/q/done/"
    assert "Thank you" in client.get("/q/done/").content.decode()
    scores = {
        s.instrument: (s.score, s.time_point, s.patient_reported, s.recorded_by_id)
        for s in OutcomeScore.objects.filter(course=invitation.course)
    }
    today = timezone.localdate()
    assert scores == {
        "nprs": (Decimal("3.0"), "6w", True, None),
        "grc": (Decimal("5.0"), "6w", True, None),
        **{
            f"koos_{s}": (Decimal("75.0"), "6w", True, None)
            for s in ("pain", "symptoms", "adl", "sport", "qol")
        },
    }
    assert set(OutcomeScore.objects.values_list("measured_on", flat=True)) == {today}
    invitation.refresh_from_db()
    assert (invitation.status, invitation.new_problem) == ("completed", False)
    assert Response.objects.filter(invitation=invitation, completed_at__isnull=False).count() == 3
    # A used link gets the page every bad link gets.
    assert Client().get(f"/q/{token}/").status_code == 404


def test_the_baseline_asks_no_rating_of_change_and_ends_with_the_last_answer():
    course = course_for(region="hip", first_session_days=5)
    invitation = invitation_of(course, "baseline")
    token = link_for(invitation)
    client = Client()
    assert answer_all(client, token, lambda step: 2) == 43  # NPRS 3, HOOS 40
    invitation.refresh_from_db()
    assert invitation.status == "completed"
    assert set(OutcomeScore.objects.filter(course=course).values_list("instrument", flat=True)) == {
        "nprs",
        "hoos_pain",
        "hoos_symptoms",
        "hoos_adl",
        "hoos_sport",
        "hoos_qol",
    }


def test_a_new_problem_becomes_an_item_to_review_on_the_chart_not_a_side_effect(clinician):
    invitation = due_six_week_invitation()
    token = link_for(invitation)
    client = Client()
    answer_all(client, token)
    details = client.post(f"/q/{token}/problem/", {"problem": "yes"})
    assert "Please tell us about the new problem" in details.content.decode()
    done = client.post(
        f"/q/{token}/problem/", {"problem": "yes", "text": "  The knee swelled for three days.  "}
    )
    assert done["Location"] == "/q/done/"
    report = ProblemReport.objects.get()
    assert (report.text, report.patient, report.reviewed_at) == (
        "The knee swelled for three days.",
        invitation.patient,
        None,
    )
    assert not invitation.course.sessions.get().side_effects.exists()
    panel = render_panel(invitation.patient)
    assert "New problems to review" in panel and "The knee swelled for three days." in panel
    staff = Client()
    staff.force_login(clinician)
    reviewed = staff.post(
        f"/questionnaires/problems/{report.pk}/reviewed/",
        {"note": "Phoned: settled.", "next": "/patients/1/"},
    )
    assert reviewed.status_code == 302
    report.refresh_from_db()
    assert (report.reviewed_by, report.review_note) == (clinician, "Phoned: settled.")
    assert "New problems to review" not in render_panel(invitation.patient)


def test_only_clinicians_review_new_problems(front_desk):
    invitation = due_six_week_invitation()
    services.invitation_complete(invitation=invitation, new_problem=True, problem_text="Rash")
    report = ProblemReport.objects.get()
    desk = Client()
    desk.force_login(front_desk)
    assert desk.post(f"/questionnaires/problems/{report.pk}/reviewed/").status_code == 403
    assert Client().post(f"/questionnaires/problems/{report.pk}/reviewed/").status_code == 302
    report.refresh_from_db()
    assert report.reviewed_at is None


def render_panel(patient) -> str:
    request = RequestFactory().get("/patients/1/")
    template = Template('{% include "questionnaires/chart_panel.html" %}')
    return template.render(Context({"patient": patient, "request": request}))


def test_the_charts_panel_shows_each_time_points_state():
    course = course_for(first_session_days=5)
    services.invitations_dispatch()  # the baseline goes out
    panel = render_panel(course.patient)
    assert "Questionnaires" in panel
    rows = panel.split("<tr>")[2:]
    assert [row.split("<td>")[1].split("<")[0] for row in rows] == [
        "Baseline",
        "6 weeks",
        "3 months",
        "6 months",
        "12 months",
        "24 months",
    ]
    assert "Sent" in rows[0] and "Planned" in rows[1]


def test_a_score_staff_recorded_at_the_time_point_is_kept():
    invitation = due_six_week_invitation()
    staff_score = OutcomeScoreFactory(
        patient=invitation.patient,
        course=invitation.course,
        instrument="nprs",
        time_point="6w",
        score=Decimal("4"),
    )
    for item, value in (("AVERAGE", 2),):
        item = invitation_questions_item(invitation, item)
        services.answer_save(invitation=invitation, item=item, value=value)
    services.invitation_complete(invitation=invitation, new_problem=False)
    assert OutcomeScore.objects.get(course=invitation.course, instrument="nprs") == staff_score
    score = Response.objects.get(questionnaire__code="nprs").scores.get()
    assert score.value == Decimal("2.0") and score.outcome_score is None
    assert "theirs is kept" in score.note


def invitation_questions_item(invitation, code):
    from questionnaires.models import Item

    questionnaire = "grc" if code == "GRC" else "nprs"
    return Item.objects.prefetch_related("options").get(
        questionnaire__code=questionnaire, code=code
    )


def test_patient_reported_changes_reach_the_outcomes_report_and_its_filter():
    course = course_for(first_session_days=-43)  # 6 weeks open; the baseline is long closed
    six_weeks = invitation_of(course, "6w")
    # The baseline answered on the tablet before the first injection, 43 days ago.
    OutcomeScoreFactory(
        patient=course.patient,
        course=course,
        instrument="nprs",
        time_point="baseline",
        score=Decimal("7"),
        measured_on=timezone.localdate() - datetime.timedelta(days=43),
        patient_reported=True,
    )
    token = link_for(six_weeks)
    client = Client()
    answer_all(client, token, lambda step: 3 if step.item.code == "AVERAGE" else 1)
    client.post(f"/q/{token}/problem/", {"problem": "no"})
    row = next(r for r in outcomes(ReportFilters(patient_reported=True)) if r["time_point"] == "6w")
    assert (row["instrument"], row["courses"], row["median_change"]) == ("nprs", 1, Decimal("-4.0"))
    # A course whose baseline staff typed is not in the patient-reported report.
    other = course_for(first_session_days=-43)
    OutcomeScoreFactory(patient=other.patient, course=other, instrument="nprs", score=8)
    OutcomeScoreFactory(
        patient=other.patient, course=other, instrument="nprs", time_point="6w", score=5
    )
    everyone = {
        r["time_point"]: r["courses"]
        for r in outcomes(ReportFilters())
        if r["instrument"] == "nprs"
    }
    patients_own = {
        r["time_point"]: r["courses"]
        for r in outcomes(ReportFilters(patient_reported=True))
        if r["instrument"] == "nprs"
    }
    assert everyone["6w"] == 2 and patients_own["6w"] == 1


def test_every_open_and_answer_is_in_the_access_log_without_the_secret():
    invitation = due_six_week_invitation()
    token = link_for(invitation)
    client = Client(REMOTE_ADDR="198.51.100.7")
    client.get(f"/q/{token}/")
    client.get(f"/q/{token}/1/")
    client.post(f"/q/{token}/1/", {"answer": 4})
    entries = list(
        AccessLogEntry.objects.filter(action__startswith="questionnaire.").order_by("id")
    )
    assert [(e.action, e.method, e.patient_ids, e.ip) for e in entries] == [
        ("questionnaire.open", "GET", [invitation.patient_id], "198.51.100.7"),
        ("questionnaire.open", "GET", [invitation.patient_id], "198.51.100.7"),
        ("questionnaire.answer", "POST", [invitation.patient_id], "198.51.100.7"),
    ]
    assert all(token not in e.path and "[link]" in e.path for e in entries)


def test_the_api_shows_a_patient_reported_score_as_such_and_refuses_to_change_it(api):
    invitation = due_six_week_invitation()
    item = invitation_questions_item(invitation, "AVERAGE")
    services.answer_save(invitation=invitation, item=item, value=3)
    services.invitation_complete(invitation=invitation, new_problem=False)
    score = OutcomeScore.objects.get(instrument="nprs")
    body = api.get(f"/api/v1/outcomes/{score.pk}/").json()
    assert body["patient_reported"] is True and body["recorded_by"] is None
    refused = api.patch(f"/api/v1/outcomes/{score.pk}/", {"score": "1"}, format="json")
    assert refused.status_code == 400 and "score" in refused.json()["errors"]
    score.refresh_from_db()
    assert score.score == Decimal("3.0")


def test_a_patient_with_no_first_name_shows_nothing_else_instead():
    patient = consenting_patient(given_name="Ife")
    token = link_for(due_six_week_invitation(patient))
    assert "Hello Ife" in Client().get(f"/q/{token}/1/").content.decode()


def test_a_patient_who_skips_to_the_end_completes_with_no_scores():
    invitation = due_six_week_invitation()
    token = link_for(invitation)
    done = Client().post(f"/q/{token}/problem/", {"problem": "no"})
    assert done["Location"] == "/q/done/"
    invitation.refresh_from_db()
    assert invitation.status == "completed"
    assert not OutcomeScore.objects.filter(course=invitation.course).exists()
    notes = set(invitation.responses.values_list("scores__note", flat=True))
    assert notes == {"Too few questions answered for a score."}
