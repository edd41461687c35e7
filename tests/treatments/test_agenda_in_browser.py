"""The front desk works the day's agenda in a real browser: checks a patient in, books a
proposal, and opens a free slot as a prefilled booking form."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from recordkeeping.roles import CLINICIAN, FRONT_DESK
from tests.browser import gone
from tests.conftest import admin_login
from tests.factories import FollowUpFactory, UserFactory
from treatments.models import FollowUp


def click_and_wait(browser, element) -> None:
    """Click a button that submits a form, and wait for the next page."""
    page = browser.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(browser, 10).until(gone(page))


pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_front_desk_checks_in_and_books_from_the_agenda(live_server, browser, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Open all day, every day, so that "today" is bookable whenever this runs.
    settings.CLINIC_OPENS, settings.CLINIC_CLOSES = datetime.time(0), datetime.time(23, 59)
    settings.CLINIC_DAYS = [1, 2, 3, 4, 5, 6, 7]
    UserFactory(username="desk.amal", password="correct horse battery", role=FRONT_DESK)
    clinician = UserFactory(first_name="Ines", last_name="Duarte", role=CLINICIAN)
    now = timezone.localtime().replace(second=0, microsecond=0)
    start = now.replace(minute=0) if now.hour < 22 else now.replace(hour=21, minute=0)
    arriving = FollowUpFactory(
        clinician=clinician,
        patient__family_name="Lindqvist",
        starts_at=start,
        ends_at=start + datetime.timedelta(minutes=30),
    )
    proposal = FollowUpFactory(
        clinician=clinician,
        patient__family_name="Okonjo",
        status="proposed",
        starts_at=start + datetime.timedelta(hours=1),
        ends_at=start + datetime.timedelta(hours=1, minutes=30),
    )

    admin_login(browser, live_server.url, "desk.amal", "correct horse battery")
    browser.get(f"{live_server.url}/admin/treatments/followup/")
    click_and_wait(
        browser, browser.find_element(By.CSS_SELECTOR, ".object-tools a[href$='/agenda/']")
    )
    assert "Ines Duarte" in browser.find_element(By.ID, f"clinician-{clinician.pk}").text

    row = browser.find_element(By.ID, f"follow-up-{arriving.pk}")
    assert "Lindqvist" in row.text and "Scheduled" in row.text
    click_and_wait(browser, row.find_element(By.XPATH, ".//button[.='Check in']"))
    row = browser.find_element(By.ID, f"follow-up-{arriving.pk}")
    assert row.find_element(By.CSS_SELECTOR, ".status").text == "Checked in"
    assert "Checked in: 1." in browser.find_element(By.CSS_SELECTOR, ".messagelist").text

    book = browser.find_element(By.ID, f"follow-up-{proposal.pk}").find_element(
        By.XPATH, ".//button[.='Book']"
    )
    click_and_wait(browser, book)
    row = browser.find_element(By.ID, f"follow-up-{proposal.pk}")
    assert row.find_element(By.CSS_SELECTOR, ".status").text == "Scheduled"
    assert dict(FollowUp.objects.values_list("pk", "status")) == {
        arriving.pk: "checked_in",
        proposal.pk: "scheduled",
    }

    free = browser.find_elements(By.CSS_SELECTOR, ".free-slots a")
    assert free, "free slots are listed"
    chosen = free[-1].text
    click_and_wait(browser, free[-1])
    assert "/admin/treatments/followup/add/" in browser.current_url
    assert browser.find_element(By.NAME, "starts_at_1").get_attribute("value").startswith(chosen)
