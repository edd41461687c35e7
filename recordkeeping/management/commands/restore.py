from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from recordkeeping.backups import BackupError, restore


class Command(BaseCommand):
    help = (
        "Restore a dump made by `backup` into an empty (or new) database on the same server, "
        "checking its checksum before and every table's row count after."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The .dump file (its .json manifest beside).")
        parser.add_argument("--database", required=True, help="The empty database to restore into.")

    def handle(self, *args: Any, file: Path, database: str, **options: Any) -> None:
        try:
            manifest = restore(dump=file, database=database)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Restored {file.name} into {database}: checksum and the row counts of "
            f"{len(manifest['tables'])} tables match the manifest."
        )
