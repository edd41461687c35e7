"""The models of the app labelled "clinic" (their tables and migrations are this app's): defined
with what they are for, one floor down, and gathered here so that Django finds them with this
app."""

from __future__ import annotations

from interop.models import ExportStatus, FhirExport
from recordkeeping.models import (
    AccessLogEntry,
    AuditChainEntry,
    StaffAccount,
    StaffGroupMembership,
)
from reports.models import CourseChange

__all__ = [
    "AccessLogEntry",
    "AuditChainEntry",
    "CourseChange",
    "ExportStatus",
    "FhirExport",
    "StaffAccount",
    "StaffGroupMembership",
]
