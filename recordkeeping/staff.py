"""Staff accounts: who may give whom which rights.

A clinic admin runs the clinic's accounts but cannot hand out what they do not hold, or the
role matrix would mean nothing ("no clinical edits" would last until they made themselves, or a
second account of theirs, a clinician):
- no one changes their own groups or flags (active, staff status, superuser);
- only a superuser makes a superuser, grants single permissions, or changes a superuser;
- anyone else may give an account only rights they hold themselves: a group they belong to, or
  activating an account whose groups they belong to;
- setting the password of an account that holds rights the manager lacks would let them use
  those rights: only a superuser may.
Every change of groups and flags is recorded in the change history (clinic.history).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pghistory
from django.contrib.auth.models import AnonymousUser, Group, User
from django.core.exceptions import PermissionDenied
from knox.models import AuthToken

SUPERUSER = "superuser"
FLAGS = ("is_active", "is_staff", "is_superuser")


def signed_in(user: User | AnonymousUser) -> User:
    """The staff member a request is made by, for a service that records or checks who acts.
    The role checks let only signed-in staff this far; anyone else is refused (403) here too."""
    if isinstance(user, AnonymousUser):
        raise PermissionDenied("Sign in first.")
    return user


def rights(
    *, is_active: bool, is_staff: bool, is_superuser: bool, groups: Iterable[str]
) -> frozenset[str]:
    """What an account may do, as the names of what grants it; nothing unless it can log in."""
    if not (is_active and is_staff):
        return frozenset()
    return frozenset(groups) | ({SUPERUSER} if is_superuser else set())


def rights_of(user: Any) -> frozenset[str]:
    return rights(
        is_active=user.is_active,
        is_staff=user.is_staff,
        is_superuser=user.is_superuser,
        groups=Group.objects.filter(user=user).values_list("name", flat=True),
    )


def may_manage(*, manager: Any, account: Any) -> bool:
    """Whether ``manager`` may change ``account`` at all: superusers are managed by superusers."""
    return bool(manager.is_superuser or not account.is_superuser)


def may_set_password(*, manager: Any, account: Any) -> bool:
    """A password set by someone else hands them the account's rights."""
    return bool(manager.is_superuser or rights_of(account) <= rights_of(manager))


def fixed_fields(*, manager: Any, account: Any | None) -> list[str]:
    """The account's fields ``manager`` may not change (shown, not editable)."""
    fixed = [] if manager.is_superuser else ["is_superuser", "user_permissions"]
    if account is not None and account.pk == manager.pk:
        fixed += [*FLAGS, "groups", "user_permissions"]
    return list(dict.fromkeys(fixed))


def grant_refusals(
    *, manager: Any, account: Any, is_active: bool, is_staff: bool, groups: Iterable[str]
) -> dict[str, str]:
    """Why the change of an existing account gives rights ``manager`` does not hold, per field
    (empty when it does not)."""
    if manager.is_superuser:
        return {}
    before = rights_of(account) if account.pk else frozenset()
    after = rights(
        is_active=is_active, is_staff=is_staff, is_superuser=account.is_superuser, groups=groups
    )
    lacking = sorted((after - before) - rights_of(manager))
    if not lacking:
        return {}
    names = ", ".join(lacking)
    added = set(groups) - set(Group.objects.filter(user=account).values_list("name", flat=True))
    if added & set(lacking):
        return {"groups": f"You can only give groups you belong to, not {names}."}
    field = "is_active" if is_active and not account.is_active else "is_staff"
    return {field: f"Only a superuser can give this account the rights of {names}."}


class PasswordChangeEndsAccess:
    """A password "validator" that validates nothing: Django calls ``password_changed`` of each
    validator when a user's new password is saved (the admin's password forms, the
    ``changepassword`` command, ``set_password`` and save; not the re-hash of a login), so the
    user's API tokens end with the old password, and the change is recorded (without the hash)
    in the account's history. Other browser sessions end by Django's session hash check."""

    def validate(self, password: str, user: Any = None) -> None:
        return None

    def password_changed(self, password: str, user: Any = None) -> None:
        if user is None or user.pk is None:
            return
        from recordkeeping.models import PASSWORD_CHANGED, StaffAccount

        AuthToken.objects.filter(user=user).delete()
        pghistory.create_event(StaffAccount.objects.get(pk=user.pk), label=PASSWORD_CHANGED)

    def get_help_text(self) -> str:
        return ""
