from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from recordkeeping.backups import BackupError, backup


class Command(BaseCommand):
    help = (
        "Write a consistent, compressed dump of the database (pg_dump custom format) with a "
        "manifest: its SHA-256 and the row count of every table, counted in the dump's snapshot."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--out",
            type=Path,
            help="A directory (default var/backups/) or a file path ending in .dump.",
        )

    def handle(self, *args: Any, out: Path | None, **options: Any) -> None:
        try:
            path, manifest = backup(out=out or Path(settings.VAR_DIR) / "backups")
        except BackupError as error:
            raise CommandError(str(error)) from error
        rows = sum(manifest["tables"].values())
        self.stdout.write(
            f"{path} ({manifest['bytes']:,} bytes, {len(manifest['tables'])} tables, "
            f"{rows:,} rows, sha256 {manifest['sha256']})"
        )
