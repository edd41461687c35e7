from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from interop import bulk as exports
from recordkeeping.models import AccessLogEntry


class Command(BaseCommand):
    help = (
        "Export the whole clinic as FHIR R4 in the bulk-data layout: one NDJSON file per "
        "resource type, with a progress bar."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--out",
            type=Path,
            help="Directory for the files (default var/exports/<id>/, which the API serves).",
        )

    def handle(self, *args: Any, out: Path | None, **options: Any) -> None:
        export = exports.fhir_export_create()
        directory = out or export.directory
        with tqdm(
            total=export.patients_total, unit="patient", disable=options["verbosity"] == 0
        ) as bar:
            export = exports.fhir_export_run(
                export=export,
                directory=directory,
                progress=lambda done, total: bar.update(done - bar.n),
            )
        # Exports leave a trace in the access log also when they do not come through the web.
        AccessLogEntry.objects.create(
            username=f"shell:{getpass.getuser()}"[:150],
            action="command.fhir-export",
            method="",
            path=str(directory)[:500],
            status=200,
        )
        for kind, count in export.counts.items():
            self.stdout.write(f"{directory / f'{kind}.ndjson'}: {count} resources")
