"""A clinician logs a session in a real browser: rows added with "Add another" get numbers."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from recordkeeping.roles import CLINICIAN
from tests.conftest import admin_login
from tests.factories import PatientFactory, UserFactory
from treatments.models import InjectionSession

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def fill(driver, name: str, value: str) -> None:
    field = driver.find_element(By.NAME, name)
    field.clear()
    field.send_keys(value)


def choose(driver, name: str, value: str) -> None:
    Select(driver.find_element(By.NAME, name)).select_by_value(value)


def fill_row(driver, prefix: str, values: dict[str, str]) -> None:
    """Fill the fields of one inline row, picking from lists where the field is one."""
    for field, value in values.items():
        name = f"{prefix}-{field}"
        if driver.find_element(By.NAME, name).tag_name == "select":
            choose(driver, name, value)
        else:
            fill(driver, name, value)


def site(injectate_line: str, structure: str, tissue: str, volume: str) -> dict[str, str]:
    return {
        "injectate_line": injectate_line,
        "body_region": "knee",
        "structure": structure,
        "tissue": tissue,
        "laterality": "left",
        "volume_ml": volume,
    }


def test_clinician_logs_a_session_with_added_rows(live_server, browser, settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    UserFactory(username="dr.ives", password="correct horse battery", role=CLINICIAN)
    patient = PatientFactory(family_name="Lindqvist")
    admin_login(browser, live_server.url, "dr.ives", "correct horse battery")

    browser.get(f"{live_server.url}/admin/treatments/injectionsession/add/?patient={patient.pk}")
    assert "Lindqvist" in browser.find_element(By.ID, "id_patient").get_attribute("innerHTML")
    choose(browser, "status", "completed")
    browser.find_element(By.NAME, "consent_obtained").click()
    fill(browser, "pre_pain_score", "6")

    # Injectate 1 (the blank row the page opens with): dextrose.
    assert browser.find_element(By.NAME, "injectates-0-line").get_attribute("value") == "1"
    choose(browser, "injectates-0-kind", "dextrose")
    fill(browser, "injectates-0-volume_ml", "10")
    fill(browser, "injectates-0-lot_number", "D777")
    expiry = (timezone.localdate() + datetime.timedelta(days=90)).isoformat()
    fill(browser, "injectates-0-expiry_date", expiry)
    section = browser.find_elements(By.XPATH, "//summary[contains(., 'Dextrose and local')]")[0]
    section.click()
    fill(browser, "injectates-0-dextrose_pct", "15")
    # Injectate 2, added with "Add another": numbered 2 by the page.
    browser.find_element(By.CSS_SELECTOR, "#injectates-group .add-row a").click()
    assert browser.find_element(By.NAME, "injectates-1-line").get_attribute("value") == "2"
    choose(browser, "injectates-1-kind", "saline")
    fill(browser, "injectates-1-volume_ml", "5")

    # Two sites, one per injectate.
    fill_row(browser, "sites-0", site("1", "Medial collateral ligament", "ligament", "4"))
    browser.find_element(By.CSS_SELECTOR, "#sites-group .add-row a").click()
    assert browser.find_element(By.NAME, "sites-1-line").get_attribute("value") == "2"
    fill_row(browser, "sites-1", site("2", "Knee joint", "intra_articular", "5"))

    # A side effect at the first site.
    browser.find_element(By.CSS_SELECTOR, "#side_effects-group .add-row a").click()
    fill_row(
        browser,
        "side_effects-0",
        {
            "kind": "pain_flare",
            "grade": "1",
            "onset_date": timezone.localdate().isoformat(),
            "relatedness": "probable",
            "outcome": "recovering",
            "reported_by": "patient",
            "site_line": "1",
        },
    )
    browser.save_screenshot(str(tmp_path / "session-form.png"))

    browser.find_element(By.NAME, "_save").click()
    message = browser.find_element(By.CSS_SELECTOR, ".messagelist").text
    assert "was added successfully" in message, browser.page_source[:3000]
    session = InjectionSession.objects.get(patient=patient)
    assert [(i.line, i.kind) for i in session.injectates.all()] == [(1, "dextrose"), (2, "saline")]
    assert [(s.line, s.injectate.line) for s in session.sites.all()] == [(1, 1), (2, 2)]
    assert session.side_effects.get().site.structure == "Medial collateral ligament"
