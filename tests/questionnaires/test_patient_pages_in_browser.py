"""A patient answers NPRS, the global rating of change and the KOOS on a phone-sized Chromium:
one tap per answer and nothing else; no serious or critical axe-core finding on any of the
patient's pages; the scores reach the chart's panel and the outcomes report."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from patients.models import OutcomeScore
from recordkeeping.roles import CLINICIAN
from reports.selectors import ReportFilters, outcomes
from tests.browser import Actions, axe_violations, page_width, screenshot
from tests.factories import OutcomeScoreFactory, UserFactory
from tests.questionnaires.conftest import due_six_week_invitation, link_for

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.browser,
]
PHONE = (375, 812)
# The answers the patient gives, by item code; every other KOOS item "Mild" (1).
CHOSEN = {"NOW": 5, "WORST": 7, "AVERAGE": 4, "GRC": 4}


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
    own = {
        (r["instrument"], r["time_point"]) for r in outcomes(ReportFilters(patient_reported=True))
    }
    assert own == {("koos_pain", "6w")}
    chart = Client()
    chart.force_login(UserFactory(username="dr.chart", role=CLINICIAN))
    page = chart.get(f"/patients/{course.patient_id}/").content.decode()
    assert "Questionnaires" in page and "Completed" in page


def test_a_link_that_cannot_be_opened_is_plain_and_accessible(browser, live_server):
    browser.set_window_size(*PHONE)
    browser.get(f"{live_server.url}/q/{'A' * 32}/")
    assert browser.find_element(By.TAG_NAME, "h1").text == "This link cannot be opened"
    assert axe_violations(browser) == []
    screenshot(browser, "questionnaire-phone-unavailable", *PHONE)
