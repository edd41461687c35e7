from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from demo.seed import seed_demo


class Command(BaseCommand):
    help = (
        "Add realistic demo patients with conditions, courses, sessions, side effects, "
        "follow-ups and outcome scores. The same seed on the same day gives the same data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patients", type=int, default=200, help="How many patients.")
        parser.add_argument("--seed", type=int, default=1, help="Random seed.")

    def handle(self, *args: Any, patients: int, seed: int, **options: Any) -> None:
        if patients < 1:
            self.stderr.write("--patients must be at least 1.")
            raise SystemExit(2)
        started = time.perf_counter()
        with tqdm(total=patients, unit="patient", disable=options["verbosity"] == 0) as bar:
            totals = seed_demo(patients=patients, seed=seed, progress=bar.update)
        elapsed = time.perf_counter() - started
        summary = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in totals.items())
        self.stdout.write(f"Seeded {summary} in {elapsed:.1f} s.")
