from __future__ import annotations

import os
import shutil
from typing import Any

import pytest
from django.test import Client

from clinic.roles import CLINIC_ADMIN, CLINICIAN, FRONT_DESK
from tests.factories import UserFactory


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
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{base_url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(password)
    page = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(browser, 10).until(expected_conditions.staleness_of(page))


def token_client(user, **options) -> Any:
    """An API client authenticated with ``user``'s token (made on first use)."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient(**options)
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def api_for(db):
    """``api_for(user)``: an API client authenticated as that user."""
    return token_client


@pytest.fixture
def api(clinician):
    """An API client authenticated with the clinician's token."""
    return token_client(clinician)
