"""``python manage.py questionnaires_load FILE.json ...``: load questionnaires (the shipped
ones with no file named), e.g. an instrument the clinic holds a licence for."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from questionnaires.loading import questionnaire_load, shipped_definitions


class Command(BaseCommand):
    help = "Load questionnaires from their JSON description (questionnaires/loading.py)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="*", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        files: list[Path] = options["files"]
        definitions = (
            [json.loads(path.read_text()) for path in files] if files else shipped_definitions()
        )
        for data in definitions:
            try:
                questionnaire = questionnaire_load(data=data)
            except (ValidationError, KeyError) as error:
                raise CommandError(f"{data.get('code', '?')}: {error}") from error
            self.stdout.write(f"Loaded {questionnaire}")
