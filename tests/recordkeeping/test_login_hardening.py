"""Argon2 hashes, lockout after repeated failures, idle and absolute session limits, tokens
that expire and can be revoked, and deactivated users stopped at once."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from clinic import settings as clinic_settings
from recordkeeping.models import AccessLogEntry, StaffAccountEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


def test_passwords_are_hashed_with_argon2(settings):
    settings.PASSWORD_HASHERS = clinic_settings.PASSWORD_HASHERS
    user = UserFactory(username="argon", password=PASSWORD)
    assert user.password.startswith("argon2$")


def admin_login(username: str, password: str) -> int:
    response = Client().post(reverse("admin:login"), {"username": username, "password": password})
    return response.status_code


def test_admin_login_locks_out_after_repeated_failures(clinician):
    for _ in range(django_settings.AXES_FAILURE_LIMIT - 1):
        assert admin_login("dr.hale", "wrong") == 200  # the form again, with its error
    assert admin_login("dr.hale", "wrong") == 429
    assert admin_login("dr.hale", PASSWORD) == 429  # locked, even with the right password
    assert AccessLogEntry.objects.filter(action="login.failed", username="dr.hale").exists()


def test_token_endpoint_locks_out_after_repeated_failures(clinician):
    client = APIClient()
    url = "/api/v1/auth/token/"
    for _ in range(django_settings.AXES_FAILURE_LIMIT - 1):
        assert client.post(url, {"username": "dr.hale", "password": "x"}).status_code == 400
    assert client.post(url, {"username": "dr.hale", "password": "x"}).status_code == 429
    locked = client.post(url, {"username": "dr.hale", "password": PASSWORD})
    assert locked.status_code == 429
    assert locked.json()["detail"].startswith("Too many failed logins")
    assert "token" not in locked.json()


def test_session_ends_after_idle_time(clinician, client):
    client.force_login(clinician)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.session.get_expiry_age() == django_settings.SESSION_COOKIE_AGE == 15 * 60
    session = client.session
    session.set_expiry(-1)  # as if the idle time had passed
    session.save()
    assert client.get(reverse("admin:index")).status_code == 302


def test_session_ends_at_its_absolute_lifetime(clinician, client):
    client.force_login(clinician)
    assert client.get(reverse("admin:index")).status_code == 200
    session = client.session
    session["login_at"] = time.time() - django_settings.SESSION_ABSOLUTE_SECONDS - 1
    session.save()
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def token_client(user, password: str = PASSWORD) -> tuple[APIClient, str]:
    """Log in for a token, as a device would; the client sends it."""
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": user.username, "password": password}
    )
    assert response.status_code == 200
    key = response.json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client, key


def test_token_expires(clinician):
    client, key = token_client(clinician)
    assert client.get("/api/v1/patients/").status_code == 200
    lifetime = datetime.timedelta(seconds=django_settings.API_TOKEN_LIFETIME_SECONDS)
    AuthToken.objects.filter(user=clinician).update(expiry=timezone.now() - lifetime)
    expired = client.get("/api/v1/patients/")
    assert expired.status_code == 401
    assert expired.json()["detail"] == "Token expired; ask for a new one."
    fresh, fresh_key = token_client(clinician)
    assert fresh_key != key
    assert fresh.get("/api/v1/patients/").status_code == 200
    assert AuthToken.objects.filter(user=clinician).count() == 1  # the expired one is cleared


def test_each_login_gets_its_own_token_and_logout_ends_only_that_one(clinician):
    phone, phone_key = token_client(clinician)
    laptop, laptop_key = token_client(clinician)
    assert phone_key != laptop_key
    assert phone.delete("/api/v1/auth/token/").status_code == 204
    assert phone.get("/api/v1/patients/").status_code == 401
    assert laptop.get("/api/v1/patients/").status_code == 200


def test_tokens_are_stored_as_digests_only(clinician):
    _, key = token_client(clinician)
    stored = AuthToken.objects.get(user=clinician)
    assert key not in (stored.digest, stored.token_key + stored.digest)
    assert not AuthToken.objects.filter(digest=key).exists()


def test_a_password_change_ends_tokens_and_other_browser_sessions(clinician):
    api, _ = token_client(clinician)
    other_browser = Client()
    other_browser.force_login(clinician)
    this_browser = Client()
    this_browser.force_login(clinician)
    assert other_browser.get(reverse("admin:index")).status_code == 200
    new_password = "a-new-and-long-passphrase-9"
    changed = this_browser.post(
        reverse("admin:password_change"),
        {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )
    assert changed.status_code == 302
    assert this_browser.get(reverse("admin:index")).status_code == 200  # the one that changed it
    assert other_browser.get(reverse("admin:index")).status_code == 302  # to the login page
    assert api.get("/api/v1/patients/").status_code == 401
    fresh, _ = token_client(clinician, new_password)
    assert fresh.get("/api/v1/patients/").status_code == 200


def test_a_password_set_by_a_manager_ends_the_users_tokens(clinician, superuser):
    api, _ = token_client(clinician)
    manager = Client()
    manager.force_login(superuser)
    new_password = "another-long-passphrase-7"
    response = manager.post(
        reverse("admin:auth_user_password_change", args=[clinician.pk]),
        {"password1": new_password, "password2": new_password, "usable_password": "true"},
    )
    assert response.status_code == 302
    assert api.get("/api/v1/patients/").status_code == 401
    event = StaffAccountEvent.objects.get(pgh_obj_id=clinician.pk, pgh_label="password.change")
    assert event.pgh_context.metadata["user"] == superuser.pk  # who set it; no hash is kept
    assert not any("argon2" in str(value) or "md5$" in str(value) for value in vars(event).values())
    history = manager.get(reverse("admin:auth_user_history", args=[clinician.pk])).content.decode()
    assert "password changed" in history


def test_token_can_be_revoked(clinician):
    client, _ = token_client(clinician)
    assert client.delete("/api/v1/auth/token/").status_code == 204
    assert client.get("/api/v1/patients/").status_code == 401


def test_deactivated_user_is_stopped_at_once(clinician):
    client, _ = token_client(clinician)
    browser = Client()
    browser.force_login(clinician)
    clinician.is_active = False
    clinician.save()
    assert client.get("/api/v1/patients/").status_code == 401
    assert browser.get(reverse("admin:index")).status_code == 302


def test_deploy_check_reports_nothing_with_production_settings():
    env = os.environ | {
        "DEBUG": "false",
        "HTTPS": "true",
        "SECRET_KEY": "k" * 20 + "-production-only-secret-" + "x" * 30,
        "ALLOWED_HOSTS": "clinic.example.org",
    }
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
