from __future__ import annotations

import os
import shutil
from typing import Any

import pytest
from django.test import Client

from recordkeeping.roles import CLINIC_ADMIN, CLINICIAN, FRONT_DESK
from tests import clock
from tests.factories import UserFactory


def pytest_configure(config: pytest.Config) -> None:
    # CLINIC_TEST_TODAY=2026-11-28 runs the whole suite on that day's clock (tests/clock.py).
    clock.install_for_run()


def pytest_report_header(config: pytest.Config) -> str:
    from django.utils import timezone

    moved = f" (moved by {clock.TODAY_VARIABLE})" if os.environ.get(clock.SHIFT_VARIABLE) else ""
    return f"clinic clock: {timezone.localtime():%A %Y-%m-%d %H:%M %Z}{moved}"


@pytest.fixture
def clinician(db):
    return UserFactory(username="dr.hale", role=CLINICIAN)


@pytest.fixture
def front_desk(db):
    return UserFactory(username="desk.ito", role=FRONT_DESK)


@pytest.fixture
def clinic_admin(db):
    return UserFactory(username="admin.reyes", role=CLINIC_ADMIN)


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True)


@pytest.fixture
def clinician_client(clinician) -> Client:
    client = Client()
    client.force_login(clinician)
    return client


@pytest.fixture(scope="session", autouse=True)
def test_flush_may_empty_audit_tables():
    """Django's test flush (transactional tests, live_server) empties every table with one
    TRUNCATE, which the audit tables refuse unless ``clinic.test_flush`` is on in the same
    transaction (clinic migration 0007). Only this flush turns it on."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    flush = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self: Any, sql_list: list[str]) -> None:
        flush(self, ["SELECT set_config('clinic.test_flush', 'on', true)", *sql_list])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "execute_sql_flush", execute_sql_flush)
        yield


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def browser(tmp_path):
    """Debian's Chromium, headless, driven by its chromedriver. CI must have it."""
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and chromedriver):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromedriver are required in CI (.ci/run installs them)")
        pytest.skip("chromium and chromedriver are not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path / 'chromium'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def admin_login(browser, base_url: str, username: str, password: str) -> None:
    """Log in on the admin's login page and wait for the page after it (a page requested
    before the login's answer has arrived would find no session yet)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.browser import gone

    browser.get(f"{base_url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(password)
    page = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(browser, 10).until(gone(page))


def token_for(user) -> str:
    """A new API token of ``user`` (as a login gives), for an ``Authorization: Token`` header."""
    from knox.models import AuthToken

    return AuthToken.objects.create(user=user)[1]


def token_client(user, **options) -> Any:
    """An API client authenticated with a token of ``user``."""
    from rest_framework.test import APIClient

    client = APIClient(**options)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return client


@pytest.fixture
def api_for(db):
    """``api_for(user)``: an API client authenticated as that user."""
    return token_client


@pytest.fixture
def api(clinician):
    """An API client authenticated with the clinician's token."""
    return token_client(clinician)
