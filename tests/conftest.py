from __future__ import annotations

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
