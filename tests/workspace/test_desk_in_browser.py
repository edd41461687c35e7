"""The front desk's day in Chromium, as a new desk worker does it: the day of four clinicians on
one screen, a booking made in a free time, a proposal placed on the grid in two actions, a
booking dragged to another time and to another clinician and one moved with three keys, a move
onto another booking refused with the message naming it and nothing changed, a cancellation
whose freed time books the first patient waiting in one click; days by keys and date picker, a
clinician's week, the waitlist and the clinicians shown; and a duplicate registration flagged
before saving."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.utils import timezone
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from patients.models import Patient
from recordkeeping.roles import FRONT_DESK
from tests.browser import Actions, axe_violations, gone, page_width, screenshot, sign_in
from tests.factories import ClinicianFactory, FollowUpFactory, PatientFactory, UserFactory, open_day
from tests.treatments.desk_factories import WaitlistEntryFactory
from treatments.models import FollowUp, WaitlistEntry

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
PASSWORD = "correct horse battery"


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def booking(clinician, start, family_name, minutes=30, **fields) -> FollowUp:
    return FollowUpFactory(
        clinician=clinician,
        starts_at=start,
        ends_at=start + datetime.timedelta(minutes=minutes),
        patient__family_name=family_name,
        patient__given_name="Maria",
        **fields,
    )


def wait_for_text(browser, css: str, text: str, seconds: float = 10) -> None:
    try:
        WebDriverWait(browser, seconds).until(
            expected_conditions.text_to_be_present_in_element((By.CSS_SELECTOR, css), text)
        )
    except TimeoutException:
        shown = browser.find_element(By.TAG_NAME, "main").text
        shown = "\n".join(line for line in shown.splitlines() if line != "free")
        raise AssertionError(f"{text!r} not shown in {css}; the page says:\n{shown}") from None


def column(browser, clinician):
    return browser.find_element(By.CSS_SELECTOR, f"[data-column][data-clinician='{clinician.pk}']")


def cell(browser, clinician, time: str):
    return column(browser, clinician).find_element(
        By.CSS_SELECTOR, f"[data-cell][data-at='{time}']"
    )


def row_height(browser, clinician) -> float:
    return browser.execute_script(
        "const c = arguments[0]; return c.getBoundingClientRect().height / "
        "Number(c.closest('[data-grid]').dataset.rows);",
        column(browser, clinician),
    )


def drag(browser, element, dx: float, dy: float) -> None:
    """Press on the booking, move in steps as a hand does, release."""
    chain = ActionChains(browser, duration=50).click_and_hold(element).move_by_offset(0, 8)
    chain.move_by_offset(round(dx / 2), round((dy - 8) / 2))
    chain.move_by_offset(dx - round(dx / 2), dy - 8 - round((dy - 8) / 2))
    chain.release().perform()


def dialog_open(browser):
    return WebDriverWait(browser, 10).until(
        expected_conditions.visibility_of_element_located((By.CSS_SELECTOR, "dialog[open]"))
    )


def starts(follow_up: FollowUp) -> tuple[int, datetime.datetime]:
    follow_up.refresh_from_db()
    return follow_up.clinician_id, timezone.localtime(follow_up.starts_at)


def test_the_front_desk_works_a_day_of_four_clinicians_on_the_grid(live_server, browser):
    day = open_day(2)
    hale = ClinicianFactory(first_name="Ada", last_name="Hale")
    ito = ClinicianFactory(first_name="Ken", last_name="Ito")
    lund = ClinicianFactory(first_name="Noa", last_name="Lund")
    berg = ClinicianFactory(first_name="Ola", last_name="Berg")
    okafor = booking(hale, at(day, 9), "Okafor")
    lindqvist = booking(hale, at(day, 10), "Lindqvist", kind="review", status="confirmed")
    rossi = booking(ito, at(day, 9, 30), "Rossi", kind="next_injection")
    booking(ito, at(day, 15), "Nakamura", minutes=60, kind="next_injection")
    leaving = booking(lund, at(day, 11), "Mbeki", kind="review")
    booking(lund, at(day, 8), "Silva", minutes=15, status="confirmed")
    booking(berg, at(day, 14), "Kowalski", minutes=45)
    booking(berg, at(day, 16, 30), "Haddad", kind="phone_call")
    proposal = booking(ito, at(day, 8, 30), "Tanaka", minutes=20, status="proposed", due_on=day)
    duarte = PatientFactory(given_name="Ines", family_name="Duarte")
    waiting = WaitlistEntryFactory(patient__family_name="Early", patient__given_name="Joao")
    UserFactory(username="desk.amal", role=FRONT_DESK)

    sign_in(browser, live_server.url, "desk.amal", PASSWORD)
    assert browser.current_url.endswith("/desk/")
    browser.set_window_size(1366, 768)
    browser.get(f"{live_server.url}/desk/?date={day.isoformat()}")
    heads = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".col-head")]
    assert heads == ["Ola Berg", "Ada Hale", "Ken Ito", "Noa Lund"]
    assert "Okafor, Maria" in browser.find_element(By.ID, f"follow-up-{okafor.pk}").text
    assert "Confirmed" in browser.find_element(By.ID, f"follow-up-{lindqvist.pk}").text
    # The whole day, 08:00 to 18:00, on a laptop's screen: no scrolling, neither the page nor
    # the grid, and nothing beyond its width.
    fits = browser.execute_script(
        "const g = document.querySelector('[data-grid-scroll]');"
        "return [document.documentElement.scrollHeight, window.innerHeight,"
        " g.scrollHeight, g.clientHeight, g.getBoundingClientRect().bottom];"
    )
    assert fits[0] <= fits[1] and fits[2] <= fits[3] and fits[4] <= fits[1], fits
    assert page_width(browser) <= 1366
    screenshot(browser, "desk-day")
    assert axe_violations(browser) == []

    # Book a free time: the time, the patient, Book.
    actions = Actions()
    actions.click(cell(browser, hale, "11:00"), "a free time")
    dialog = dialog_open(browser)
    assert "With Ada Hale" in dialog.text
    actions.fill(dialog.find_element(By.ID, "book-search"), "duarte", "the patient")
    wait_for_text(browser, "#book-patients", "Duarte, Ines")
    assert axe_violations(browser) == []
    screenshot(browser, "desk-book-dialog")
    actions.click(dialog.find_element(By.CSS_SELECTOR, "[data-action=book]"), "Book")
    wait_for_text(browser, "[data-notice]", "Booked Ines Duarte")
    booked = FollowUp.objects.get(patient=duarte)
    assert (booked.clinician, timezone.localtime(booked.starts_at)) == (hale, at(day, 11))
    assert actions.total == 3, actions.log

    # A proposal placed on the grid: two actions.
    actions = Actions()
    place = browser.find_element(By.CSS_SELECTOR, f"#proposal-{proposal.pk} [data-place]")
    actions.click(place, "Place on the grid")
    actions.click(cell(browser, ito, "13:00"), "the time")
    wait_for_text(browser, "[data-notice]", "Booked Maria Tanaka")
    proposal.refresh_from_db()
    assert proposal.status == "scheduled" and starts(proposal) == (ito.pk, at(day, 13))
    assert actions.total == 2, actions.log

    # Drag a booking to another time: one drag.
    rows = row_height(browser, hale)
    drag(browser, browser.find_element(By.ID, f"follow-up-{okafor.pk}"), 0, 12 * rows)
    wait_for_text(browser, "[data-notice]", "Moved Maria Okafor")
    assert starts(okafor) == (hale.pk, at(day, 12))

    # And to another clinician at the same time: one drag sideways.
    across = browser.execute_script(
        "const [from, to] = arguments;"
        "return to.getBoundingClientRect().left - from.getBoundingClientRect().left;",
        column(browser, hale),
        column(browser, ito),
    )
    drag(browser, browser.find_element(By.ID, f"follow-up-{okafor.pk}"), across, 0)
    wait_for_text(browser, "[data-notice]", "Moved Maria Okafor: Post-injection check with Ken Ito")
    assert starts(okafor) == (ito.pk, at(day, 12))
    assert column(browser, ito).find_elements(By.ID, f"follow-up-{okafor.pk}")

    # Move one with the keys: Space picks it up, an arrow moves it 15 minutes, Enter drops it.
    actions = Actions()
    block = browser.find_element(By.ID, f"follow-up-{rossi.pk}")
    browser.execute_script("arguments[0].focus()", block)
    actions.key(block, Keys.SPACE, "pick it up")
    actions.key(browser.switch_to.active_element, Keys.ARROW_DOWN, "15 minutes later")
    actions.key(browser.switch_to.active_element, Keys.ENTER, "drop it")
    wait_for_text(browser, "[data-notice]", "Moved Maria Rossi")
    assert starts(rossi) == (ito.pk, at(day, 9, 45))
    assert actions.total == 3, actions.log
    assert browser.switch_to.active_element.get_attribute("id") == f"follow-up-{rossi.pk}"

    # Dragged onto another booking: refused, the message names it, nothing changes.
    rows = row_height(browser, hale)
    drag(browser, browser.find_element(By.ID, f"follow-up-{lindqvist.pk}"), 0, 4 * rows)
    wait_for_text(browser, "[data-notice]", "Not moved")
    notice = browser.find_element(By.CSS_SELECTOR, "[data-notice]")
    assert notice.get_attribute("role") == "alert"
    assert "Ada Hale is already booked from 11:00 to 11:30 with Ines Duarte" in notice.text
    assert "Maria Lindqvist stays" in notice.text
    assert starts(lindqvist) == (hale.pk, at(day, 10)) and lindqvist.status == "confirmed"
    screenshot(browser, "desk-refused")
    assert axe_violations(browser) == []

    # Cancel with a reason from the booking's dialog; the freed time books the first waiting.
    browser.find_element(By.ID, f"follow-up-{leaving.pk}").click()
    dialog = dialog_open(browser)
    assert "Mbeki, Maria" in dialog.text
    assert dialog.find_elements(By.CSS_SELECTOR, "[data-action=no_show]") == []  # not started
    assert axe_violations(browser) == []
    screenshot(browser, "desk-booking-dialog")
    dialog.find_element(By.ID, "cancel-reason").send_keys("Phoned: unwell")
    dialog.find_element(By.CSS_SELECTOR, "[data-action=cancel]").click()
    wait_for_text(browser, "[data-notice]", "Cancelled: Maria Mbeki")
    leaving.refresh_from_db()
    assert (leaving.status, leaving.cancel_reason) == ("cancelled", "Phoned: unwell")
    actions = Actions()
    freed = column(browser, lund).find_element(By.CSS_SELECTOR, ".freed [data-action=book-waiting]")
    actions.click(freed, "book the first waiting")
    wait_for_text(browser, "[data-notice]", "Booked Joao Early from the waitlist")
    waiting.refresh_from_db()
    assert waiting.status == "booked" and starts(waiting.follow_up) == (lund.pk, at(day, 11))
    assert actions.total == 1
    screenshot(browser, "desk-day-after")
    assert page_width(browser) <= 1366


def test_a_duplicate_registration_is_shown_its_candidates_before_anything_is_saved(
    live_server, browser
):
    existing = PatientFactory(
        given_name="Maria", family_name="Okafor", birth_date=datetime.date(1968, 5, 17)
    )
    UserFactory(username="desk.bo", role=FRONT_DESK)
    sign_in(browser, live_server.url, "desk.bo", PASSWORD)
    browser.set_window_size(1366, 768)
    browser.get(f"{live_server.url}/desk/patients/new/")
    assert axe_violations(browser) == []
    browser.find_element(By.NAME, "given_name").send_keys("Mariah")
    browser.find_element(By.NAME, "family_name").send_keys("Okafor")
    browser.execute_script("document.querySelector('[name=birth_date]').value = '1968-05-17';")
    page = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.CSS_SELECTOR, "[data-action=register]").click()
    WebDriverWait(browser, 10).until(gone(page))
    found = browser.find_element(By.CSS_SELECTOR, ".duplicates")
    assert "This may be a patient registered already" in found.text
    assert existing.mrn in found.text and "Okafor, Maria" in found.text
    assert "17 May 1968" in found.text and "name and date of birth" in found.text
    assert Patient.objects.count() == 1
    assert axe_violations(browser) == []
    screenshot(browser, "desk-register-duplicate")
    assert page_width(browser) <= 1366
    page = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.CSS_SELECTOR, "[data-action=register-anyway]").click()
    WebDriverWait(browser, 10).until(gone(page))
    assert "Registered Mariah Okafor" in browser.find_element(By.CSS_SELECTOR, ".messages").text
    assert Patient.objects.filter(given_name="Mariah").exists()
    assert not WaitlistEntry.objects.exists()


def next_open_day(day: datetime.date) -> datetime.date:
    day += datetime.timedelta(days=1)
    while day.isoweekday() not in settings.CLINIC_DAYS:
        day += datetime.timedelta(days=1)
    return day


def title(browser) -> str:
    return browser.find_element(By.ID, "desk-title").text


def test_the_desk_goes_from_day_to_day_by_keys_and_date_and_opens_a_clinicians_week(
    live_server, browser
):
    day = open_day(2)
    following = next_open_day(day)
    hale = ClinicianFactory(first_name="Ada", last_name="Hale")
    booking(hale, at(day, 9), "Okafor")
    booking(hale, at(following, 14), "Rossi", kind="review")
    UserFactory(username="desk.cy", role=FRONT_DESK)
    sign_in(browser, live_server.url, "desk.cy", PASSWORD)
    browser.set_window_size(1366, 768)
    browser.get(f"{live_server.url}/desk/?date={day.isoformat()}")
    assert title(browser) == f"{day:%A} {day.day} {day:%B %Y}"

    # ] the next open day, [ back, t today: one key each, nothing to click.
    def press(key: str, expected: str) -> None:
        page = browser.find_element(By.TAG_NAME, "html")
        browser.find_element(By.TAG_NAME, "body").send_keys(key)
        WebDriverWait(browser, 10).until(gone(page))
        assert title(browser).startswith(expected), title(browser)

    press("]", f"{following:%A} {following.day} {following:%B %Y}")
    assert "Rossi, Maria" in browser.find_element(By.CSS_SELECTOR, "[data-grid]").text
    press("[", f"{day:%A} {day.day} {day:%B %Y}")
    today = timezone.localdate()
    press("t", f"{today:%A} {today.day} {today:%B %Y}")

    # The date picker: a day, then Go.
    browser.execute_script(
        "document.getElementById('desk-date').value = arguments[0];", following.isoformat()
    )
    page = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.CSS_SELECTOR, ".pick-day .go").click()
    WebDriverWait(browser, 10).until(gone(page))
    assert title(browser).startswith(f"{following:%A} {following.day} {following:%B %Y}")

    # The clinician's week: a column per clinic day, both bookings in their days.
    browser.get(f"{live_server.url}/desk/?date={day.isoformat()}")
    browser.find_element(By.PARTIAL_LINK_TEXT, "Week of Ada Hale").click()
    WebDriverWait(browser, 10).until(
        expected_conditions.text_to_be_present_in_element((By.ID, "desk-title"), "week of")
    )
    heads = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".col-head")]
    assert len(heads) == len(settings.CLINIC_DAYS) and f"{day:%a} {day.day} {day:%b}" in heads
    days = {
        e.get_attribute("data-day"): e.text
        for e in browser.find_elements(By.CSS_SELECTOR, "[data-column]")
    }
    assert "Okafor, Maria" in days[day.isoformat()]
    if following.isocalendar()[:2] == day.isocalendar()[:2]:  # the same week
        assert "Rossi, Maria" in days[following.isoformat()]
    assert page_width(browser) <= 1366
    screenshot(browser, "desk-week")
    assert axe_violations(browser) == []

    # The waitlist and the choice of clinicians, the grid's other screens.
    WaitlistEntryFactory(patient__family_name="Early", patient__given_name="Joao", clinician=hale)
    for address, name, shown in (
        ("/desk/waitlist/", "desk-waitlist", "Early, Joao"),
        ("/desk/clinicians/", "desk-clinicians", "Ada Hale"),
    ):
        browser.get(live_server.url + address)
        assert shown in browser.find_element(By.TAG_NAME, "main").text
        assert page_width(browser) <= 1366
        screenshot(browser, name)
        assert axe_violations(browser) == []
    # Each clinician's box and name stay together, not split over the list's columns.
    split = browser.execute_script(
        "return [...document.querySelectorAll('label.choice')]"
        ".filter((label) => label.getClientRects().length > 1).map((l) => l.textContent.trim());"
    )
    assert split == []
