"""A patient answers NPRS, the global rating of change and the KOOS on a phone-sized Chromium:
one tap per answer and nothing else; no serious or critical axe-core finding on any of the
patient's pages; the scores reach the clinician's chart (and its questionnaire panel says the
time point is completed) and the outcomes report, also when limited to patient-reported
scores."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from patients.models import OutcomeScore
from questionnaires import services
from questionnaires.models import Item
from recordkeeping.roles import CLINICIAN
from reports.selectors import ReportFilters, outcomes
from tests.browser import Actions, axe_violations, page_width, screenshot, sign_in
from tests.conftest import token_client
from tests.factories import OutcomeScoreFactory, UserFactory
from tests.questionnaires.conftest import (
    course_for,
    due_six_week_invitation,
    invitation_of,
    link_for,
)

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.browser,
]
PHONE = (375, 812)
# The answers the patient gives, by item code; every other KOOS item "Mild" (1).
CHOSEN = {"NOW": 5, "WORST": 7, "AVERAGE": 4, "GRC": 4}
PASSWORD = "correct horse battery"


def tap(browser, actions: Actions, element, what: str) -> None:
    """Tap and wait for the next page to be there."""
    before = browser.current_url
    actions.click(element, what)
    WebDriverWait(browser, 10, poll_frequency=0.05, ignored_exceptions=[WebDriverException]).until(
        lambda b: (
            b.current_url != before and b.execute_script("return document.readyState") == "complete"
        )
    )


def tap_answer(browser, actions: Actions, value: int) -> None:
    button = browser.find_element(By.CSS_SELECTOR, f"button.option[value='{value}']")
    tap(browser, actions, button, f"answer {value}")


def test_a_patient_answers_on_a_phone_with_one_tap_per_answer(browser, live_server):
    invitation = due_six_week_invitation()
    course = invitation.course
    OutcomeScoreFactory(
        patient=course.patient,
        course=course,
        instrument="koos_pain",
        score=Decimal("40"),
        measured_on=timezone.localdate() - datetime.timedelta(days=44),
        patient_reported=True,
    )
    token = link_for(invitation)
    browser.set_window_size(*PHONE)
    actions = Actions()
    browser.get(f"{live_server.url}/q/{token}/")
    assert browser.find_element(By.CLASS_NAME, "hello").text == "Hello Maria"
    assert axe_violations(browser) == []
    screenshot(browser, "questionnaire-phone-first", *PHONE)
    questions = 0
    while "/problem/" not in browser.current_url:
        code = browser.current_url.rstrip("/").split("/")[-1]
        text = browser.find_element(By.CSS_SELECTOR, "legend .text").text
        questions += 1
        if questions == 4:  # the global rating of change: 15 answers in a short scroll
            assert "Compared with before your first injection" in text
            assert axe_violations(browser) == []
            screenshot(browser, "questionnaire-phone-change", *PHONE)
        if questions == 10:  # a KOOS question under its section's instruction
            assert axe_violations(browser) == []
            screenshot(browser, "questionnaire-phone-koos", *PHONE)
        assert page_width(browser) <= PHONE[0]
        item = {1: "NOW", 2: "WORST", 3: "AVERAGE", 4: "GRC"}.get(questions, "KOOS")
        assert code == str(questions)
        tap_answer(browser, actions, CHOSEN.get(item, 1))
    assert axe_violations(browser) == []
    screenshot(browser, "questionnaire-phone-problem", *PHONE)
    tap(browser, actions, browser.find_element(By.CSS_SELECTOR, "button[value='no']"), "no")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Thank you"
    assert axe_violations(browser) == []
    screenshot(browser, "questionnaire-phone-thanks", *PHONE)
    # 46 questions and the new-problem question: a tap each, nothing else.
    assert questions == 46
    assert (actions.clicks, actions.keys, actions.fields) == (47, 0, 0), actions.log
    print(f"\nphone: {questions + 1} questions answered with {actions.total} taps")

    scores = dict(
        OutcomeScore.objects.filter(course=course, time_point="6w").values_list(
            "instrument", "score"
        )
    )
    assert scores["nprs"] == Decimal("4.0") and scores["grc"] == Decimal("4.0")
    assert scores["koos_pain"] == Decimal("75.0")
    # In the outcomes report: NPRS against the first session's pain (7), KOOS pain against the
    # patient's own baseline (40), the latter also among the patient-reported changes.
    changes = {
        (r["instrument"], r["time_point"]): r["median_change"] for r in outcomes(ReportFilters())
    }
    assert changes[("nprs", "6w")] == Decimal("-3.0")
    assert changes[("koos_pain", "6w")] == Decimal("35.0")
    doctor = UserFactory(username="dr.chart", role=CLINICIAN)
    reported = token_client(doctor).get("/api/v1/reports/outcomes/?patient_reported=true").json()
    assert [(r["instrument"], r["time_point"]) for r in reported["rows"]] == [("koos_pain", "6w")]
    assert Decimal(str(reported["rows"][0]["median_change"])) == Decimal("35.0")

    # The clinician's chart: the scores in the instruments' charts, the 6-week point completed.
    browser.delete_all_cookies()
    browser.set_window_size(1366, 768)
    sign_in(browser, live_server.url, doctor.username, PASSWORD)
    browser.get(f"{live_server.url}/patients/{course.patient_id}/")
    today = f"{timezone.localdate():%-d %b %Y}"
    labels = [
        svg.get_attribute("aria-label") for svg in browser.find_elements(By.CSS_SELECTOR, "svg")
    ]
    for title, value in (("NPRS pain", "4"), ("Global rating of change", "4"), ("KOOS pain", "75")):
        assert any(
            label and label.startswith(title) and f"{value} on {today}" in label for label in labels
        ), (title, labels)
    panel = browser.find_element(By.CSS_SELECTOR, "section.questionnaires")
    six_weeks = next(
        row.text
        for row in panel.find_elements(By.CSS_SELECTOR, "tbody tr")
        if row.text.startswith("6 weeks")
    )
    assert f"Completed {today}" in six_weeks


def test_a_link_that_cannot_be_opened_is_plain_and_accessible(browser, live_server):
    browser.set_window_size(*PHONE)
    browser.get(f"{live_server.url}/q/{'A' * 32}/")
    assert browser.find_element(By.TAG_NAME, "h1").text == "This link cannot be opened"
    assert axe_violations(browser) == []
    screenshot(browser, "questionnaire-phone-unavailable", *PHONE)


def test_a_new_problem_told_in_the_patients_words_on_a_phone(browser, live_server):
    invitation = due_six_week_invitation()
    token = link_for(invitation)
    browser.set_window_size(*PHONE)
    actions = Actions()
    browser.get(f"{live_server.url}/q/{token}/problem/")
    # Yes asks what, on the same address.
    actions.click(browser.find_element(By.CSS_SELECTOR, "button[value='yes']"), "yes")
    box = WebDriverWait(browser, 10).until(lambda b: b.find_element(By.ID, "problem-text"))
    assert browser.find_element(By.CSS_SELECTOR, "label[for='problem-text']").is_displayed()
    assert axe_violations(browser) == []
    assert page_width(browser) <= PHONE[0]
    screenshot(browser, "questionnaire-phone-problem-details", *PHONE)
    actions.fill(box, "The knee swelled up two days after the injection.", "what happened")
    tap(browser, actions, browser.find_element(By.CSS_SELECTOR, "button.send"), "send")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Thank you"
    invitation.refresh_from_db()
    assert invitation.status == "completed" and invitation.new_problem is True
    assert invitation.problem_report.text == "The knee swelled up two days after the injection."


def test_a_baseline_answered_in_full_but_not_sent_is_sent_with_one_tap(browser, live_server):
    baseline = invitation_of(course_for(first_session_days=5), "baseline")
    for item in Item.objects.filter(questionnaire__code__in=["nprs", "koos"]):
        services.answer_save(invitation=baseline, item=item, value=2)
    token = link_for(baseline)
    browser.set_window_size(*PHONE)
    browser.get(f"{live_server.url}/q/{token}/")
    assert browser.find_element(By.TAG_NAME, "h1").text == "That was the last question"
    assert axe_violations(browser) == []
    assert page_width(browser) <= PHONE[0]
    screenshot(browser, "questionnaire-phone-finish", *PHONE)
    actions = Actions()
    tap(browser, actions, browser.find_element(By.CSS_SELECTOR, "button.send"), "send")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Thank you"
    assert actions.total == 1
    scores = OutcomeScore.objects.filter(course=baseline.course, time_point="baseline")
    assert dict(scores.values_list("instrument", "score"))["koos_pain"] == Decimal("50.0")
