"""The staff's side in Chromium at a laptop's 1366 x 768: the front desk's list of patients to
call and the tablet's start, and the questionnaire panel on a clinician's chart; no serious or
critical axe-core finding, no sideways scroll."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By

from questionnaires import services
from questionnaires.models import Invitation
from recordkeeping.roles import CLINICIAN, FRONT_DESK
from tests.browser import axe_violations, page_width, screenshot, sign_in
from tests.factories import FollowUpFactory, UserFactory
from tests.questionnaires.conftest import due_six_week_invitation

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
PASSWORD = "correct horse battery"


def test_the_call_list_and_the_chart_panel_on_a_laptop(browser, live_server):
    listed = due_six_week_invitation()
    Invitation.objects.filter(pk=listed.pk).update(
        status="sent", messages_sent=3, chase_from=timezone.now(), sent_at=timezone.now()
    )
    booked = due_six_week_invitation()
    FollowUpFactory(
        patient=booked.patient,
        starts_at=timezone.now() + datetime.timedelta(hours=1),
        ends_at=timezone.now() + datetime.timedelta(hours=1, minutes=30),
        status="confirmed",
    )
    services.invitation_complete(
        invitation=booked, new_problem=True, problem_text="A bruise that is still there."
    )
    desk = UserFactory(username="desk.chase", role=FRONT_DESK)
    browser.set_window_size(1366, 768)
    sign_in(browser, live_server.url, desk.username, PASSWORD)
    browser.get(f"{live_server.url}/questionnaires/chase/")
    table = browser.find_element(By.CSS_SELECTOR, "table.list").text
    assert listed.patient.family_name in table and "Not called yet" in table
    assert axe_violations(browser) == []
    assert page_width(browser) <= 1366
    screenshot(browser, "questionnaires-chase-list")

    browser.delete_all_cookies()
    doctor = UserFactory(username="dr.panel", role=CLINICIAN)
    sign_in(browser, live_server.url, doctor.username, PASSWORD)
    browser.get(f"{live_server.url}/patients/{booked.patient_id}/")
    panel = browser.find_element(By.CSS_SELECTOR, "section.questionnaires")
    assert "A bruise that is still there." in panel.text and "Completed" in panel.text
    browser.execute_script("arguments[0].scrollIntoView()", panel)
    assert axe_violations(browser) == []
    assert page_width(browser) <= 1366
    screenshot(browser, "questionnaires-chart-panel")
