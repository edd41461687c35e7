"""The workspace's shell: signing in lands each role where its work is, a patient is found from
the keyboard by MRN, name or date of birth, and only clinicians open a chart."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from recordkeeping.models import AccessLogEntry
from recordkeeping.roles import CLINIC_ADMIN, CLINICIAN, FRONT_DESK
from tests.browser import Actions, axe_violations, gone, page_width, screenshot, sign_in
from tests.factories import FollowUpFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


def signed_in(role: str | None) -> Client:
    client = Client()
    client.force_login(UserFactory(role=role))
    return client


@pytest.mark.parametrize(
    ("role", "lands_on"),
    [(CLINICIAN, "/today/"), (FRONT_DESK, "/desk/"), (CLINIC_ADMIN, "/admin/")],
)
def test_signing_in_lands_each_role_where_its_work_is(role, lands_on):
    user = UserFactory(role=role)
    answer = Client().post("/login/", {"username": user.username, "password": PASSWORD})
    assert answer.status_code == 302 and answer["Location"] == lands_on


def test_a_wrong_password_is_refused_on_the_page():
    user = UserFactory(role=CLINICIAN)
    answer = Client().post("/login/", {"username": user.username, "password": "wrong"})
    assert answer.status_code == 200
    assert "did not match" in answer.content.decode()
    assert AccessLogEntry.objects.filter(action="login.failed").exists()


def test_patients_are_found_by_mrn_name_or_date_of_birth(clinician_client):
    maria = PatientFactory(given_name="Maria", family_name="Okafor", birth_date="1968-05-17")
    PatientFactory(given_name="Mario", family_name="Rossi", birth_date="1971-02-03")
    for typed in (maria.mrn.lower(), "okaf", "maria okafor", "17/05/1968", "1968-05-17 maria"):
        page = clinician_client.get(reverse("workspace:search"), {"q": typed}).content.decode()
        assert "Okafor, Maria" in page and "Rossi" not in page, typed
    nobody = clinician_client.get(reverse("workspace:search"), {"q": "zzz"}).content.decode()
    assert "No patient matches" in nobody
    assert AccessLogEntry.objects.filter(action="workspace.patient.search").exists()


def test_only_clinicians_open_a_chart():
    patient = PatientFactory()
    url = reverse("workspace:chart", args=[patient.pk])
    assert signed_in(CLINICIAN).get(url).status_code == 200
    for role in (FRONT_DESK, CLINIC_ADMIN, None):
        assert signed_in(role).get(url).status_code == 403, role
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")


def test_a_clinicians_day_lists_their_own_bookings(clinician):
    own = FollowUpFactory(
        clinician=clinician,
        starts_at=datetime.datetime.now(datetime.UTC).replace(hour=10, minute=0),
    )
    other = FollowUpFactory(starts_at=own.starts_at)
    client = Client()
    client.force_login(clinician)
    page = client.get(reverse("workspace:today")).content.decode()
    assert str(own.patient) in page and str(other.patient) not in page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the staff groups survive
def test_a_clinician_finds_a_patient_from_the_keyboard(browser, live_server):
    clinician = UserFactory(username="dr.keys", role=CLINICIAN, first_name="Ada")
    PatientFactory(given_name="Maria", family_name="Okafor")
    PatientFactory(given_name="Mario", family_name="Rossi")
    sign_in(browser, live_server.url, clinician.username, PASSWORD)
    assert browser.current_url.endswith("/today/")
    assert axe_violations(browser) == []
    actions = Actions()
    body = browser.find_element(By.TAG_NAME, "body")
    actions.key(body, "/", "focus the search")
    search = browser.switch_to.active_element
    assert search.get_attribute("id") == "patient-search"
    actions.fill(search, "okafor", "the name")
    WebDriverWait(browser, 5).until(
        expected_conditions.text_to_be_present_in_element(
            (By.ID, "search-results"), "Okafor, Maria"
        )
    )
    assert "Rossi" not in browser.find_element(By.ID, "search-results").text
    assert axe_violations(browser) == []
    actions.key(search, Keys.ARROW_DOWN, "down to the first patient")
    page = browser.find_element(By.TAG_NAME, "html")
    actions.key(browser.switch_to.active_element, Keys.ENTER, "open it")
    WebDriverWait(browser, 5).until(gone(page))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Okafor, Maria"
    assert actions.total == 4, actions.log
    assert axe_violations(browser) == []
    screenshot(browser, "workspace-chart")
    assert page_width(browser) <= 1366
    # The search's own page, as a link or a browser without script reaches it.
    browser.get(f"{live_server.url}{reverse('workspace:search')}?q=okafor")
    assert "Okafor, Maria" in browser.find_element(By.TAG_NAME, "main").text
    assert axe_violations(browser) == []
    assert page_width(browser) <= browser.execute_script(
        "return document.documentElement.clientWidth"
    )
