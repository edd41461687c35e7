"""A patient answers their reminder on a phone (375 px wide, Chromium): confirms with one tap,
cancels (and is asked once more), is asked to call when it is too late to cancel, and a wrong
link gets a page that tells nothing. Each page passes axe-core."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import Actions, axe_violations, gone, page_width, screenshot
from tests.factories import ClinicianFactory, PatientFactory, clinic_slot
from treatments import services
from treatments.models import FollowUp

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
PHONE = (375, 812)


def booked(days_ahead: int, given_name: str) -> FollowUp:
    patient = PatientFactory(
        given_name=given_name,
        reminder_channel="sms",
        reminder_consent=True,
        reminder_consent_on=timezone.localdate(),
    )
    starts = clinic_slot(days_ahead=days_ahead, hour=10)
    return services.follow_up_book(
        fields={
            "patient": patient,
            "clinician": ClinicianFactory(),
            "kind": "review",
            "starts_at": starts,
            "ends_at": starts + datetime.timedelta(minutes=30),
        }
    )


def link(follow_up: FollowUp, base: str) -> str:
    token = services.answer_link_issue(reminder=follow_up.reminders.first())
    return f"{base}/answer/{token}/"


def tap(browser, actions: Actions, css: str, what: str) -> None:
    page = browser.find_element(By.TAG_NAME, "html")
    actions.click(browser.find_element(By.CSS_SELECTOR, css), what)
    WebDriverWait(browser, 10).until(gone(page))


def heading(browser) -> str:
    return browser.find_element(By.TAG_NAME, "h1").text


def test_a_patient_answers_their_reminder_on_a_phone(live_server, browser, settings):
    settings.CLINIC_NAME, settings.CLINIC_PHONE = "Harbour Clinic", "+441179000000"
    settings.CLINIC_ADDRESS = "3 Quay Street, Bristol"
    settings.LATE_CANCEL_HOURS = 24
    browser.set_window_size(*PHONE)
    # Three open days ahead or more: the reminders (48 and 24 hours before) are still to come
    # whatever the hour the test runs at, so each booking has its reminder and link.
    confirming, cancelling = booked(3, "Tomas"), booked(4, "Ana")
    late = booked(3, "Jon")

    # Confirm: the link opened, one tap.
    browser.get(link(confirming, live_server.url))
    assert heading(browser) == "Hello Tomas"
    assert "3 Quay Street, Bristol" in browser.find_element(By.TAG_NAME, "main").text
    assert axe_violations(browser) == []
    assert page_width(browser) <= PHONE[0]
    screenshot(browser, "answer-ask", *PHONE)
    actions = Actions()
    tap(browser, actions, "button[value=confirmed]", "Confirm")
    assert "your appointment is confirmed" in browser.find_element(By.CSS_SELECTOR, ".done").text
    assert actions.total == 1
    confirming.refresh_from_db()
    assert confirming.status == "confirmed"
    assert axe_violations(browser) == []
    screenshot(browser, "answer-confirmed", *PHONE)

    # The same link again: it no longer works, and says no more than a made-up one.
    browser.refresh()
    used = browser.find_element(By.TAG_NAME, "main").text
    browser.get(f"{live_server.url}/answer/made-up:link/")
    assert browser.find_element(By.TAG_NAME, "main").text == used
    assert heading(browser) == "This link does not work"
    assert axe_violations(browser) == []
    screenshot(browser, "answer-unknown", *PHONE)

    # Cancel: asked once more, then cancelled.
    browser.get(link(cancelling, live_server.url))
    actions = Actions()
    tap(browser, actions, "button[value=cancel]", "Cancel")
    assert "Cancel this appointment?" in browser.find_element(By.TAG_NAME, "main").text
    assert axe_violations(browser) == []
    assert page_width(browser) <= PHONE[0]
    screenshot(browser, "answer-ask-cancel", *PHONE)
    tap(browser, actions, "button[value=cancelled]", "Yes, cancel it")
    assert "Your appointment is cancelled." in browser.find_element(By.CSS_SELECTOR, ".done").text
    cancelling.refresh_from_db()
    assert cancelling.status == "cancelled" and actions.total == 2

    # Too late to cancel here: asked to call; nothing changes. (The late window is stretched
    # over the days ahead, so the booking three days ahead is inside it.)
    settings.LATE_CANCEL_HOURS = 24 * 30
    browser.get(link(late, live_server.url))
    actions = Actions()
    tap(browser, actions, "button[value=cancel]", "Cancel")
    tap(browser, actions, "button[value=cancelled]", "Yes, cancel it")
    said = browser.find_element(By.CSS_SELECTOR, ".late").text
    assert "It is too late to cancel here" in said and "+441179000000" in said
    late.refresh_from_db()
    assert late.status == "scheduled"
    assert list(late.answers.values_list("answer", flat=True)) == ["late_cancel"]
    assert axe_violations(browser) == []
    assert page_width(browser) <= PHONE[0]
    screenshot(browser, "answer-late-cancel", *PHONE)
