"""A service that records or checks who acts (signing, addenda, a calendar address) is handed
the signed-in staff member; a request from no one is refused, never recorded as no one."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from recordkeeping.staff import signed_in
from tests.factories import ClinicianFactory

pytestmark = pytest.mark.django_db


def test_a_request_from_no_one_is_refused_before_a_service_records_who_acted():
    with pytest.raises(PermissionDenied, match="Sign in first."):
        signed_in(AnonymousUser())


def test_a_signed_in_clinician_acts_as_themself():
    clinician = ClinicianFactory()

    assert signed_in(clinician) == clinician
