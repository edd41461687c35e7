"""Charts drawn in a real browser: a patient's scores over time on the patient page, and the
outcome and safety charts on the reports page. Screenshots go to var/test-artifacts/."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from selenium.webdriver.common.by import By

from clinic.roles import CLINICIAN
from tests.conftest import admin_login
from tests.factories import (
    CourseFactory,
    InjectateFactory,
    OutcomeScoreFactory,
    PatientFactory,
    SessionFactory,
    SideEffectFactory,
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
