"""The records that keep the record honest: who read patient data (the access log), the hash
chain over every audit and history row, the history of staff accounts, and the fields every
record carries.

Their tables and migrations belong to the app labelled "clinic" (clinic/migrations/), as they
have since they were made; the code lives with what it is for, the label stays (moving it would
rename nothing and migrate for nothing).
"""

from __future__ import annotations

from typing import Any

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AccessLogEntry(models.Model):
    """A read of patient data, a failed login or a refusal: who, what, when, from where."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    username = models.CharField(max_length=150, blank=True)
    ip = models.GenericIPAddressField("client IP", null=True, blank=True)
    action = models.CharField(max_length=80)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    status = models.PositiveSmallIntegerField()
    patient_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        app_label = "clinic"
        verbose_name_plural = "access log"
        ordering = ["-at", "-id"]
        indexes = [
            GinIndex(fields=["patient_ids"], name="clinic_access_patients_idx"),
            models.Index(fields=["user", "at"], name="clinic_access_user_idx"),
        ]
        triggers = [
            pgtrigger.Protect(
                name="access_log_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            )
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username or '-'} {self.action}"


class AuditChainEntry(models.Model):
    """One link of the hash chain over every audit and history row (see clinic.audit).

    An entry covers the rows one statement inserted into one table: their keys and digests.
    """

    position = models.BigIntegerField(unique=True)
    table_name = models.CharField(max_length=63)
    row_keys = ArrayField(models.BigIntegerField())
    row_digests = ArrayField(models.CharField(max_length=64))
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        app_label = "clinic"
        ordering = ["position"]
        indexes = [models.Index(fields=["table_name"], name="clinic_chain_table_idx")]
        triggers = [
            pgtrigger.Protect(
                name="audit_chain_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            )
        ]

    def __str__(self) -> str:
        return f"#{self.position} {self.table_name} ({len(self.row_keys)} rows)"


ADDED_TO_GROUP = "group.add"
REMOVED_FROM_GROUP = "group.remove"
PASSWORD_CHANGED = "password.change"  # noqa: S105 - an event's label, not a password


# Staff accounts and their groups are tracked through proxies of Django's own models, so the
# triggers and event tables live in the clinic app's migrations. Passwords and login times are
# not copied: no password hash belongs in an audit table, and a login is not a change of the
# account. (pghistory also puts each event model in clinic/models.py, the app's models module.)
class StaffAccount(User):
    """A staff member's login account (Django's user), as its change history sees it."""

    class Meta:
        app_label = "clinic"
        proxy = True
        verbose_name = "staff account"


# Event models are made at run time: mypy knows neither their fields nor their manager.
StaffAccountEvent: type[Any] = pghistory.create_event_model(
    StaffAccount,
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    pghistory.ManualEvent(PASSWORD_CHANGED),  # recordkeeping.staff.PasswordChangeEndsAccess
    exclude=["password", "last_login"],
    model_name="StaffAccountEvent",
    append_only=True,
    level=pgtrigger.Statement,
    abstract=False,
)


# The through model is made at run time, so mypy cannot take it as a base class.
class StaffGroupMembership(User.groups.through):  # type: ignore[name-defined]
    """A staff account's membership of a group (a role): added (insert) or removed (delete)."""

    class Meta:
        app_label = "clinic"
        proxy = True
        verbose_name = "group membership"


StaffGroupEvent: type[Any] = pghistory.create_event_model(
    StaffGroupMembership,
    pghistory.InsertEvent(ADDED_TO_GROUP),
    pghistory.DeleteEvent(REMOVED_FROM_GROUP),
    # A membership row is gone once removed; the event names user and group. (pghistory
    # documents None here, but its annotation leaves it out.)
    obj_field=None,  # type: ignore[arg-type]
    model_name="StaffGroupEvent",
    append_only=True,
    level=pgtrigger.Statement,
    abstract=False,
)
