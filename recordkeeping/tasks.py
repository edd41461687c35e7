"""Background work of the audit trail: thin wrappers around services."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from celery import shared_task
from django.conf import settings

from recordkeeping import audit


# Named as before the code moved: queued messages and the beat schedule name tasks.
@shared_task(name="clinic.tasks.audit_anchor")
def audit_anchor() -> dict[str, Any]:
    return audit.audit_anchor_publish(path=Path(settings.AUDIT_ANCHOR_PATH))
