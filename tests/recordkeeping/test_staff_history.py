"""Every change of a staff account's groups and flags is in the audit trail, chained, and shown
on the account's History page."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from recordkeeping.models import StaffAccountEvent, StaffGroupEvent
from recordkeeping.roles import CLINIC_ADMIN, FRONT_DESK
from tests.factories import UserFactory
from tests.recordkeeping.test_audit_review import rows

pytestmark = pytest.mark.django_db


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def account_form(user, **changes) -> dict[str, object]:
    """The admin's change form of a staff account as shown, with ``changes`` (None: unset)."""
    form = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on" if user.is_active else None,
        "is_staff": "on" if user.is_staff else None,
        "groups": list(user.groups.values_list("pk", flat=True)),
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    return {name: value for name, value in (form | changes).items() if value is not None}


def change_account(client: Client, user, **changes) -> None:
    url = reverse("admin:auth_user_change", args=[user.pk])
    response = client.post(url, account_form(user, **changes))
    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()


def test_adding_a_staff_member_to_a_group_in_the_admin_is_recorded_and_chained(
    clinic_admin, capsys
):
    user = UserFactory(username="dr.nash", role=FRONT_DESK)
    clinic_admins = Group.objects.get(name=CLINIC_ADMIN)

    change_account(client_of(clinic_admin), user, groups=[clinic_admins.pk])

    recorded = StaffGroupEvent.objects.filter(user=user, pgh_context__isnull=False)
    changes = recorded.values_list("pgh_label", "group__name", "pgh_context__metadata__user")
    assert sorted(changes) == [
        ("group.add", CLINIC_ADMIN, clinic_admin.pk),
        ("group.remove", FRONT_DESK, clinic_admin.pk),
    ]
    call_command("verify_audit")
    assert "Audit chain intact" in capsys.readouterr().out


def test_a_superuser_made_by_another_is_recorded_with_who_did_it(superuser):
    user = UserFactory(username="dr.nash")

    change_account(client_of(superuser), user, is_superuser="on")

    event = StaffAccountEvent.objects.get(pgh_obj=user.pk, pgh_label="update")
    assert (event.is_superuser, event.is_active, event.is_staff) == (True, True, True)
    assert event.pgh_context.metadata["user"] == superuser.pk


def test_a_login_is_no_account_change_a_new_password_is_recorded_and_no_hash_is_kept():
    user = UserFactory(username="dr.nash")
    before = StaffAccountEvent.objects.filter(pgh_obj=user.pk).count()
    Client().post(
        reverse("admin:login"), {"username": "dr.nash", "password": "correct horse battery"}
    )
    user.refresh_from_db()
    assert user.last_login is not None
    assert StaffAccountEvent.objects.filter(pgh_obj=user.pk).count() == before
    user.set_password("another horse battery")
    user.save()
    events = StaffAccountEvent.objects.filter(pgh_obj=user.pk).order_by("pgh_id")
    labels = events.values_list("pgh_label", flat=True)
    assert list(labels)[before:] == ["password.change"]
    columns = {field.column for field in StaffAccountEvent._meta.fields}
    assert not columns & {"password", "last_login"}


def test_staff_history_shows_groups_and_flags_changed_on_the_account(clinic_admin):
    user = UserFactory(username="dr.nash", first_name="Sam", role=FRONT_DESK)
    reviewer = client_of(clinic_admin)
    clinic_admins = Group.objects.get(name=CLINIC_ADMIN)
    change_account(reviewer, user, groups=[clinic_admins.pk], first_name="Noor")
    change_account(reviewer, user, is_active=None)

    page = reviewer.get(reverse("admin:auth_user_history", args=[user.pk]))

    account = [row[1:3] for row in rows(page, "account-history")]
    assert ["admin.reyes", "added to group Clinic admin"] in account
    assert ["admin.reyes", "removed from group Front desk"] in account
    assert ["admin.reyes", "first name: Sam → Noor"] in account
    assert ["admin.reyes", "active: yes → no"] in account
    # and on the History page of the one who did it, among what they changed
    own = reviewer.get(reverse("admin:auth_user_history", args=[clinic_admin.pk]))
    assert ["staff account dr.nash", "added to group Clinic admin"] in [
        row[2:4] for row in rows(own, "change-history")
    ]
