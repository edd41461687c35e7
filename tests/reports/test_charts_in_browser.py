"""Charts drawn in a real browser: a patient's scores over time on the patient page, and the
outcome and safety charts on the reports page. Screenshots go to var/test-artifacts/."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from selenium.webdriver.common.by import By

from recordkeeping.roles import CLINICIAN
from tests.conftest import admin_login
from tests.factories import (
    CourseFactory,
    InjectateFactory,
    OutcomeScoreFactory,
    PatientFactory,
    SessionFactory,
    SideEffectFactory,
    SiteFactory,
    UserFactory,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
ARTIFACTS = Path(settings.VAR_DIR) / "test-artifacts"


def points_of(browser, canvas_id: str) -> dict[str, int]:
    """Data points per dataset of the Chart.js chart drawn on the canvas."""
    return browser.execute_script(
        "const chart = Chart.getChart(document.getElementById(arguments[0]));"
        "return chart ? Object.fromEntries(chart.data.datasets.map("
        "  d => [d.label, d.data.filter(v => v !== null).length])) : null;",
        canvas_id,
    )


def test_clinician_sees_the_charts(live_server, browser, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    clinician = UserFactory(username="dr.ives", password="correct horse battery", role=CLINICIAN)
    patient = PatientFactory(family_name="Lindqvist")
    course = CourseFactory(
        patient=patient, start_date=timezone.localdate() - datetime.timedelta(days=100)
    )
    for days_ago, pain in ((98, 8), (56, 5), (14, 3)):
        session = SessionFactory(
            patient=patient,
            course=course,
            clinician=clinician,
            performed_at=timezone.now() - datetime.timedelta(days=days_ago),
            pre_pain_score=pain,
        )
        InjectateFactory(session=session, prp=True, line=1)
    SideEffectFactory(session=session, kind="bruising")
    OutcomeScoreFactory(
        patient=patient,
        course=course,
        instrument="koos_pain",
        time_point="baseline",
        score=40,
        measured_on=timezone.localdate() - datetime.timedelta(days=98),
    )
    OutcomeScoreFactory(
        patient=patient,
        course=course,
        instrument="koos_pain",
        time_point="6w",
        score=55,
        measured_on=timezone.localdate() - datetime.timedelta(days=56),
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    admin_login(browser, live_server.url, "dr.ives", "correct horse battery")

    browser.get(f"{live_server.url}/admin/patients/patient/{patient.pk}/change/")
    canvas = browser.find_element(By.ID, "score-chart")
    assert canvas.size["height"] > 100
    assert points_of(browser, "score-chart") == {
        "NPRS pain (0-10)": 3,
        "KOOS pain (0-100)": 2,
        "Sessions": 3,
    }
    canvas.screenshot(str(ARTIFACTS / "patient-scores.png"))

    browser.get(f"{live_server.url}/admin/reports/")
    outcome = points_of(browser, "outcome-chart")
    assert outcome["NPRS pain (0-10)"] >= 1 and outcome["KOOS pain (0-100)"] == 1
    assert points_of(browser, "safety-chart") == {"Grade 1": 1}
    browser.save_screenshot(str(ARTIFACTS / "reports.png"))


def test_an_asked_recall_opens_the_reports_page_on_a_laptop_screen(live_server, browser, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    UserFactory(username="dr.ives", password="correct horse battery", role=CLINICIAN)
    for family_name in ("Lindqvist", "Osei", "Tanaka"):
        session = SessionFactory(patient=PatientFactory(family_name=family_name))
        injectate = InjectateFactory(
            session=session, exosome=True, lot_number="EX-RECALL-1", line=1
        )
        SiteFactory(session=session, injectate=injectate, line=1)
        SideEffectFactory(session=session, kind="swelling", grade=2)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.set_window_size(1366, 768)

    admin_login(browser, live_server.url, "dr.ives", "correct horse battery")
    browser.get(f"{live_server.url}/admin/reports/?lot_number=EX-RECALL-1")
    browser.save_screenshot(str(ARTIFACTS / "reports-recall.png"))
    viewport = browser.execute_script("return [window.innerWidth, window.innerHeight]")
    first_row = browser.find_element(By.CSS_SELECTOR, "#recall + p + table tbody tr")
    assert first_row.text.startswith("Lindqvist, Maria")
    assert "Right knee: Medial collateral ligament" in first_row.text
    bottom = browser.execute_script("return arguments[0].getBoundingClientRect().bottom", first_row)
    assert bottom < viewport[1], "the recall's first patient shows without scrolling"
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= viewport[0], "nothing to scroll sideways"

    browser.find_element(By.LINK_TEXT, "Safety").click()
    top = browser.execute_script(
        "return document.getElementById('safety').getBoundingClientRect().top"
    )
    assert -1 <= top < 50, "the link brings its section to the top of the window"
    assert "Swelling" in browser.find_element(By.CSS_SELECTOR, "#safety ~ table").text
