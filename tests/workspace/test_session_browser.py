"""The clinician's jobs in headless Chromium at 1366 x 768, each counted in a person's actions:
log the README's PRP + dextrose session from the chart, repeat it with new lots and sign, and
be warned of a site on the wrong side, from the keyboard, with a reload losing nothing."""

from __future__ import annotations

import datetime
import time
from decimal import Decimal
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from recordkeeping.choices import Laterality
from recordkeeping.roles import CLINICIAN
from tests.browser import Actions, axe_violations, gone, page_width, screenshot, sign_in
from tests.factories import (
    ConditionFactory,
    CourseFactory,
    InjectateFactory,
    PatientFactory,
    SessionFactory,
    SiteFactory,
    UserFactory,
)
from tests.stock.factories import DEXTROSE_GTIN, PRP_GTIN, ProductFactory
from treatments import services
from treatments.models import InjectionSession, SessionStatus, SideEffect, TreatmentKind

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.browser,
]
PASSWORD = "correct horse battery"
GS = "\x1d"


class Clinician(Actions):
    """Actions, with picking an option of a list counted as a field filled."""

    def choose(self, element: Any, value: str, what: str = "") -> None:
        Select(element).select_by_value(value)
        self.fields += 1
        self.log.append(f"choose {what or value}")

    def scan(self, browser: Any, element: Any, code: str, what: str = "") -> None:
        """A barcode scanner typing into the field, GS (FNC1) and the closing Enter included:
        chromedriver's typing drops a GS, so the text goes in as typed text (CDP insertText)."""
        element.clear()
        browser.execute_script(
            "arguments[0].scrollIntoView({block: 'center'}); arguments[0].focus();", element
        )
        browser.execute_cdp_cmd("Input.insertText", {"text": code})
        element.send_keys(Keys.ENTER)
        self.fields += 1
        self.log.append(f"scan {what or code!r}")


def wait_for_text(browser: Any, css: str, text: str, timeout: int = 10) -> None:
    WebDriverWait(browser, timeout).until(
        expected_conditions.text_to_be_present_in_element((By.CSS_SELECTOR, css), text)
    )


def wait_for_value(browser: Any, name: str, value: str, timeout: int = 10) -> None:
    WebDriverWait(browser, timeout).until(
        lambda driver: driver.find_element(By.NAME, name).get_attribute("value") == value
    )


def mark_page(browser: Any) -> None:
    """A mark that a full page load wipes: still there, no page was loaded."""
    browser.execute_script("window.__samePage = true;")


def same_page(browser: Any) -> bool:
    return bool(browser.execute_script("return window.__samePage === true;"))


def no_sideways_scroll(browser: Any) -> bool:
    """The page is no wider than the window's inside, its vertical scrollbar left out."""
    inside = browser.execute_script("return document.documentElement.clientWidth")
    return page_width(browser) <= inside <= 1366


def spot(browser: Any, region: str, side: str, view: str = "front") -> Any:
    return browser.find_element(
        By.CSS_SELECTOR,
        f'[data-spot][data-region="{region}"][data-laterality="{side}"][data-view="{view}"]',
    )


def site_row(browser: Any, index: int) -> Any:
    return browser.find_elements(By.CSS_SELECTOR, '[data-rows="sites"] > tr')[index]


def field_of(row: Any, name: str) -> Any:
    return row.find_element(By.CSS_SELECTOR, f'[name$="-{name}"]')


@pytest.fixture
def knee_patient() -> Any:
    """A patient with right knee osteoarthritis on a PRP + dextrose course, presets in stock."""
    patient = PatientFactory(given_name="Ines", family_name="Duarte", allergies="Latex")
    condition = ConditionFactory(patient=patient, laterality=Laterality.RIGHT)
    course = CourseFactory(
        patient=patient, condition=condition, planned_treatment=TreatmentKind.PRP_DEXTROSE
    )
    prp = ProductFactory(prp=True, gtin=PRP_GTIN)
    dextrose = ProductFactory(name="Dextrose 15% with lidocaine 0.5%", gtin=DEXTROSE_GTIN)
    return {"patient": patient, "course": course, "prp": prp, "dextrose": dextrose}


@pytest.fixture
def ada() -> Any:
    return UserFactory(username="dr.ada", role=CLINICIAN, first_name="Ada", last_name="Hale")


def test_a_clinician_logs_the_readme_session_from_the_chart_in_one_page_load(
    browser, live_server, knee_patient, ada
):
    patient, course = knee_patient["patient"], knee_patient["course"]
    sign_in(browser, live_server.url, ada.username, PASSWORD)
    browser.set_window_size(1366, 768)
    browser.get(f"{live_server.url}/patients/{patient.pk}/")
    assert axe_violations(browser) == []
    screenshot(browser, "clinician-chart-empty")
    assert no_sideways_scroll(browser)

    act = Clinician()
    chart = browser.find_element(By.TAG_NAME, "html")
    act.click(browser.find_element(By.CSS_SELECTOR, '[data-action="log-session"]'), "Log a session")
    WebDriverWait(browser, 10).until(gone(chart))
    loads = 1
    mark_page(browser)
    course_select = Select(browser.find_element(By.NAME, "course"))
    assert course_select.first_selected_option.get_attribute("value") == str(course.pk)
    assert "Right knee" in course_select.first_selected_option.text
    clinician = Select(browser.find_element(By.NAME, "clinician"))
    assert clinician.first_selected_option.text == "Ada Hale"
    assert not browser.find_elements(By.NAME, "cancel_reason")
    assert not browser.find_element(By.NAME, "new_condition").is_displayed()

    act.fill(browser.find_element(By.NAME, "pre_pain_score"), "7", "pain before")
    act.choose(browser.find_element(By.NAME, "guidance"), "ultrasound", "guidance")
    act.click(browser.find_element(By.NAME, "consent_obtained"), "consent")

    # PRP from its preset, lot and expiry scanned from a GS1-128 label (no separator: the lot
    # comes last), then the counts measured on the day.
    act.choose(
        browser.find_element(By.CSS_SELECTOR, "[data-add-preset]"),
        str(knee_patient["prp"].pk),
        "PRP preset",
    )
    wait_for_value(browser, "injectates-0-whole_blood_ml", "30.0")
    act.fill(
        browser.find_element(By.NAME, "injectates-0-lot_number"),
        f"]C101{PRP_GTIN}17270630" + "10K20931" + Keys.ENTER,
        "scan the PRP kit",
    )
    wait_for_value(browser, "injectates-0-lot_number", "K20931")
    wait_for_value(browser, "injectates-0-expiry_date", "2027-06-30")
    act.fill(browser.find_element(By.NAME, "injectates-0-platelet_count"), "1100", "platelets")
    act.fill(
        browser.find_element(By.NAME, "injectates-0-baseline_platelet_count"), "240", "baseline"
    )
    # Dextrose: a DataMatrix with the lot before the expiry, so a GS ends the lot.
    act.choose(
        browser.find_element(By.CSS_SELECTOR, "[data-add-preset]"),
        str(knee_patient["dextrose"].pk),
        "dextrose preset",
    )
    wait_for_value(browser, "injectates-1-dextrose_pct", "15.0")
    # Each injectate shows its own kind's values only.
    shown = {
        name: browser.find_element(By.NAME, f"injectates-{name}").is_displayed()
        for name in ("0-spins", "0-dextrose_pct", "1-dextrose_pct", "1-spins", "1-particles_per_ml")
    }
    assert shown == {
        "0-spins": True,
        "0-dextrose_pct": False,
        "1-dextrose_pct": True,
        "1-spins": False,
        "1-particles_per_ml": False,
    }
    act.scan(
        browser,
        browser.find_element(By.NAME, "injectates-1-lot_number"),
        f"]d201{DEXTROSE_GTIN}10D5521{GS}17270131",
        "scan the dextrose",
    )
    wait_for_value(browser, "injectates-1-lot_number", "D5521")
    wait_for_value(browser, "injectates-1-expiry_date", "2027-01-31")

    # Three sites on the right knee, from the body map.
    act.click(spot(browser, "knee", "right"), "right knee")
    row = site_row(browser, 0)
    act.choose(field_of(row, "structure"), "Knee joint", "knee joint")
    assert field_of(row, "snomed_code").get_attribute("value") == "49076000"
    assert Select(field_of(row, "tissue")).first_selected_option.text == "Intra-articular"
    act.fill(field_of(row, "volume_ml"), "5", "site 1 volume")
    act.fill(field_of(row, "needle_gauge"), "22", "site 1 needle")
    act.click(spot(browser, "knee", "right"), "right knee")
    row = site_row(browser, 1)
    act.choose(field_of(row, "structure"), "Medial collateral ligament", "MCL")
    act.choose(field_of(row, "injectate_line"), "2", "dextrose for site 2")
    act.fill(field_of(row, "volume_ml"), "4", "site 2 volume")
    act.click(spot(browser, "knee", "right"), "right knee")
    row = site_row(browser, 2)
    act.choose(field_of(row, "structure"), "Pes anserinus", "pes anserinus")
    assert Select(field_of(row, "injectate_line")).first_selected_option.text == "2"
    act.fill(field_of(row, "volume_ml"), "3", "site 3 volume")
    dots = browser.find_elements(By.CSS_SELECTOR, '[data-dots="front"] .dot')
    assert [dot.text for dot in dots] == ["1", "2", "3"]

    act.click(browser.find_element(By.CSS_SELECTOR, '[data-add-row="effects"]'), "side effect")
    act.choose(browser.find_element(By.NAME, "effects-0-kind"), "pain_flare", "pain flare")
    act.choose(browser.find_element(By.NAME, "effects-0-relatedness"), "probable", "probable")
    act.choose(browser.find_element(By.NAME, "effects-0-outcome"), "recovering", "recovering")
    act.choose(browser.find_element(By.NAME, "effects-0-site_line"), "1", "at site 1")
    assert not browser.find_elements(By.CSS_SELECTOR, ".warning")
    assert axe_violations(browser) == []
    screenshot(browser, "clinician-session-filled")
    assert no_sideways_scroll(browser)

    act.click(browser.find_element(By.CSS_SELECTOR, 'button[name="sign"]'), "Save and sign")
    wait_for_text(browser, "[role=status].saved", "Saved and signed")
    assert same_page(browser), "saving loaded a whole page"
    assert browser.current_url.endswith(f"/sessions/{InjectionSession.objects.get().pk}/")
    print(f"\nREADME session: {act.total} actions, {loads} page load: {act.log}")
    assert act.total <= 30, act.log
    assert loads == 1

    session = InjectionSession.objects.get()
    assert session.signed_by == ada and session.status == SessionStatus.COMPLETED
    assert session.course == course and session.pre_pain_score == 7
    given = {i.line: i for i in session.injectates.all()}
    assert (given[1].kind, given[1].lot_number, given[1].expiry_date) == (
        "prp",
        "K20931",
        datetime.date(2027, 6, 30),
    )
    assert (given[1].whole_blood_ml, given[1].spins, given[1].platelet_count) == (
        Decimal("30.0"),
        2,
        1100,
    )
    assert (given[2].lot_number, given[2].expiry_date, given[2].dextrose_pct) == (
        "D5521",
        datetime.date(2027, 1, 31),
        Decimal("15.0"),
    )
    sites = [(s.line, s.injectate.line, s.structure, s.laterality) for s in session.sites.all()]
    assert sites == [
        (1, 1, "Knee joint", "right"),
        (2, 2, "Medial collateral ligament", "right"),
        (3, 2, "Pes anserinus", "right"),
    ]
    effect = SideEffect.objects.get()
    assert (effect.kind, effect.site.line, effect.recorded_by) == ("pain_flare", 1, ada)
    # The signed page reads as a record: no field to type in, the signature said in words.
    record = browser.find_element(By.CSS_SELECTOR, ".session-record")
    assert "Signed by Ada Hale" in record.text
    assert not record.find_elements(
        By.CSS_SELECTOR, "input:not([type=hidden]):not([name=text]), select"
    )
    assert (
        browser.execute_script(
            "return Object.keys(localStorage).filter(k => k.startsWith('clinic.session-draft'))"
        )
        == []
    )
    assert axe_violations(browser) == []
    screenshot(browser, "clinician-session-signed")
    assert no_sideways_scroll(browser)
    browser.get(f"{live_server.url}/patients/{patient.pk}/")
    assert axe_violations(browser) == []
    screenshot(browser, "clinician-chart")
    assert no_sideways_scroll(browser)


def test_a_clinician_repeats_the_last_session_with_new_lots_and_signs_it(
    browser, live_server, knee_patient, ada
):
    patient, course = knee_patient["patient"], knee_patient["course"]
    last = SessionFactory(
        patient=patient,
        course=course,
        clinician=ada,
        performed_at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(weeks=4),
    )
    prp = InjectateFactory(session=last, line=1, prp=True, lot_number="K1")
    dextrose = InjectateFactory(session=last, line=2, lot_number="D1")
    SiteFactory(
        session=last, injectate=prp, line=1, structure="Knee joint", tissue="intra_articular"
    )
    SiteFactory(session=last, injectate=dextrose, line=2)
    services.session_sign(session=last, clinician=ada)
    sign_in(browser, live_server.url, ada.username, PASSWORD)
    browser.set_window_size(1366, 768)
    browser.get(f"{live_server.url}/patients/{patient.pk}/")

    act = Clinician()
    chart = browser.find_element(By.TAG_NAME, "html")
    act.click(browser.find_element(By.CSS_SELECTOR, '[data-action="repeat-session"]'), "Repeat")
    WebDriverWait(browser, 10).until(gone(chart))
    mark_page(browser)
    assert "Repeated from the session of" in browser.find_element(By.TAG_NAME, "main").text
    assert browser.find_element(By.NAME, "injectates-0-lot_number").get_attribute("value") == ""
    assert len(browser.find_elements(By.CSS_SELECTOR, '[data-rows="sites"] > tr')) == 2
    act.click(browser.find_element(By.NAME, "consent_obtained"), "consent")
    act.fill(browser.find_element(By.NAME, "pre_pain_score"), "5", "pain before")
    act.fill(
        browser.find_element(By.NAME, "injectates-0-lot_number"),
        f"]C101{PRP_GTIN}17280131" + "10K20999" + Keys.ENTER,
        "scan PRP",
    )
    wait_for_value(browser, "injectates-0-lot_number", "K20999")
    act.scan(
        browser,
        browser.find_element(By.NAME, "injectates-1-lot_number"),
        f"01{DEXTROSE_GTIN}10D7000{GS}17271231",
        "scan dextrose",
    )
    wait_for_value(browser, "injectates-1-expiry_date", "2027-12-31")
    act.click(browser.find_element(By.CSS_SELECTOR, 'button[name="sign"]'), "Save and sign")
    wait_for_text(browser, "[role=status].saved", "Saved and signed")
    assert same_page(browser)
    print(f"\nrepeat and sign: {act.total} actions: {act.log}")
    assert act.total <= 10, act.log

    new = InjectionSession.objects.exclude(pk=last.pk).get()
    assert new.is_signed and new.course == course
    assert sorted(new.injectates.values_list("line", "kind", "lot_number")) == [
        (1, "prp", "K20999"),
        (2, "dextrose", "D7000"),
    ]
    assert new.sites.count() == 2


def test_a_wrong_side_site_is_warned_from_the_keyboard_and_a_reload_loses_nothing(
    browser, live_server, knee_patient, ada
):
    patient, course = knee_patient["patient"], knee_patient["course"]
    sign_in(browser, live_server.url, ada.username, PASSWORD)
    browser.set_window_size(1366, 768)
    browser.get(f"{live_server.url}/patients/{patient.pk}/sessions/new/?course={course.pk}")
    # From the keyboard only: Tab to the left knee, Enter adds the site.
    left_knee = spot(browser, "knee", "left")
    browser.execute_script("arguments[0].focus()", spot(browser, "knee", "right"))
    browser.switch_to.active_element.send_keys(Keys.TAB)
    assert browser.switch_to.active_element == left_knee
    left_knee.send_keys(Keys.ENTER)
    wait_for_text(browser, "#site-checks", "left knee")
    shown = browser.find_element(By.CSS_SELECTOR, "#site-checks .warning")
    warning = shown.text
    assert "Primary osteoarthritis of knee (M17.1)" in warning and "right knee" in warning
    # In sight, above the Save bar, without scrolling.
    assert browser.execute_script(
        "const box = arguments[0].getBoundingClientRect();"
        "const bar = document.querySelector('.submit-bar').getBoundingClientRect();"
        "return box.top >= 0 && box.bottom <= bar.top;",
        shown,
    )
    assert browser.switch_to.active_element == field_of(site_row(browser, 0), "structure")
    screenshot(browser, "clinician-session-wrong-side")
    assert no_sideways_scroll(browser)
    assert axe_violations(browser) == []

    # An expired batch is refused at once, beside its expiry.
    Select(browser.find_element(By.CSS_SELECTOR, "[data-add-preset]")).select_by_value(
        str(knee_patient["dextrose"].pk)
    )
    expiry = browser.find_element(By.NAME, "injectates-0-expiry_date")
    expiry.send_keys("01012020")
    browser.find_element(By.NAME, "injectates-0-lot_number").send_keys("OLD1" + Keys.TAB)
    wait_for_text(browser, "#injectates-0-expiry-check", "expired on 01 Jan 2020")
    browser.find_element(By.NAME, "pre_pain_score").send_keys("6")
    browser.find_element(By.NAME, "notes").send_keys("Left knee looked at too.")

    # Enter in any field sends nothing: not a text box, a number, the time, a box to tick,
    # a list or a row's field (the form's own submit event is counted).
    browser.execute_script(
        "window.__sent = 0; document.getElementById('session-form')"
        ".addEventListener('submit', () => { window.__sent += 1; }, true);"
    )
    for name in (
        "pre_pain_score",
        "performed_at",
        "consent_obtained",
        "guidance",
        "injectates-0-volume_ml",
        "sites-0-volume_ml",
        "sites-0-approach",
    ):
        browser.find_element(By.NAME, name).send_keys(Keys.ENTER)
    field_of(site_row(browser, 0), "structure").send_keys(Keys.ENTER)
    time.sleep(0.5)  # time for a send that must not come
    assert browser.execute_script("return window.__sent") == 0
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-error-summary]")
    assert InjectionSession.objects.count() == 0

    # A reload (a dropped connection, a closed tab) brings back what was typed.
    browser.refresh()
    wait_for_text(browser, "[data-draft-notice]", "is back; it is not saved yet")
    assert browser.find_element(By.NAME, "pre_pain_score").get_attribute("value") == "6"
    assert browser.find_element(By.NAME, "notes").get_attribute("value") == (
        "Left knee looked at too."
    )
    row = site_row(browser, 0)
    assert Select(field_of(row, "laterality")).first_selected_option.get_attribute("value") == (
        "left"
    )
    assert browser.find_element(By.NAME, "injectates-0-lot_number").get_attribute("value") == (
        "OLD1"
    )
    wait_for_text(browser, "#site-checks", "left knee")
    # Removing the site takes its warning away.
    row.find_element(By.CSS_SELECTOR, "[data-remove-row]").click()
    WebDriverWait(browser, 10).until(
        lambda driver: not driver.find_elements(By.CSS_SELECTOR, "#site-checks .warning")
    )
    assert InjectionSession.objects.count() == 0
