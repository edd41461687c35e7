from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from recordkeeping.audit import audit_verify, audit_verify_anchors
from recordkeeping.models import AuditChainEntry


class Command(BaseCommand):
    help = (
        "Walk the audit hash chain and every audit and history table; name the first broken "
        "or missing entry and exit non-zero when the chain is broken. With --anchor, also check "
        "the chain still holds every published head in that file (see AUDIT_ANCHOR_PATH)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--anchor",
            action="append",
            default=[],
            metavar="FILE",
            help="A file of published chain heads, one JSON line each (may be repeated).",
        )

    def handle(self, *args: Any, anchor: list[str], **options: Any) -> None:
        first = next(audit_verify(), None)
        for path in anchor:
            if first is not None:
                break
            lines = anchor_lines(path)
            first = next(audit_verify_anchors(lines=lines, source=path), None)
        if first is not None:
            raise CommandError(f"Audit chain broken: {first.message}.")
        count = AuditChainEntry.objects.count()
        held = f"; it holds the published heads of {', '.join(anchor)}" if anchor else ""
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {count} entries{held}."))


def anchor_lines(path: str) -> list[str]:
    try:
        return Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not a text file"
        raise CommandError(f"Cannot read the anchor file {path}: {reason}.") from error
