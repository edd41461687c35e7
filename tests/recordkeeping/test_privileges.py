"""No one gets a right they do not hold: not a clinician by taking over a colleague's session,
not a booking or a session by naming someone who is not a clinician, not a clinic admin by
editing staff accounts, not anyone by moving a finished session back to planned."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.forms import MultiWidget
from django.test import Client
from django.urls import reverse
from pghistory.models import Events

from recordkeeping import staff
from recordkeeping.roles import CLINIC_ADMIN, CLINICIAN, FRONT_DESK, ROLES
from tests.conftest import token_client
from tests.factories import (
    ClinicianFactory,
    FollowUpFactory,
    PatientFactory,
    SessionFactory,
    UserFactory,
    clinic_slot,
)
from treatments.models import InjectionSession

pytestmark = pytest.mark.django_db


# 1. Sessions stay with the clinician who performed them.


def test_a_clinician_cannot_take_over_a_colleagues_session_and_sign_it():
    session = SessionFactory(status="completed")
    colleague = ClinicianFactory()
    api = token_client(colleague)
    taken = api.patch(f"/api/v1/sessions/{session.pk}/", {"clinician": colleague.pk})
    assert taken.status_code == 403
    assert "Only the session's clinician can change who performed it" in taken.json()["detail"]
    assert api.post(f"/api/v1/sessions/{session.pk}/sign/").status_code == 403
    session.refresh_from_db()
    assert session.clinician_id != colleague.pk and not session.is_signed


def test_a_clinician_gives_their_own_session_to_the_colleague_who_performed_it(clinician):
    session = SessionFactory(clinician=clinician, status="completed")
    colleague = ClinicianFactory()
    given = token_client(clinician).patch(
        f"/api/v1/sessions/{session.pk}/", {"clinician": colleague.pk}
    )
    assert given.status_code == 200 and given.json()["clinician"] == colleague.pk
    assert token_client(colleague).post(f"/api/v1/sessions/{session.pk}/sign/").status_code == 200


def test_a_clinic_admin_reassigns_an_unsigned_session_with_a_reason(clinic_admin):
    session = SessionFactory(status="completed")
    colleague = ClinicianFactory()
    admin_api = token_client(clinic_admin)
    url = f"/api/v1/sessions/{session.pk}/reassign/"
    no_reason = admin_api.post(url, {"clinician": colleague.pk, "reason": "  "})
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["errors"]
    desk = admin_api.post(url, {"clinician": UserFactory(role=FRONT_DESK).pk, "reason": "x"})
    assert desk.json()["errors"] == {
        "clinician": ["Choose an active member of the Clinician group."]
    }
    done = admin_api.post(url, {"clinician": colleague.pk, "reason": "Logged under the wrong name"})
    assert done.status_code == 200 and done.json()["clinician"] == colleague.pk
    event = Events.objects.filter(pgh_model="treatments.InjectionSessionEvent").latest("pgh_id")
    assert event.pgh_context["reason"] == "Logged under the wrong name"
    assert event.pgh_context["user"] == clinic_admin.pk
    for role in (CLINICIAN, FRONT_DESK):
        other = token_client(UserFactory(role=role))
        assert other.post(url, {"clinician": colleague.pk, "reason": "x"}).status_code == 403
    session.refresh_from_db()
    InjectionSession.objects.filter(pk=session.pk).update(
        signed_by=colleague, signed_at=session.updated_at
    )
    assert admin_api.post(url, {"clinician": ClinicianFactory().pk, "reason": "x"}).status_code == (
        409
    )


def test_the_admin_form_keeps_a_colleagues_session_with_its_clinician():
    session = SessionFactory(status="planned")
    browser = Client()
    browser.force_login(ClinicianFactory())
    page = browser.get(reverse("admin:treatments_injectionsession_change", args=[session.pk]))
    assert 'name="clinician"' not in page.content.decode()  # shown, not offered to change
    own = Client()
    own.force_login(session.clinician)
    page = own.get(reverse("admin:treatments_injectionsession_change", args=[session.pk]))
    assert 'name="clinician"' in page.content.decode()


# 2. Only active members of the Clinician group perform sessions and hold bookings.


def not_clinicians() -> dict[str, Any]:
    return {
        "front desk": UserFactory(role=FRONT_DESK),
        "clinic admin": UserFactory(role=CLINIC_ADMIN),
        "no group": UserFactory(),
        "deactivated clinician": ClinicianFactory(is_active=False),
        "superuser": UserFactory(is_superuser=True),
    }


def test_sessions_name_only_active_clinicians(clinician):
    api = token_client(clinician)
    patient = PatientFactory()
    for who, user in not_clinicians().items():
        answer = api.post(
            "/api/v1/sessions/",
            {
                "patient": patient.pk,
                "clinician": user.pk,
                "performed_at": clinic_slot().isoformat(),
            },
        )
        assert answer.status_code == 400, who
        assert answer.json()["errors"] == {
            "clinician": ["Choose an active member of the Clinician group."]
        }, who
    assert not InjectionSession.objects.exists()


def test_bookings_name_only_active_clinicians(front_desk):
    api = token_client(front_desk)
    booking = FollowUpFactory()
    for who, user in not_clinicians().items():
        created = api.post(
            "/api/v1/follow-ups/",
            {
                "patient": booking.patient_id,
                "kind": "review",
                "clinician": user.pk,
                "starts_at": clinic_slot(6, 9).isoformat(),
                "ends_at": clinic_slot(6, 9, 30).isoformat(),
            },
        )
        assert created.status_code == 400, who
        assert list(created.json()["errors"]) == ["clinician"], who
        moved = api.post(
            f"/api/v1/follow-ups/{booking.pk}/reschedule/",
            {"starts_at": clinic_slot(7, 9).isoformat(), "clinician": user.pk},
        )
        assert moved.status_code == 400, who
        assert list(moved.json()["errors"]) == ["clinician"], who
    booking.refresh_from_db()
    assert booking.clinician.groups.filter(name=CLINICIAN).exists()


def test_the_admin_offers_only_active_clinicians(superuser):
    keep = ClinicianFactory(first_name="Ada", last_name="Okoye")
    not_clinicians()
    browser = Client()
    browser.force_login(superuser)
    form = browser.get(reverse("admin:treatments_injectionsession_add")).context["adminform"].form
    assert list(form.fields["clinician"].queryset) == [keep]
    form = browser.get(reverse("admin:treatments_followup_add")).context["adminform"].form
    assert list(form.fields["clinician"].queryset) == [keep]


# 4. A session's status moves forward only.


@pytest.mark.parametrize(
    ("stored", "to"),
    [("cancelled", "planned"), ("cancelled", "completed"), ("completed", "planned")],
)
def test_a_finished_session_keeps_its_status(clinician, stored, to):
    session = SessionFactory(clinician=clinician, status=stored, cancel_reason="Unwell")
    answer = token_client(clinician).patch(f"/api/v1/sessions/{session.pk}/", {"status": to})
    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == ["status"]
    assert "its status no longer changes" in answer.json()["errors"]["status"][0]
    session.refresh_from_db()
    assert session.status == stored


def test_a_planned_session_is_completed(clinician):
    session = SessionFactory(clinician=clinician, status="planned")
    answer = token_client(clinician).patch(
        f"/api/v1/sessions/{session.pk}/", {"status": "completed"}
    )
    assert answer.status_code == 200 and answer.json()["status"] == "completed"


# 3. Managing staff: no one grants what they do not hold.


def form_data(form: Any) -> dict[str, Any]:
    """What a browser posts back for an unchanged form."""
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = form[name].value()
        if isinstance(field.widget, MultiWidget):
            for index, part in enumerate(field.widget.decompress(value)):
                data[f"{name}_{index}"] = "" if part is None else part
        elif isinstance(value, list | tuple):
            data[name] = [str(item) for item in value]
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = value
    return data


def change_account(manager: Any, account: Any, **changes: Any) -> Any:
    browser = Client()
    browser.force_login(manager)
    url = reverse("admin:auth_user_change", args=[account.pk])
    page = browser.get(url)
    if page.status_code != 200 or "adminform" not in page.context:
        return page
    data = form_data(page.context["adminform"].form) | changes
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)
    return browser.post(url, data)


def test_a_clinic_admin_cannot_make_themself_superuser_or_a_clinician(clinic_admin):
    clinician_group = Group.objects.get(name=CLINICIAN)
    answer = change_account(
        clinic_admin,
        clinic_admin,
        is_superuser="on",
        groups=[str(clinician_group.pk), str(Group.objects.get(name=CLINIC_ADMIN).pk)],
    )
    assert answer.status_code in (200, 302)
    clinic_admin.refresh_from_db()
    assert not clinic_admin.is_superuser
    assert set(clinic_admin.groups.values_list("name", flat=True)) == {CLINIC_ADMIN}
    created = token_client(clinic_admin).post(
        "/api/v1/patients/",
        {"given_name": "Ann", "family_name": "Byrne", "birth_date": "1980-01-01"},
    )
    assert created.status_code == 403


def test_a_clinic_admin_gives_only_groups_they_belong_to(clinic_admin):
    account = UserFactory()
    clinician_group = Group.objects.get(name=CLINICIAN)
    refused = change_account(clinic_admin, account, groups=[str(clinician_group.pk)])
    assert refused.status_code == 200
    assert "You can only give groups you belong to, not Clinician." in refused.content.decode()
    assert not account.groups.exists()
    admins = Group.objects.get(name=CLINIC_ADMIN)
    assert change_account(clinic_admin, account, groups=[str(admins.pk)]).status_code == 302
    assert list(account.groups.values_list("name", flat=True)) == [CLINIC_ADMIN]


def test_a_clinic_admin_cannot_reactivate_or_set_the_password_of_a_clinician(clinic_admin):
    leaver = ClinicianFactory(is_active=False)
    refused = change_account(clinic_admin, leaver, is_active="on")
    assert "Only a superuser can give this account the rights of Clinician." in (
        refused.content.decode()
    )
    leaver.refresh_from_db()
    assert not leaver.is_active
    browser = Client()
    browser.force_login(clinic_admin)
    password = reverse("admin:auth_user_password_change", args=[ClinicianFactory().pk])
    assert browser.get(password).status_code == 403
    colleague = UserFactory(role=CLINIC_ADMIN)
    assert (
        browser.get(reverse("admin:auth_user_password_change", args=[colleague.pk])).status_code
        == 200
    )


def test_a_clinic_admin_deactivates_a_clinician(clinic_admin):
    leaver = ClinicianFactory()
    assert change_account(clinic_admin, leaver, is_active=False).status_code == 302
    leaver.refresh_from_db()
    assert not leaver.is_active


def test_only_a_superuser_changes_a_superuser(clinic_admin, superuser):
    browser = Client()
    browser.force_login(clinic_admin)
    page = browser.get(reverse("admin:auth_user_change", args=[superuser.pk]))
    assert page.status_code == 200 and 'name="username"' not in page.content.decode()
    assert (
        browser.post(
            reverse("admin:auth_user_change", args=[superuser.pk]), {"username": "taken"}
        ).status_code
        == 403
    )
    superuser.refresh_from_db()
    assert superuser.username == "root"


ACTORS = [CLINICIAN, FRONT_DESK, CLINIC_ADMIN, None]
GRANTS = {
    **{f"group {role}": {"groups": role} for role in ROLES},
    "superuser": {"is_superuser": "on"},
    "single permission": {"user_permissions": "treatments.add_injectionsession"},
    "activation": {"is_active": "on", "is_staff": "on"},
}


@pytest.mark.parametrize(("actor_role", "grant"), list(itertools.product(ACTORS, GRANTS)))
def test_no_role_grants_itself_or_anyone_a_right_it_does_not_hold(actor_role, grant):
    """Every staff role, on its own account and on another's (which starts inactive with no
    rights, or, for activation, a clinician who left), tries each grant through the admin: what
    the account may do afterwards is what it could before, plus at most what the actor holds."""
    actor = UserFactory(role=actor_role)
    own_rights = staff.rights_of(actor)
    targets = [actor, UserFactory(is_active=False)]
    if grant == "activation":
        targets.append(ClinicianFactory(is_active=False))
    for account in targets:
        before = staff.rights_of(account) | set(
            account.user_permissions.values_list("codename", flat=True)
        )
        changes = dict(GRANTS[grant])
        if "groups" in changes:
            group = Group.objects.get(name=changes["groups"])
            changes["groups"] = [
                *map(str, account.groups.values_list("pk", flat=True)),
                str(group.pk),
            ]
        if "user_permissions" in changes:
            app, codename = changes["user_permissions"].split(".")
            permission = Permission.objects.get(content_type__app_label=app, codename=codename)
            changes["user_permissions"] = [str(permission.pk)]
        changes.setdefault("is_active", "on")
        changes.setdefault("is_staff", "on")
        answer = change_account(actor, account, **changes)
        assert answer.status_code < 500, (actor_role, grant)
        account.refresh_from_db()
        after = staff.rights_of(account) | set(
            account.user_permissions.values_list("codename", flat=True)
        )
        assert after - before <= own_rights, (actor_role, grant, account.username, after - before)
        if account == actor:
            assert after == before, (actor_role, grant)
