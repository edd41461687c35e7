"""FHIR export times: ``python bench/fhir_export.py``

In a scratch database beside DATABASE_URL's, seeded with ``seed_demo --patients N`` (10,000 by
default): the time of one patient's Bundle through the API (median over --samples patients,
queries and validation included), then a bulk export of every patient to NDJSON files, as the
``fhir_export`` command and the Celery task run it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from scratch import scratch_database  # bench/scratch.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    with scratch_database("bench_fhir") as url:
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
        try:
            run(args.patients, args.samples)
        finally:
            from django.db import connections

            connections.close_all()


def run(patients: int, samples: int) -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from interop import bulk as exports
    from patients.models import Patient
    from recordkeeping.roles import CLINIC_ADMIN

    setup_test_environment()
    call_command("migrate", verbosity=0)
    call_command("seed_demo", patients=patients, seed=1, verbosity=0)
    admin = get_user_model().objects.create_user("bench-admin", is_staff=True)
    admin.groups.add(django.contrib.auth.models.Group.objects.get(name=CLINIC_ADMIN))
    client = Client()
    client.force_login(admin)

    ids = list(Patient.objects.order_by("?").values_list("pk", flat=True)[:samples])
    times, sizes = [], []
    for pk in ids:
        started = time.perf_counter()
        response = client.get(f"/api/v1/patients/{pk}/fhir/")
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            sys.exit(f"patient {pk}: {response.status_code}")
        sizes.append(len(response.content))
    times.sort()
    print(
        f"one patient's Bundle through the API ({samples} patients): median "
        f"{statistics.median(times):.1f} ms, p95 {times[int(len(times) * 0.95) - 1]:.1f} ms, "
        f"median size {statistics.median(sizes) / 1024:.1f} KiB"
    )

    with tempfile.TemporaryDirectory() as directory:
        export = exports.fhir_export_create()
        started = time.perf_counter()
        export = exports.fhir_export_run(export=export, directory=Path(directory))
        elapsed = time.perf_counter() - started
        size = sum(path.stat().st_size for path in Path(directory).iterdir())
    total = sum(export.counts.values())
    print(
        f"bulk export of {export.patients_done:,} patients: {elapsed:.1f} s "
        f"({elapsed / export.patients_done * 1000:.1f} ms per patient), {total:,} resources, "
        f"{size / 1024 / 1024:.1f} MiB"
    )
    for kind, count in export.counts.items():
        print(f"  {kind}: {count:,}")


if __name__ == "__main__":
    main()
