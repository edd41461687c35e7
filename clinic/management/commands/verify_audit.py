from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from clinic.audit import audit_verify
from clinic.models import AuditChainEntry


class Command(BaseCommand):
    help = (
        "Walk the audit hash chain and every audit and history table; name the first broken "
        "or missing entry and exit non-zero when the chain is broken."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        breaks = audit_verify()
        first = next(breaks, None)
        if first is not None:
            raise CommandError(f"Audit chain broken: {first.message}.")
        count = AuditChainEntry.objects.count()
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {count} entries."))
