"""The Content-Security-Policy in a real browser: the admin (a change form with its
autocomplete, date pickers and collapsed sections; the agenda; the reports page's charts) and
the API documentation work with nothing refused, and a script injected into a page does not
run."""

from __future__ import annotations

import datetime

import pytest
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from recordkeeping.roles import CLINICIAN
from tests.conftest import admin_login
from tests.factories import (
    CourseFactory,
    FollowUpFactory,
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

# Recorded from before any page script runs (the browser's own report of each refusal).
LISTEN = """
window.__refused = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__refused.push(event.violatedDirective + " " + event.blockedURI + " " +
    event.sourceFile + ":" + event.lineNumber);
});
"""
INJECTED = (
    "<!DOCTYPE html><html><head><title>Injected</title></head><body>"
    "<p id='said'>Patient notes</p>"
    "<script>document.getElementById('said').textContent = 'inline ran';</script>"
    "<img src='data:,' onerror=\"document.title = 'handler ran'\" alt=''>"
    "<a id='link' href=\"javascript:document.title = 'link ran'\">link</a>"
    "</body></html>"
)


def injected_page(request: HttpRequest) -> HttpResponse:
    """A page into which markup got injected, as a template that forgot to escape would."""
    return HttpResponse(INJECTED)


urlpatterns = [path("injected/", injected_page), path("", include("clinic.urls"))]


def refused(browser) -> list[str]:
    """What the browser refused on the current page: the policy's reports, and the console's
    errors naming the Content Security Policy."""
    reports = browser.execute_script("return window.__refused || [];")
    console = [
        entry["message"]
        for entry in browser.get_log("browser")
        if "Content Security Policy" in entry["message"]
    ]
    return reports + console


@pytest.fixture
def watched(browser):
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": LISTEN})
    browser.get_log("browser")  # start from an empty console
    return browser


@pytest.fixture
def clinician(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return UserFactory(username="dr.csp", password="correct horse battery", role=CLINICIAN)


def test_an_injected_inline_script_does_not_run(live_server, watched, settings):
    settings.ROOT_URLCONF = __name__
    watched.get(f"{live_server.url}/injected/")
    watched.find_element(By.ID, "link").click()
    assert watched.find_element(By.ID, "said").text == "Patient notes"
    assert watched.title == "Injected"
    blocked = " ".join(refused(watched))
    assert "script-src" in blocked


def test_admin_change_form_works_under_the_policy(live_server, watched, clinician):
    patient = PatientFactory(family_name="Lindqvist")
    course = CourseFactory(patient=patient)
    session = SessionFactory(patient=patient, course=course, clinician=clinician, status="planned")
    admin_login(watched, live_server.url, "dr.csp", "correct horse battery")

    watched.get(f"{live_server.url}/admin/treatments/injectionsession/{session.pk}/change/")
    # The autocomplete (select2) opens and finds the patient.
    watched.find_element(By.CSS_SELECTOR, ".field-patient .select2-selection").click()
    search = watched.find_element(By.CSS_SELECTOR, ".select2-search__field")
    search.send_keys("Lindq")
    WebDriverWait(watched, 10).until(
        expected_conditions.text_to_be_present_in_element(
            (By.CSS_SELECTOR, ".select2-results"), "Lindqvist"
        )
    )
    search.send_keys("\ue00c")  # Escape
    # The date picker's calendar opens.
    watched.find_element(By.CSS_SELECTOR, ".datetimeshortcuts a[id^=calendarlink]").click()
    assert watched.find_element(By.CSS_SELECTOR, ".calendarbox").is_displayed()
    # A collapsed section (an injectate's PRP details) opens.
    collapsed = watched.find_element(By.CSS_SELECTOR, "fieldset.collapse details")
    assert collapsed.get_attribute("open") is None
    collapsed.find_element(By.TAG_NAME, "summary").click()
    assert collapsed.get_attribute("open") is not None
    assert refused(watched) == []


def test_agenda_and_reports_charts_work_under_the_policy(live_server, watched, clinician):
    patient = PatientFactory(family_name="Okonjo")
    course = CourseFactory(
        patient=patient, start_date=timezone.localdate() - datetime.timedelta(days=100)
    )
    for days_ago in (98, 56):
        session = SessionFactory(
            patient=patient,
            course=course,
            clinician=clinician,
            performed_at=timezone.now() - datetime.timedelta(days=days_ago),
        )
        InjectateFactory(session=session, prp=True, line=1)
    SideEffectFactory(session=session, kind="bruising")
    OutcomeScoreFactory(patient=patient, course=course, instrument="nprs", time_point="baseline")
    booked = FollowUpFactory(clinician=clinician, patient=patient)
    admin_login(watched, live_server.url, "dr.csp", "correct horse battery")

    watched.get(f"{live_server.url}/admin/reports/")
    drawn = watched.execute_script(
        "return Chart.getChart(document.getElementById('safety-chart')).data.datasets.length;"
    )
    assert drawn == 1
    assert refused(watched) == []
    watched.get(f"{live_server.url}/admin/patients/patient/{patient.pk}/change/")
    assert watched.execute_script(
        "return !!Chart.getChart(document.getElementById('score-chart'));"
    )
    assert refused(watched) == []
    day = timezone.localdate(booked.starts_at).isoformat()
    watched.get(f"{live_server.url}/admin/treatments/followup/agenda/?date={day}")
    assert "Okonjo" in watched.find_element(By.ID, "content").text
    assert refused(watched) == []


def test_api_docs_work_under_the_policy(live_server, watched):
    watched.get(f"{live_server.url}/api/docs/")
    WebDriverWait(watched, 20).until(
        expected_conditions.text_to_be_present_in_element(
            (By.ID, "swagger-ui"), "/api/v1/patients/{id}/timeline/"
        )
    )
    assert "Clinic records API" in watched.find_element(By.ID, "swagger-ui").text
    assert refused(watched) == []
